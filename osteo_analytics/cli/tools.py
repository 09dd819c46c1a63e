"""Helpers shared by the command modules: French click, secrets from env or prompt, unlocking.

Secrets never come from command-line arguments (shell history, `ps`): an environment
variable or a hidden prompt on a terminal, nothing else.

Importing this module makes click French (`click_fr.install()`): click evaluates some of
its strings when a command is defined, and every command module imports this one before
defining its commands.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from osteo_analytics.cli import french as click_fr
from osteo_analytics.errors import UsageError

if TYPE_CHECKING:
    from osteo_analytics.workspace import Unlocked, Workspace

ENV_PASSPHRASE = "OSTEO_PASSPHRASE"
ENV_NEW_PASSPHRASE = "OSTEO_NEW_PASSPHRASE"
ENV_RECOVERY_CODE = "OSTEO_RECOVERY_CODE"
ENV_EXCEL_PASSWORD = "OSTEO_EXCEL_PASSWORD"

click_fr.install()

F = TypeVar("F", bound=Callable[..., Any])


class Group(click.Group):
    """A command group whose usage line is French (click does not translate its metavar)."""

    group_class = type  # groups made with @group.group() are of this class too

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("subcommand_metavar", "COMMANDE [ARGS]...")
        super().__init__(*args, **kwargs)


class EnvVarOption(click.Option):
    """An option that also reads an environment variable, named in French in its errors.

    Click appends an untranslated " (env var: ...)" to the option in an error message.
    """

    def get_error_hint(self, ctx: click.Context | None) -> str:
        hint = click.Parameter.get_error_hint(self, ctx)
        if self.show_envvar and self.envvar:
            names = [self.envvar] if isinstance(self.envvar, str) else list(self.envvar)
            hint += f" (variable d'environnement {', '.join(repr(n) for n in names)})"
        return hint


def secret(env: str, prompt: str, *, confirm: bool = False) -> str:
    """A secret from its environment variable, else from a hidden prompt (never an argument)."""
    value = os.environ.get(env)
    if value:
        return value
    if not sys.stdin.isatty():
        raise UsageError(f"{prompt} : définissez {env} ou lancez la commande dans un terminal")
    return str(
        click.prompt(
            prompt,
            hide_input=True,
            confirmation_prompt="Confirmez" if confirm else False,
            prompt_suffix=" : ",
            err=True,
        )
    )


def open_workspace(ctx: click.Context) -> Workspace:
    from osteo_analytics.workspace import Workspace

    return Workspace(ctx.obj["workspace"]).require()


def unlock(ctx: click.Context) -> Unlocked:
    return open_workspace(ctx).unlock(secret(ENV_PASSPHRASE, "Phrase de passe"))


def server_options(default_port: int) -> Callable[[F], F]:
    """`--port`, `--token-file` and `--log`, shared by `osteo serve` and `osteo lab`."""

    def decorate(command: F) -> F:
        for option in reversed(
            [
                click.option(
                    "--port",
                    type=click.IntRange(1024, 65535),
                    default=default_port,
                    show_default=True,
                    help="Port d'écoute, sur 127.0.0.1 seulement.",
                ),
                click.option(
                    "--token-file",
                    type=click.Path(dir_okay=False, path_type=Path),
                    help="Écrit aussi le jeton d'accès dans ce fichier (lisible par vous seul, "
                    "effacé à l'arrêt), pour un script ou un test.",
                ),
                click.option(
                    "--log",
                    "log_file",
                    type=click.Path(dir_okay=False, path_type=Path),
                    help="Ajoute le journal du serveur (requêtes, noyaux, erreurs) à ce fichier "
                    "(lisible par vous seul), pour un diagnostic.",
                ),
            ]
        ):
            command = option(command)
        return command

    return decorate


def bundle_option(what: str) -> Callable[[F], F]:
    """`--bundle FILE`: an accountant's bundle (osteo share), opened with the key of the
    workspace given; `what` says what the command does with it."""
    return click.option(
        "--bundle",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Un lot chiffré reçu du cabinet (osteo share), ouvert avec la clé de cet espace "
        f"(celui du comptable) : {what}",
    )

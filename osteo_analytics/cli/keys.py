"""`osteo init` and `osteo keys`: the workspace, its passphrase, recovery code and key."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from osteo_analytics.cli.tools import (
    ENV_NEW_PASSPHRASE,
    ENV_PASSPHRASE,
    ENV_RECOVERY_CODE,
    Group,
    open_workspace,
    secret,
)
from osteo_analytics.errors import UsageError

if TYPE_CHECKING:
    from osteo_analytics.workspace import Workspace


def _print_recovery_code(code: str) -> None:
    click.echo("")
    click.echo("CODE DE SECOURS — affiché une seule fois. Recopiez-le sur papier et gardez-le")
    click.echo(
        "à part : c'est le seul moyen d'ouvrir vos données si la phrase de passe est perdue."
    )
    click.echo("")
    click.echo(f"    {code}")
    click.echo("")


@click.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Crée l'espace de travail chiffré (clés, dossiers, journal d'audit).

    La phrase de passe vient d'une saisie masquée (demandée deux fois) ou de
    OSTEO_PASSPHRASE. Affiche une seule fois le code de secours à recopier sur papier.
    """
    from osteo_analytics.workspace import Workspace, init_workspace

    root = ctx.obj["workspace"]
    if Workspace(root).exists():
        raise UsageError(f"{root} contient déjà un espace de travail : rien n'a été modifié")
    passphrase = secret(ENV_PASSPHRASE, "Nouvelle phrase de passe", confirm=True)
    result = init_workspace(root, passphrase)
    click.echo(f"Espace de travail créé : {root}")
    click.echo(f"Clé : {result.unlocked.secrets.key_id}")
    _print_recovery_code(result.recovery_code)


@click.group(cls=Group)
def keys() -> None:
    """Phrase de passe, code de secours et rotation de la clé de chiffrement."""


@keys.command()
@click.pass_context
def passwd(ctx: click.Context) -> None:
    """Change la phrase de passe (OSTEO_PASSPHRASE puis OSTEO_NEW_PASSPHRASE, ou saisie)."""
    from osteo_analytics.workspace import change_passphrase

    _replace_passphrase(ctx, ENV_PASSPHRASE, "Phrase de passe actuelle", change_passphrase)
    click.echo("Phrase de passe changée. Le code de secours reste valable.")


@keys.command()
@click.pass_context
def recover(ctx: click.Context) -> None:
    """Définit une nouvelle phrase de passe grâce au code de secours.

    Le code vient d'une saisie masquée ou de OSTEO_RECOVERY_CODE, la nouvelle phrase de
    passe d'une saisie masquée ou de OSTEO_NEW_PASSPHRASE.
    """
    from osteo_analytics.workspace import recover as recover_workspace

    _replace_passphrase(ctx, ENV_RECOVERY_CODE, "Code de secours", recover_workspace)
    click.echo("Nouvelle phrase de passe enregistrée. Le code de secours reste valable.")


def _replace_passphrase(
    ctx: click.Context, env: str, prompt: str, replace: Callable[[Workspace, str, str], object]
) -> None:
    """What proves the right to it (`env` or a prompt), then the new passphrase, twice."""
    workspace = open_workspace(ctx)
    proof = secret(env, prompt)
    replace(workspace, proof, secret(ENV_NEW_PASSPHRASE, "Nouvelle phrase de passe", confirm=True))


@keys.command()
@click.pass_context
def rotate(ctx: click.Context) -> None:
    """Remplace la clé de chiffrement et rechiffre tous les instantanés.

    Les pseudonymes ne changent pas. Un nouveau code de secours est affiché : l'ancien
    n'ouvre plus la nouvelle clé.
    """
    from osteo_analytics.workspace import rotate as rotate_workspace

    workspace = open_workspace(ctx)
    passphrase = secret(ENV_PASSPHRASE, "Phrase de passe")
    unlocked, code = rotate_workspace(
        workspace, passphrase, progress=lambda name: click.echo(f"  rechiffré : {name}")
    )
    click.echo(f"Nouvelle clé : {unlocked.secrets.key_id}")
    _print_recovery_code(code)


@keys.command()
@click.option(
    "--role",
    type=click.Choice(["accountant"]),
    required=True,
    help="accountant : l'espace d'un expert-comptable ou d'une AGA, qui ouvre les lots "
    "financiers que le cabinet lui chiffre.",
)
@click.pass_context
def new(ctx: click.Context, role: str) -> None:
    """Crée l'espace de travail d'un comptable, avec sa propre clé age.

    Affiche la clé publique (age1…) à donner au cabinet pour `osteo share --to`, et le
    code de secours une seule fois. La phrase de passe vient d'une saisie masquée
    (demandée deux fois) ou de OSTEO_PASSPHRASE.
    """
    from osteo_analytics.workspace import Workspace, init_workspace

    root = ctx.obj["workspace"]
    if Workspace(root).exists():
        raise UsageError(f"{root} contient déjà un espace de travail : rien n'a été modifié")
    passphrase = secret(ENV_PASSPHRASE, "Nouvelle phrase de passe", confirm=True)
    result = init_workspace(root, passphrase, role=role)
    click.echo(f"Espace comptable créé : {root}")
    click.echo("Clé publique à donner au cabinet (osteo share --to …) :")
    click.echo("")
    click.echo(f"    {result.unlocked.secrets.recipient}")
    _print_recovery_code(result.recovery_code)

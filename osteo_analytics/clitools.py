"""Helpers shared by the command modules: secrets from env or hidden prompt, unlocking.

Secrets never come from command-line arguments (shell history, `ps`): an environment
variable or a hidden prompt on a terminal, nothing else.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from .errors import UsageError

if TYPE_CHECKING:
    from .workspace import Unlocked, Workspace

ENV_PASSPHRASE = "OSTEO_PASSPHRASE"
ENV_NEW_PASSPHRASE = "OSTEO_NEW_PASSPHRASE"
ENV_RECOVERY_CODE = "OSTEO_RECOVERY_CODE"
ENV_EXCEL_PASSWORD = "OSTEO_EXCEL_PASSWORD"


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
            err=True,
        )
    )


def open_workspace(ctx: click.Context) -> Workspace:
    from .workspace import Workspace

    return Workspace(ctx.obj["workspace"]).require()


def unlock(ctx: click.Context) -> Unlocked:
    return open_workspace(ctx).unlock(secret(ENV_PASSPHRASE, "Phrase de passe"))

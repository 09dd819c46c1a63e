"""`osteo demo`: a synthetic practice generated, imported, encrypted and checked."""

from __future__ import annotations

import os
from pathlib import Path

import click

from osteo_analytics.settings import ENV_WORKSPACE


@click.command()
@click.option(
    "--no-serve", is_flag=True, help="Ne pas lancer les tableaux de bord (vérifications seules)."
)
@click.option(
    "--port",
    type=click.IntRange(1024, 65535),
    default=8866,
    show_default=True,
    help="Port des tableaux de bord sur 127.0.0.1 (le suivant s'il est pris).",
)
@click.option(
    "--open/--no-open",
    "open_browser",
    default=True,
    show_default=True,
    help="Ouvrir les tableaux de bord dans le navigateur du bureau, s'il y en a un.",
)
@click.pass_context
def demo(ctx: click.Context, no_serve: bool, port: int, open_browser: bool) -> None:
    """Démonstration : un cabinet fictif généré, importé, chiffré et vérifié.

    Sans --workspace, l'espace de travail de démonstration est temporaire et supprimé à la
    fin ; sa phrase de passe vient de OSTEO_PASSPHRASE ou est tirée au hasard et gardée en
    mémoire seulement.
    """
    from osteo_analytics.demo import run_demo

    explicit = ctx.find_root().params.get("workspace") or os.environ.get(ENV_WORKSPACE)
    run_demo(
        Path(explicit) if explicit else None,
        serve=not no_serve,
        echo=click.echo,
        port=port,
        open_browser=open_browser,
    )

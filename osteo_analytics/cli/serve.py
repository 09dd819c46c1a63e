"""`osteo serve`: the dashboards, read-only, in a browser on this computer."""

from __future__ import annotations

from pathlib import Path

import click

from osteo_analytics.cli.tools import server_options, unlock

APP_CHOICES = ("revenue", "activity", "quality", "accountant", "all")


@click.command()
@click.option(
    "--app",
    "app",
    type=click.Choice(APP_CHOICES),
    default="all",
    show_default=True,
    help="Application à servir : recettes (revenue), activité (activity), qualité et "
    "conservation (quality), comptabilité (accountant), ou les trois premières (all).",
)
@server_options(8866)
@click.pass_context
def serve(
    ctx: click.Context, app: str, port: int, token_file: Path | None, log_file: Path | None
) -> None:
    """Sert les tableaux de bord en lecture seule sur 127.0.0.1 et affiche leur adresse.

    L'espace de travail est déverrouillé une fois (OSTEO_PASSPHRASE ou une saisie
    masquée) ; les données restent déchiffrées en mémoire. L'adresse affichée contient un
    jeton d'accès aléatoire, nouveau à chaque lancement. Ctrl-C arrête tout et ne laisse
    aucun fichier.
    """
    from osteo_analytics.serve import APPS
    from osteo_analytics.serve import serve as run

    unlocked = unlock(ctx)
    apps = APPS if app == "all" else (app,)
    run(unlocked, apps=apps, port=port, token_file=token_file, log_file=log_file, echo=click.echo)

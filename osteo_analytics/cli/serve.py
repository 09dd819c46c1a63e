"""`osteo serve`: the dashboards, read-only, in a browser on this computer."""

from __future__ import annotations

from pathlib import Path

import click

from osteo_analytics.cli.tools import bundle_option, server_options, unlock
from osteo_analytics.errors import UsageError

APP_CHOICES = ("revenue", "activity", "quality", "accountant", "all")


@click.command()
@click.option(
    "--app",
    "app",
    type=click.Choice(APP_CHOICES),
    default=None,
    help="Application à servir : recettes (revenue), activité (activity), qualité et "
    "conservation (quality), toutes les trois (all, le défaut), ou l'explorateur du "
    "comptable (accountant, le défaut avec --bundle).",
)
@bundle_option("sert l'explorateur du comptable sur ce lot.")
@server_options(8866)
@click.pass_context
def serve(
    ctx: click.Context,
    app: str | None,
    bundle: Path | None,
    port: int,
    token_file: Path | None,
    log_file: Path | None,
) -> None:
    """Sert les tableaux de bord en lecture seule sur 127.0.0.1 et affiche leur adresse.

    L'espace de travail est déverrouillé une fois (OSTEO_PASSPHRASE ou une saisie
    masquée) ; les données restent déchiffrées en mémoire. L'adresse affichée contient un
    jeton d'accès aléatoire, nouveau à chaque lancement. Ctrl-C arrête tout et ne laisse
    aucun fichier.
    """
    from osteo_analytics.serve import ACCOUNTANT, APPS
    from osteo_analytics.serve import serve as run
    from osteo_analytics.share import open_bundle

    if bundle is not None and app not in (None, ACCOUNTANT):
        raise UsageError("--bundle ne sert que l'explorateur du comptable (--app accountant)")
    unlocked = unlock(ctx)
    if bundle is None and unlocked.workspace.role == "accountant":
        raise UsageError(
            "espace de comptable : donnez le lot reçu du cabinet avec --bundle FICHIER"
        )
    if bundle is not None:
        # Opened once here: a wrong key or a damaged file is one line before any server.
        with open_bundle(bundle, unlocked.identities, settings_root=unlocked.workspace.root):
            pass
        apps: tuple[str, ...] = (ACCOUNTANT,)
    else:
        apps = APPS if app in (None, "all") else (app,)
    run(
        unlocked,
        apps=apps,
        port=port,
        token_file=token_file,
        log_file=log_file,
        bundle=bundle,
        echo=click.echo,
    )

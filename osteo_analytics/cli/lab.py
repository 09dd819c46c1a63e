"""`osteo lab`: JupyterLab on 127.0.0.1 for ad-hoc analysis, unlocked like `osteo serve`."""

from __future__ import annotations

from pathlib import Path

import click

from osteo_analytics.cli.tools import unlock


@click.command()
@click.option(
    "--port",
    type=click.IntRange(1024, 65535),
    default=8888,
    show_default=True,
    help="Port d'écoute, sur 127.0.0.1 seulement.",
)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Écrit aussi le jeton d'accès dans ce fichier (lisible par vous seul, effacé à l'arrêt).",
)
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Dossier des carnets (par défaut : notebooks/ du dépôt, sinon celui de l'espace "
    "de travail).",
)
@click.pass_context
def lab(ctx: click.Context, port: int, token_file: Path | None, folder: Path | None) -> None:
    """JupyterLab sur 127.0.0.1 pour explorer les données (carnet de départ : explore.ipynb).

    Dossier des carnets : notebooks/ du dépôt, sinon celui de l'espace de travail. Les
    carnets sont enregistrés sans leurs résultats : rien de calculé n'est écrit sur le
    disque ni ne part dans git. Déverrouillage une fois (OSTEO_PASSPHRASE ou une saisie
    masquée) ; Ctrl-C arrête tout.
    """
    from osteo_analytics.serve import lab_dir, serve

    unlocked = unlock(ctx)
    root = folder or lab_dir(unlocked.workspace.root)
    serve(unlocked, port=port, token_file=token_file, echo=click.echo, lab_root=root)

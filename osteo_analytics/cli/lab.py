"""`osteo lab`: JupyterLab on 127.0.0.1 for ad-hoc analysis, unlocked like `osteo serve`."""

from __future__ import annotations

from pathlib import Path

import click

from osteo_analytics.cli.tools import server_options, unlock


@click.command()
@server_options(8888)
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Dossier des carnets (par défaut : notebooks/ du dépôt, sinon celui de l'espace "
    "de travail).",
)
@click.pass_context
def lab(
    ctx: click.Context,
    port: int,
    token_file: Path | None,
    log_file: Path | None,
    folder: Path | None,
) -> None:
    """JupyterLab sur 127.0.0.1 pour explorer les données (carnet de départ : explore.ipynb).

    Dossier des carnets : notebooks/ du dépôt, sinon celui de l'espace de travail. Les
    carnets sont enregistrés sans leurs résultats : rien de calculé n'est écrit sur le
    disque ni ne part dans git. Déverrouillage une fois (OSTEO_PASSPHRASE ou une saisie
    masquée) ; Ctrl-C arrête tout.
    """
    from osteo_analytics.serve import lab_dir, serve

    unlocked = unlock(ctx)
    root = folder or lab_dir(unlocked.workspace.root)
    serve(
        unlocked,
        port=port,
        token_file=token_file,
        log_file=log_file,
        echo=click.echo,
        lab_root=root,
    )

"""`osteo import` and `osteo synth`: raw exports in, and a synthetic practice to try it on."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from osteo_analytics.cli.tools import ENV_EXCEL_PASSWORD, secret, unlock
from osteo_analytics.errors import UsageError
from osteo_analytics.sources import ADAPTERS


@click.command()
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Dossier à créer (absent ou vide).",
)
@click.option(
    "--seed", default=42, show_default=True, help="Graine aléatoire : même graine, mêmes fichiers."
)
@click.option("--years", default=3, show_default=True, help="Nombre d'années civiles simulées.")
@click.option(
    "--practitioners", default=2, show_default=True, help="Nombre de praticiens du cabinet."
)
@click.option(
    "--patients",
    type=int,
    default=None,
    help="Taille de la patientèle (par défaut : selon l'activité).",
)
@click.option(
    "--scale",
    default=1.0,
    show_default=True,
    help="Multiplicateur d'activité (100 avec --years 20 ≈ 10 millions de consultations).",
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(["libreosteo", "ledger"]),
    help="Formats à écrire (répétable). Par défaut : tous.",
)
def synth(
    out: Path,
    seed: int,
    years: int,
    practitioners: int,
    patients: int | None,
    scale: float,
    formats: tuple[str, ...],
) -> None:
    """Génère un cabinet fictif, déterministe, dans les formats bruts que lit l'import.

    Un sous-dossier par format (libreosteo/, ledger/), chacun avec son ground_truth.json,
    plus le ground_truth.json du cabinet (même schéma que `osteo metrics --format json`).
    """
    from osteo_analytics.report import describe_synth
    from osteo_analytics.synthetic import synthesize

    summary = synthesize(
        out,
        seed=seed,
        years=years,
        practitioners=practitioners,
        patients=patients,
        scale=scale,
        formats=formats or ("libreosteo", "ledger"),
    )
    click.echo(describe_synth(summary))


@click.command(name="import")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="[CHEMIN]...")
@click.option(
    "--format",
    "fmt",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", *sorted(ADAPTERS)]),
    help="Format des fichiers ; auto le reconnaît aux en-têtes (generic exige --mapping).",
)
@click.option(
    "--mapping",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Fichier YAML qui décrit les colonnes d'un tableur (format generic).",
)
@click.option(
    "--suggest-mapping",
    "suggest",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Affiche un brouillon de fichier de correspondance pour ce tableur, sans rien importer.",
)
@click.option("--json", "as_json", is_flag=True, help="Résumé JSON (format documenté, stable).")
@click.pass_context
def import_(
    ctx: click.Context,
    paths: tuple[Path, ...],
    fmt: str,
    mapping: Path | None,
    suggest: Path | None,
    as_json: bool,
) -> None:
    """Importe des exports (fichiers ou dossiers) dans un nouvel instantané chiffré.

    Chaque fichier est lu, validé par les contrats de données, pseudonymisé ; les lignes
    refusées vont en quarantaine chiffrée avec leur motif. Réimporter le même export ne
    change rien. Le mot de passe d'un classeur Excel protégé vient de
    OSTEO_EXCEL_PASSWORD ou d'une saisie masquée.
    """

    def excel_password(path: Path) -> str:
        return secret(ENV_EXCEL_PASSWORD, f"Mot de passe du classeur {path.name}")

    if suggest is not None:
        from osteo_analytics.sources.generic import suggest_mapping

        if not suggest.is_file():
            raise UsageError(f"{suggest} : fichier introuvable")
        click.echo(suggest_mapping(suggest, password=excel_password), nl=False)
        return
    if not paths:
        raise UsageError("indiquez au moins un fichier ou dossier à importer")
    from osteo_analytics.ingest import import_paths
    from osteo_analytics.report import import_progress, print_import

    unlocked = unlock(ctx)
    with import_progress(enabled=not as_json and sys.stderr.isatty()) as progress:
        result = import_paths(
            unlocked,
            list(paths),
            fmt=fmt,
            mapping=mapping,
            password=excel_password,
            progress=progress,
        )
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        print_import(result)

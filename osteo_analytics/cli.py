"""The `osteo` command line: the only place (with the dashboards) that turns errors into messages.

Exit codes (DESIGN.md): 0 success, 1 the operation failed, 2 bad usage or unreadable input.
Secrets never come from arguments: hidden prompts or environment variables only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import __version__
from .errors import OsteoError
from .settings import ENV_WORKSPACE, resolve_workspace

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _fail(message: str, code: int) -> None:
    click.echo(f"Erreur : {message}", err=True)
    sys.exit(code)


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="osteo")
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=ENV_WORKSPACE,
    show_envvar=True,
    help="Dossier de travail (clés, instantanés chiffrés, journal d'audit). "
    "Par défaut : le dossier de données de l'utilisateur.",
)
@click.pass_context
def cli(ctx: click.Context, workspace: Path | None) -> None:
    """osteo-analytics : les chiffres du cabinet d'ostéopathie, chiffrés et pseudonymisés.

    Importe les exports du cabinet, les conserve en instantanés chiffrés (age) et affiche
    les tableaux de bord de recettes et d'activité. Rien de lisible n'est écrit sur le disque.
    """
    ctx.obj = {"workspace": resolve_workspace(workspace)}


@cli.command()
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
    from .synthetic import synthesize

    kwargs = {"formats": formats} if formats else {}
    summary = synthesize(
        out,
        seed=seed,
        years=years,
        practitioners=practitioners,
        patients=patients,
        scale=scale,
        **kwargs,
    )
    click.echo(summary.describe())


def main() -> None:
    """Console entry point: run the group, turn every error into one line and an exit code."""
    try:
        cli.main(prog_name="osteo", standalone_mode=False)
    except click.exceptions.Abort:
        _fail("interrompu.", 1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except OsteoError as exc:
        _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrompu.", 1)
    except Exception as exc:  # a bug: say so in one line; the traceback only on request
        if os.environ.get("OSTEO_DEBUG"):
            raise
        _fail(
            f"erreur interne ({exc.__class__.__name__}). Relancez avec OSTEO_DEBUG=1 "
            "pour le détail et signalez-la.",
            1,
        )
    else:
        sys.exit(0)


if __name__ == "__main__":
    main()

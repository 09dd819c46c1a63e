"""The `osteo` command line: the only place (with the dashboards) that turns errors into messages.

Exit codes (DESIGN.md): 0 success, 1 the operation failed, 2 bad usage or unreadable input.
Secrets never come from arguments: hidden prompts or environment variables only.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from . import __version__, snapshots
from .clitools import (
    ENV_EXCEL_PASSWORD,
    ENV_NEW_PASSPHRASE,
    ENV_PASSPHRASE,
    ENV_RECOVERY_CODE,
    EnvVarOption,
    Group,
    open_workspace,
    secret,
    unlock,
)
from .errors import Hint, OsteoError, UsageError
from .settings import ENV_WORKSPACE, resolve_workspace
from .sources import ADAPTERS

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _print_recovery_code(code: str) -> None:
    click.echo("")
    click.echo("CODE DE SECOURS — affiché une seule fois. Recopiez-le sur papier et gardez-le")
    click.echo(
        "à part : c'est le seul moyen d'ouvrir vos données si la phrase de passe est perdue."
    )
    click.echo("")
    click.echo(f"    {code}")
    click.echo("")


def _fail(message: str, code: int) -> None:
    click.echo(f"Erreur : {message}", err=True)
    sys.exit(code)


# How to fix what the library reports, in this surface's words (options, commands,
# environment variables): the library only says what went wrong and gives a Hint.
# Each text follows the library's message on the same line.
ADVICE: dict[Hint, str] = {
    Hint.CHOOSE_FORMAT: " ; précisez le format avec --format",
    Hint.MAPPING_REQUIRED: (
        " : ajoutez --mapping M.yaml (un brouillon : osteo import --suggest-mapping FICHIER)"
    ),
    Hint.MAPPING_WITHOUT_GENERIC: " : retirez --mapping ou ajoutez --format generic",
    Hint.DESCRIBE_COLUMNS: (
        " ; renommez les colonnes ou décrivez-les dans un fichier de correspondance"
        " (--format generic --mapping M.yaml)"
    ),
    Hint.EXCEL_PASSWORD: (
        f" ; indiquez le mot de passe dans {ENV_EXCEL_PASSWORD} ou quand la commande le demande"
    ),
    Hint.EXCEL_PASSWORD_WRONG: f" ; vérifiez {ENV_EXCEL_PASSWORD} ou le mot de passe saisi",
    Hint.CREATE_WORKSPACE: " : créez-le avec `osteo init` ou indiquez le bon avec --workspace",
    Hint.RECOVER_PASSPHRASE: " (oubliée ? `osteo keys recover` avec le code de secours)",
    Hint.IMPORT_FIRST: " ; importez d'abord des données avec `osteo import`",
    Hint.VERIFY_AUDIT: " : lancez `osteo audit verify`",
    Hint.LIST_QUARANTINES: " ; `osteo quarantine list` donne celles de l'espace de travail",
}


def describe(error: OsteoError) -> str:
    """The line a person reads: what went wrong, then how to fix it with this command line."""
    advice = ADVICE.get(error.hint, "") if error.hint is not None else ""
    return f"{error}{advice}"


@click.group(cls=Group, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="osteo")
@click.option(
    "--workspace",
    cls=EnvVarOption,
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
    from .report import describe_synth
    from .synthetic import synthesize

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


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Crée l'espace de travail chiffré (clés, dossiers, journal d'audit).

    La phrase de passe vient d'une saisie masquée (demandée deux fois) ou de
    OSTEO_PASSPHRASE. Affiche une seule fois le code de secours à recopier sur papier.
    """
    from .workspace import Workspace, init_workspace

    root = ctx.obj["workspace"]
    if Workspace(root).exists():
        raise UsageError(f"{root} contient déjà un espace de travail : rien n'a été modifié")
    passphrase = secret(ENV_PASSPHRASE, "Nouvelle phrase de passe", confirm=True)
    result = init_workspace(root, passphrase)
    click.echo(f"Espace de travail créé : {root}")
    click.echo(f"Clé : {result.unlocked.secrets.key_id}")
    _print_recovery_code(result.recovery_code)


@cli.group()
def keys() -> None:
    """Phrase de passe, code de secours et rotation de la clé de chiffrement."""


@keys.command()
@click.pass_context
def passwd(ctx: click.Context) -> None:
    """Change la phrase de passe (OSTEO_PASSPHRASE puis OSTEO_NEW_PASSPHRASE, ou saisie)."""
    from .workspace import change_passphrase

    workspace = open_workspace(ctx)
    old = secret(ENV_PASSPHRASE, "Phrase de passe actuelle")
    new = secret(ENV_NEW_PASSPHRASE, "Nouvelle phrase de passe", confirm=True)
    change_passphrase(workspace, old, new)
    click.echo("Phrase de passe changée. Le code de secours reste valable.")


@keys.command()
@click.pass_context
def recover(ctx: click.Context) -> None:
    """Définit une nouvelle phrase de passe grâce au code de secours.

    Le code vient d'une saisie masquée ou de OSTEO_RECOVERY_CODE, la nouvelle phrase de
    passe d'une saisie masquée ou de OSTEO_NEW_PASSPHRASE.
    """
    from .workspace import recover as recover_workspace

    workspace = open_workspace(ctx)
    code = secret(ENV_RECOVERY_CODE, "Code de secours")
    new = secret(ENV_NEW_PASSPHRASE, "Nouvelle phrase de passe", confirm=True)
    recover_workspace(workspace, code, new)
    click.echo("Nouvelle phrase de passe enregistrée. Le code de secours reste valable.")


@keys.command()
@click.pass_context
def rotate(ctx: click.Context) -> None:
    """Remplace la clé de chiffrement et rechiffre tous les instantanés.

    Les pseudonymes ne changent pas. Un nouveau code de secours est affiché : l'ancien
    n'ouvre plus la nouvelle clé.
    """
    from .workspace import rotate as rotate_workspace

    workspace = open_workspace(ctx)
    passphrase = secret(ENV_PASSPHRASE, "Phrase de passe")
    unlocked, code = rotate_workspace(
        workspace, passphrase, progress=lambda name: click.echo(f"  rechiffré : {name}")
    )
    click.echo(f"Nouvelle clé : {unlocked.secrets.key_id}")
    _print_recovery_code(code)


@cli.command(name="import")
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
    if suggest is not None:
        from .sources.generic import suggest_mapping

        if not suggest.is_file():
            raise UsageError(f"{suggest} : fichier introuvable")
        click.echo(suggest_mapping(suggest), nl=False)
        return
    if not paths:
        raise UsageError("indiquez au moins un fichier ou dossier à importer")
    from .ingest import import_paths
    from .report import import_progress, print_import

    def excel_password(path: Path) -> str:
        return secret(ENV_EXCEL_PASSWORD, f"Mot de passe du classeur {path.name}")

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


@cli.group()
def audit() -> None:
    """Journal d'audit : qui a fait quoi, chaîné et vérifiable."""


@audit.command()
@click.pass_context
def verify(ctx: click.Context) -> None:
    """Vérifie la chaîne du journal d'audit ; signale la première ligne modifiée.

    Le point de contrôle enregistré dans l'instantané courant révèle aussi des lignes
    supprimées à la fin du journal.
    """
    from .audit import Checkpoint
    from .errors import AuditError

    unlocked = unlock(ctx)
    checkpoint = None
    name = snapshots.current_snapshot(unlocked.workspace.snapshots_dir)
    if name is not None:
        manifest = snapshots.read_manifest(
            unlocked.workspace.snapshots_dir / name, unlocked.identities
        )
        recorded = manifest.extra.get("audit")
        if isinstance(recorded, dict):
            checkpoint = Checkpoint(int(recorded["count"]), str(recorded["mac"]))
    result = unlocked.audit().verify(checkpoint)
    if not result.ok:
        raise AuditError(result.message())
    click.echo(f"Journal d'audit intact : {result.count} entrées.")


@cli.command()
@click.option(
    "--no-serve", is_flag=True, help="Ne pas lancer les tableaux de bord (vérifications seules)."
)
@click.pass_context
def demo(ctx: click.Context, no_serve: bool) -> None:
    """Démonstration : un cabinet fictif généré, importé, chiffré et vérifié.

    Sans --workspace, l'espace de travail de démonstration est temporaire et supprimé à la
    fin ; sa phrase de passe vient de OSTEO_PASSPHRASE ou est tirée au hasard et gardée en
    mémoire seulement.
    """
    from .demo import run_demo

    explicit = ctx.find_root().params.get("workspace") or os.environ.get(ENV_WORKSPACE)
    run_demo(Path(explicit) if explicit else None, serve=not no_serve, echo=click.echo)


def _register_command_modules() -> None:
    """Commands that live in their own module (osteo_analytics/commands/)."""
    from .commands.metrics import metrics, sql
    from .commands.quarantine import quarantine

    cli.add_command(metrics)
    cli.add_command(sql)
    cli.add_command(quarantine)


_register_command_modules()


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
        _fail(describe(exc), exc.exit_code)
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

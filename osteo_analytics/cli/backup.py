"""`osteo backup add | run | verify | status | restore`: the workspace on two media, with restic.

`status --format json` is stable and documented in the README's command table:
``[{"name", "location", "last_backup", "age_seconds", "last_check", "ok", "warnings"}]``.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from osteo_analytics.cli.messages import describe
from osteo_analytics.cli.output import console
from osteo_analytics.cli.tools import Group, open_workspace, unlock

if TYPE_CHECKING:
    from osteo_analytics.backup import DestinationStatus, Outcome

FROM_HELP = "Nom de la destination (par défaut : toutes, dans l'ordre où elles ont été ajoutées)."


@click.group(cls=Group)
def backup() -> None:
    """Sauvegardes de l'espace de travail sur deux supports (ou plus), avec restic.

    Tout y est déjà chiffré : un disque externe, un partage réseau ou un dossier synchronisé
    conviennent. Ajoutez deux destinations sur deux supports différents.
    """


@backup.command()
@click.argument("name", metavar="NOM")
@click.argument("path", metavar="DOSSIER", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def add(ctx: click.Context, name: str, path: Path) -> None:
    """Ajoute la destination NOM dans DOSSIER (disque externe, partage, dossier synchronisé).

    Crée le dépôt restic DOSSIER/osteo-analytics-<clé>/restic, ou reprend celui de cet
    espace de travail s'il existe déjà, et y copie le fichier de secours des clés.
    """
    from osteo_analytics import backup as backups

    destination = backups.add(unlock(ctx), name, path)
    click.echo(f"Destination « {name} » ajoutée : {destination.root}")


def _progress() -> Any:
    """Progress lines on a terminal only (long runs); nothing for a script or a log."""
    if not sys.stderr.isatty():
        return None
    return lambda line: click.echo(line, err=True)


def _report_failures(outcomes: list[Outcome]) -> None:
    """One line per failed destination (each names it), then exit 1."""
    failed = [o.error for o in outcomes if o.error is not None]
    for error in failed:
        click.echo(f"Erreur : {describe(error)}", err=True)
    if failed:
        sys.exit(1)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f}".replace(".", ",") + " Mo"


@backup.command()
@click.pass_context
def run(ctx: click.Context) -> None:
    """Sauvegarde l'espace de travail vers chaque destination, puis applique la rétention.

    Une destination en échec n'arrête pas les autres ; la commande les nomme et sort avec
    le code 1. Rétention : réglage backup_keep (7 jours, 5 semaines, 12 mois, 20 ans).
    """
    from osteo_analytics import backup as backups
    from osteo_analytics.formatting import count

    outcomes = backups.run(unlock(ctx), progress=_progress())
    for o in outcomes:
        if o.error is None and o.counts is not None:
            click.echo(
                f"« {o.name} » : sauvegarde {o.snapshot} faite ({count(o.counts['files'])} "
                f"fichier(s), {_megabytes(o.counts['bytes_added'])} ajoutés)"
            )
    _report_failures(outcomes)


@backup.command()
@click.option("--deep", is_flag=True, help="Relit et contrôle toutes les données (plus long).")
@click.option("--from", "name", metavar="NOM", help=FROM_HELP)
@click.pass_context
def verify(ctx: click.Context, deep: bool, name: str | None) -> None:
    """Vérifie les dépôts (restic check) ; --deep relit toutes les données.

    Un dépôt endommagé est nommé et la commande sort avec le code 1.
    """
    from osteo_analytics import backup as backups

    outcomes = backups.verify(unlock(ctx), deep=deep, name=name)
    kind = "complète" if deep else "de structure"
    for o in outcomes:
        if o.error is None:
            click.echo(f"« {o.name} » : vérification {kind} réussie")
    _report_failures(outcomes)


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _status_dict(s: DestinationStatus) -> dict[str, Any]:
    return {
        "name": s.name,
        "location": s.location,
        "last_backup": _iso(s.last_backup),
        "age_seconds": None if s.age is None else int(s.age.total_seconds()),
        "last_check": _iso(s.last_check),
        "ok": s.ok,
        "warnings": list(s.warnings),
    }


@backup.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("table", "json")),
    default="table",
    show_default=True,
    help="table (lisible) ou json (format stable, décrit dans le README).",
)
@click.pass_context
def status(ctx: click.Context, fmt: str) -> None:
    """Par destination : dernière sauvegarde réussie et son âge, dernière vérification.

    Signale une destination jamais sauvegardée, sauvegardée il y a plus de 7 jours
    (réglage backup_max_age_days), en échec ou injoignable. Sans phrase de passe.
    """
    from osteo_analytics import backup as backups

    found = backups.statuses(open_workspace(ctx), probe=True)
    if fmt == "json":
        click.echo(json.dumps([_status_dict(s) for s in found], ensure_ascii=False, indent=2))
        return
    if not found:
        click.echo("Aucune destination de sauvegarde : ajoutez-en deux avec `osteo backup add`.")
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Sauvegardes", title_justify="left")
    for header in ("destination", "dernière sauvegarde", "dernière vérification", "état"):
        table.add_column(header)
    now = dt.datetime.now(dt.UTC)
    for s in found:
        check = backups.age_text(None if s.last_check is None else now - s.last_check)
        state = "à jour" if s.ok else "attention : " + ", ".join(s.warnings)
        table.add_row(Text(s.name), backups.age_text(s.age), check, state)
    console().print(table)


@backup.command()
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Dossier où restaurer l'espace de travail (vide ou nouveau).",
)
@click.option("--from", "name", metavar="NOM", help=FROM_HELP)
@click.option(
    "--snapshot",
    default="latest",
    show_default=True,
    metavar="ID",
    help="Identifiant restic de la sauvegarde à restaurer (la dernière par défaut).",
)
@click.pass_context
def restore(ctx: click.Context, target: Path, name: str | None, snapshot: str) -> None:
    """Restaure une sauvegarde dans un dossier vide, puis contrôle l'instantané restauré.

    Chaque fichier de l'instantané courant restauré est comparé à son manifeste (sha256,
    nombre de lignes). Sans --from, la première destination qui restaure est retenue.
    """
    from osteo_analytics import backup as backups
    from osteo_analytics.formatting import count

    done = backups.restore(unlock(ctx), target, name=name, snapshot=snapshot)
    rows = sum(done.rows.values())
    checked = (
        f"instantané {done.workspace_snapshot} contrôlé ({count(rows)} ligne(s))"
        if done.workspace_snapshot
        else "aucun instantané à contrôler"
    )
    click.echo(
        f"Restauré depuis « {done.name} » dans {target} : {count(done.files)} fichier(s), {checked}"
    )

"""`osteo export journal|fec|xlsx`: the accountant's files of one year, encrypted by default.

The files themselves are made by `osteo_analytics.exports` from a warehouse; this command
opens the warehouse (`_open`), encrypts the bytes to the workspace's age recipients unless
`--plaintext`, writes them atomically and records an audit entry with counts only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import click

from osteo_analytics.cli.tools import bundle_option, unlock
from osteo_analytics.errors import UsageError

if TYPE_CHECKING:
    from osteo_analytics.audit import AuditLog
    from osteo_analytics.exports import Export
    from osteo_analytics.warehouse import Warehouse

WHAT = {"journal": "Livre-journal des recettes", "fec": "FEC", "xlsx": "Classeur Excel"}
PLAINTEXT_WARNING = (
    "Attention : fichier écrit en clair, non chiffré. Il contient des données du cabinet "
    "(numéros de facture, pseudonymes des patients, montants) : ne le laissez ni sur un "
    "disque partagé ni dans un courriel, et effacez-le après usage."
)


class Opened(NamedTuple):
    """The warehouse to export from, who the file is encrypted to, where to audit, as whom."""

    warehouse: Warehouse
    recipients: list[str]
    audit: AuditLog
    actor: str


def _open(ctx: click.Context, bundle: Path | None) -> Opened:
    """The practice's warehouse (the workspace, unlocked like `osteo metrics`), or the
    bundle's (opened with the workspace's key: an accountant's); the workspace's own keys
    are the ones the file is encrypted to (the requesting identity)."""
    from osteo_analytics.share import open_bundle
    from osteo_analytics.warehouse import open_warehouse

    unlocked = unlock(ctx)
    if bundle is not None:
        root = unlocked.workspace.root
        wh = open_bundle(bundle, unlocked.identities, settings_root=root).warehouse
    else:
        wh = open_warehouse(unlocked)
    return Opened(wh, unlocked.recipients(), unlocked.audit(), unlocked.workspace.role)


@click.command(name="export")
@click.argument("kind", type=click.Choice(["journal", "fec", "xlsx"]), metavar="journal|fec|xlsx")
@click.option("--year", type=click.IntRange(1900, 9999), required=True, help="Année civile (AAAA).")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Fichier à écrire, ou dossier existant : le fichier y prend alors son nom d'export "
    "(celui du FEC est réglementaire : SIRENFECAAAA1231.txt). « .age » est ajouté au nom "
    "sauf avec --plaintext.",
)
@click.option(
    "--practitioner",
    metavar="ID",
    help="Seulement ce praticien (identifiant PR-… de la vue practitioners d'osteo sql) : "
    "dans un cabinet partagé, chacun est un contribuable distinct. Défaut : tout le cabinet.",
)
@bundle_option("exporte depuis ce lot ; le fichier est chiffré pour cette même clé.")
@click.option(
    "--siren",
    metavar="NUMÉRO",
    help="SIREN (9 chiffres) qui nomme le FEC ; remplace le réglage « siren » de config.toml.",
)
@click.option(
    "--plaintext",
    is_flag=True,
    help="Écrit le fichier en clair (non chiffré), avec un avertissement. Défaut : chiffré "
    "(age) pour les clés de l'espace de travail.",
)
@click.pass_context
def export(
    ctx: click.Context,
    kind: str,
    year: int,
    out: Path,
    practitioner: str | None,
    bundle: Path | None,
    siren: str | None,
    plaintext: bool,
) -> None:
    """Exports pour le comptable d'une année civile, sur la base encaissé.

    journal : livre-journal des recettes (CSV pour Excel : « ; », virgule décimale, un total
    par jour et un total de l'année). fec : fichier des écritures comptables d'un BNC en
    comptabilité de trésorerie (art. A47 A-1 du LPF : 22 champs, tabulation, ISO-8859-15),
    nommé SIRENFECAAAA1231.txt. xlsx : classeur Excel, une feuille par vue (journal,
    factures, paiements, numérotation, rapprochement, recettes par mois, 2035, micro-BNC).
    Le fichier est chiffré (age) pour les clés de l'espace de travail, sauf avec --plaintext.
    Détail des formats : docs/accountant.md.
    """
    from osteo_analytics import exports
    from osteo_analytics.atomic import atomic_write
    from osteo_analytics.formatting import count
    from osteo_analytics.vault import encrypt

    if not out.is_dir() and not out.parent.is_dir():
        raise UsageError("--out : le dossier du fichier n'existe pas ; créez-le d'abord")
    opened = _open(ctx, bundle)
    with opened.warehouse as wh:
        if kind == "journal":
            made = exports.journal(wh, year, practitioner)
        elif kind == "fec":
            made = exports.fec(wh, year, practitioner, siren=siren)
        else:
            made = exports.workbook(wh, year, practitioner)
        snapshot = wh.snapshot
    target = _target(out, made, plaintext)
    atomic_write(target, made.data if plaintext else encrypt(made.data, opened.recipients))
    counts = {"year": year, f"{kind}_rows": made.rows, "plaintext": int(plaintext)}
    opened.audit.append("export", actor=opened.actor, snapshot=snapshot, counts=counts)
    state = "en clair" if plaintext else "chiffré (age)"
    click.echo(f"{WHAT[kind]} {year} : {count(made.rows)} ligne(s), {state} : {target}")
    if plaintext:
        click.echo(PLAINTEXT_WARNING, err=True)


def _target(out: Path, made: Export, plaintext: bool) -> Path:
    """The file to write: `out`, or the export's own name inside the folder `out`; `.age`
    added to an encrypted file's name."""
    target = out / made.name if out.is_dir() else out
    if not plaintext and target.suffix != ".age":
        target = target.with_name(target.name + ".age")
    return target

"""What each import set aside: the encrypted ``quarantine/<stamp>/`` folders, read back.

An import that rejects rows writes, under the stamp of that import (the name of the
snapshot it wrote, when it wrote one), ``<dataset>.parquet.age`` (rows that broke a
contract rule, pseudonymized, with ``rule``, ``column``, ``source_file``, ``source_row``)
and ``unparsed.json.age`` (rows the adapter could not read). This module lists those sets
and reads one into :class:`Record` objects: file, row, column, rule and a French sentence
(:data:`CATALOGUE`) saying what is wrong and how to fix it in the original file.

A record never holds a value: only the four location and rule columns of the encrypted
Parquet files are read, so pseudonyms, dates and amounts never leave the file. A source
row counts once, with the reason the import counted it under (the adapter's, else the
first contract rule it broke, parents first), so a set's counts equal the import summary's.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from osteo_analytics import vault
from osteo_analytics.contracts.model import load_contracts
from osteo_analytics.errors import DecryptionError, Hint, IntegrityError, UsageError
from osteo_analytics.import_reports import import_entries
from osteo_analytics.ingest import ORDER
from osteo_analytics.workspace import Unlocked, Workspace

UNPARSED = "unparsed.json.age"
_STAMP = re.compile(r"\d{8}T\d{12}Z")
_LOCATION = ("source_file", "source_row", "column", "rule")  # the only columns ever read


@dataclass(frozen=True)
class Explanation:
    """What is wrong with a row and how to fix it in the original file, in French."""

    problem: str
    fix: str

    @property
    def sentence(self) -> str:
        return f"{self.problem} : {self.fix}"


def _e(problem: str, fix: str) -> Explanation:
    return Explanation(problem, fix)


_AGAIN = "puis réimportez-le"
_EXPORT = "corrigez la fiche dans LibreOsteo, réexportez, puis réimportez le fichier"

# Every rule an adapter (sources/) or a contract (data_contracts/) can give a quarantined
# row. tests/test_quarantine.py fails when the code can emit a rule missing here.
CATALOGUE: dict[str, Explanation] = {
    # --- cells an adapter could not read ---
    "bad_date": _e("date illisible", f"écrivez-la JJ/MM/AAAA dans le fichier d'origine, {_AGAIN}"),
    "bad_time": _e(
        "heure illisible",
        f"écrivez-la HH:MM (par exemple 14:30) dans le fichier d'origine, {_AGAIN}",
    ),
    "bad_amount": _e(
        "montant illisible",
        f"écrivez un nombre en euros (par exemple 55,00) dans le fichier d'origine, {_AGAIN}",
    ),
    "bad_code": _e("code de statut, de type ou de règlement illisible", _EXPORT),
    "bad_id": _e("identifiant illisible (un nombre entier est attendu)", _EXPORT),
    "bad_json": _e(
        "liste de règlements ou de factures illisible",
        "réexportez le fichier depuis LibreOsteo sans le modifier à la main, puis réimportez-le",
    ),
    "bad_payment_date": _e("date illisible dans un des règlements de la facture", _EXPORT),
    "bad_payment_amount": _e("montant illisible dans un des règlements de la facture", _EXPORT),
    "bad_name": _e(
        "nom illisible (sans lettre, ou si long que c'est sans doute une note collée)",
        f"ne laissez que le nom dans la cellule du fichier d'origine, {_AGAIN}",
    ),
    "bad_patient": _e(
        "nom du patient trop long (sans doute une note collée)",
        f"ne laissez que le nom et le prénom dans la cellule du fichier d'origine, {_AGAIN}",
    ),
    "bad_practitioner": _e(
        "nom du praticien trop long",
        f"ne laissez que le nom du praticien dans la cellule du fichier d'origine, {_AGAIN}",
    ),
    "bad_invoice_number": _e(
        "numéro de facture trop long (64 caractères au plus)",
        f"corrigez le numéro dans le fichier d'origine, {_AGAIN}",
    ),
    "missing_date": _e(
        "date absente, et aucune date sur les lignes au-dessus",
        f"indiquez la date JJ/MM/AAAA dans le fichier d'origine, {_AGAIN}",
    ),
    "missing_amount": _e(
        "montant absent", f"indiquez le montant en euros dans le fichier d'origine, {_AGAIN}"
    ),
    "missing_patient": _e(
        "patient absent",
        f"indiquez le nom et le prénom du patient dans le fichier d'origine, {_AGAIN}",
    ),
    "total_mismatch": _e(
        "les montants par mode de règlement ne font pas le total de la ligne",
        "corrigez le montant d'un mode de règlement ou le total dans le fichier d'origine, "
        + _AGAIN,
    ),
    "missing_value": _e(
        "valeur obligatoire absente", f"remplissez la cellule dans le fichier d'origine, {_AGAIN}"
    ),
    "negative_amount": _e(
        "montant négatif",
        "écrivez le montant sans signe moins dans le fichier d'origine (un remboursement se "
        f"saisit comme avoir), {_AGAIN}",
    ),
    "unknown_value": _e(
        "mot non reconnu (statut de la séance ou de la facture)",
        "remplacez-le dans le fichier d'origine par un mot connu, ou ajoutez-le aux valeurs du "
        "fichier de correspondance (--mapping), puis réimportez le fichier",
    ),
    "duplicate_invoice_number": _e(
        "numéro de facture déjà utilisé par une autre ligne du fichier",
        f"donnez à chaque facture son propre numéro dans le fichier d'origine, {_AGAIN}",
    ),
    "invoice_number_conflict": _e(
        "numéro de facture déjà utilisé pour un autre patient",
        f"corrigez le numéro de facture ou le patient dans le fichier d'origine, {_AGAIN}",
    ),
    "unknown_patient": _e(
        "facture d'un patient absent des fichiers importés",
        "importez l'export des patients avec celui des factures, ou corrigez le nom sur la "
        "facture dans LibreOsteo, puis réimportez les fichiers",
    ),
    "ambiguous_patient": _e(
        "facture au nom de plusieurs patients homonymes",
        "rattachez la facture à une séance, ou renseignez le nom de naissance du patient, dans "
        "LibreOsteo, réexportez, puis réimportez les fichiers",
    ),
    "wrong_field_count": _e(
        "nombre de colonnes anormal sur cette ligne (séparateur ou guillemet en trop)",
        "réexportez le fichier depuis LibreOsteo, ou corrigez la ligne dans un tableur, puis "
        "réimportez-le",
    ),
    "empty_document": _e(
        "document Word vide",
        "vérifiez que c'est le bon fichier : remplissez-le ou retirez-le de l'import, puis "
        "réimportez le dossier",
    ),
    "no_identity": _e(
        "nom du patient introuvable",
        "écrivez « NOM Prénom » en titre ou en première ligne du document Word, puis réimportez-le",
    ),
    "no_visit": _e(
        "aucune séance datée dans ce document",
        "commencez chaque ligne de séance par sa date JJ/MM/AAAA dans le document Word, puis "
        "réimportez-le",
    ),
    # --- contract rules (data_contracts/*.odcs.yaml) ---
    "not_null": _e(
        "valeur obligatoire absente", f"remplissez la cellule dans le fichier d'origine, {_AGAIN}"
    ),
    "unique": _e(
        "la même valeur apparaît sur plusieurs lignes",
        f"gardez une seule ligne ou corrigez la valeur en double dans le fichier d'origine, "
        f"{_AGAIN}",
    ),
    "pattern": _e("valeur mal formée", f"corrigez la cellule dans le fichier d'origine, {_AGAIN}"),
    "allowed_values": _e(
        "valeur hors de la liste autorisée",
        f"utilisez une des valeurs prévues dans le fichier d'origine, {_AGAIN}",
    ),
    "foreign_key": _e(
        "renvoie à une ligne introuvable (absente, ou elle-même mise de côté)",
        "importez le fichier qui la contient en même temps, ou corrigez d'abord la ligne "
        "mise de côté, puis réimportez les fichiers",
    ),
    "date_range": _e(
        "date hors période (avant 1990 ou plus d'un an dans le futur)",
        f"corrigez l'année dans le fichier d'origine, {_AGAIN}",
    ),
    "year_range": _e(
        "année de naissance impossible (avant 1900 ou dans le futur)",
        f"corrigez la date de naissance dans le fichier d'origine, {_AGAIN}",
    ),
    "negative_only_for_credit_note": _e(
        "montant négatif sur une facture qui n'est pas un avoir",
        f"corrigez le signe, ou indiquez que la ligne est un avoir, dans le fichier d'origine, "
        f"{_AGAIN}",
    ),
    "prefixed_by_invoice_number": _e(
        "règlement rattaché à un autre numéro de facture",
        f"vérifiez le numéro de facture de la ligne dans le fichier d'origine, {_AGAIN}",
    ),
    "not_zero": _e(
        "règlement de 0 €",
        f"indiquez le montant réellement encaissé, ou retirez la ligne, dans le fichier "
        f"d'origine, {_AGAIN}",
    ),
}

# Where the column says more than the rule (contract columns after pseudonymization).
BY_COLUMN: dict[tuple[str, str], Explanation] = {
    ("not_null", "patient_key"): _e(
        "patient non identifiable (nom ou prénom absent)",
        f"indiquez le nom et le prénom du patient dans le fichier d'origine, {_AGAIN}",
    ),
    ("not_null", "practitioner_id"): _e(
        "praticien non identifiable (nom absent)",
        f"indiquez le nom du praticien dans le fichier d'origine, {_AGAIN}",
    ),
    ("not_null", "consultation_id"): _e(
        "séance non identifiable (patient sans nom ni prénom)",
        f"indiquez le nom et le prénom du patient dans le fichier d'origine, {_AGAIN}",
    ),
    ("unique", "invoice_number"): _e(
        "numéro de facture utilisé sur plusieurs lignes",
        f"donnez à chaque facture son propre numéro dans le fichier d'origine, {_AGAIN}",
    ),
    ("unique", "consultation_id"): _e(
        "même séance (patient, jour, heure, praticien) sur plusieurs lignes différentes",
        f"gardez une seule ligne pour cette séance dans le fichier d'origine, {_AGAIN}",
    ),
    ("unique", "patient_key"): _e(
        "même patient (nom, prénom, date de naissance) sur plusieurs lignes différentes",
        f"gardez une seule fiche pour ce patient dans le fichier d'origine, {_AGAIN}",
    ),
    ("pattern", "departement"): _e(
        "code postal qui ne correspond à aucun département",
        f"corrigez le code postal (5 chiffres) dans le fichier d'origine, {_AGAIN}",
    ),
    ("foreign_key", "patient_key"): _e(
        "patient introuvable (absent, ou sa fiche est elle-même mise de côté)",
        "importez le fichier des patients en même temps, ou corrigez d'abord sa fiche, puis "
        "réimportez les fichiers",
    ),
    ("foreign_key", "practitioner_id"): _e(
        "praticien introuvable",
        "importez le fichier des praticiens en même temps, ou corrigez le nom du praticien "
        "dans le fichier d'origine, puis réimportez les fichiers",
    ),
    ("foreign_key", "consultation_id"): _e(
        "séance facturée introuvable (absente, ou elle-même mise de côté)",
        "corrigez d'abord la séance mise de côté, ou importez le fichier des séances en même "
        "temps, puis réimportez les fichiers",
    ),
    ("foreign_key", "invoice_number"): _e(
        "règlement d'une facture introuvable (absente, ou elle-même mise de côté)",
        "corrigez d'abord la facture mise de côté, ou importez le fichier des factures en même "
        "temps, puis réimportez les fichiers",
    ),
}

# Rows set aside without being quarantined (duplicates and excluded rows): the words the
# import summary and the dashboards use for them, beside CATALOGUE's for quarantine rules.
RULE_LABELS = {
    "duplicate": "doublon dans l'import",
    "already_imported": "déjà importé",
    "blank_row": "ligne vide",
    "title_row": "ligne de titre",
    "header_row": "ligne d'en-tête répétée",
    "subtotal_row": "sous-total",
    "total_row": "ligne de total",
    "running_total_row": "total cumulé",
    "sheet_without_header": "feuille sans en-tête reconnu",
}

UNKNOWN_RULE = _e(
    "ligne refusée pour une raison que cette version ne sait pas décrire",
    "mettez osteo-analytics à jour pour le détail, corrigez la ligne, puis réimportez le fichier",
)


def explanation(rule: str, column: str | None = None) -> Explanation:
    """The French explanation of `rule` (refined by the contract `column` when it says more)."""
    if column is not None and (rule, column) in BY_COLUMN:
        return BY_COLUMN[(rule, column)]
    return CATALOGUE.get(rule, UNKNOWN_RULE)


def rule_label(rule: str) -> str:
    """The French words for a reason a row was set aside (its code when none is known)."""
    found = CATALOGUE.get(rule)
    return found.problem if found is not None else RULE_LABELS.get(rule, rule)


def explain(rule: str, column: str | None = None) -> str:
    """One sentence: what is wrong, then how to fix it in the original file."""
    return explanation(rule, column).sentence


# --- reading the sets -------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """One quarantined row: where it is in the original file and why. Never a value.

    `row` is the 1-based row of the original file as its adapter numbers it (header = 1;
    Word files: the paragraph or table row), None when the problem concerns the whole
    file. `dataset` is the contract the row broke, None when the adapter could not read
    it; `column` is then the file's header, else the contract column (`*`: the whole row).
    """

    file: str
    row: int | None
    dataset: str | None
    column: str
    rule: str

    @property
    def explanation(self) -> str:
        return explain(self.rule, self.column if self.dataset else None)

    def to_dict(self) -> dict[str, Any]:
        """The documented, stable fields of `osteo quarantine show --format json`."""
        return {
            "file": self.file,
            "row": self.row,
            "dataset": self.dataset,
            "column": self.column,
            "rule": self.rule,
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class FileSummary:
    """Rows of one file a set holds, by rule."""

    file: str
    rules: dict[str, int]

    @property
    def rows(self) -> int:
        return sum(self.rules.values())


@dataclass(frozen=True)
class QuarantineSet:
    """One import's quarantine folder: when, which snapshot it left current, what it holds.

    `snapshot` is the snapshot in force after that import (its own when it wrote one), from
    the audit log; None when the log does not tell.
    """

    stamp: str
    imported_at: datetime
    snapshot: str | None
    files: tuple[FileSummary, ...] = field(default_factory=tuple)

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)


def stamps(workspace: Workspace) -> list[str]:
    """Stamps of the quarantine sets, oldest first (no decryption needed)."""
    folder = workspace.quarantine_dir
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and _is_stamp(p.name))


def imported_at(stamp: str) -> datetime:
    """The import time a stamp encodes (UTC, to the microsecond)."""
    return datetime.strptime(stamp, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)


def _is_stamp(name: str) -> bool:
    if not _STAMP.fullmatch(name):
        return False
    try:
        imported_at(name)
    except ValueError:  # 20241399T…: shaped like a stamp, but no date
        return False
    return True


def read_set(unlocked: Unlocked, stamp: str) -> list[Record]:
    """Every row one import set aside, by file then row. UsageError for an unknown stamp."""
    folder = set_folder(unlocked.workspace, stamp)
    records: list[Record] = []
    seen: set[tuple[str, int]] = set()

    def add(record: Record) -> None:
        # Row 0 (a whole-file problem) is not a row: each such note is kept.
        key = (record.file, record.row or 0)
        if record.row is not None and key in seen:
            return
        seen.add(key)
        records.append(record)

    for item in _unparsed(folder, unlocked.identities):
        add(item)
    for dataset in ORDER:
        for item in _rejected(folder, dataset, unlocked.identities):
            add(item)
    return sorted(records, key=lambda r: (r.file, r.row or 0, r.rule, r.column))


def summarize(records: Iterable[Record]) -> tuple[FileSummary, ...]:
    """Per file, the number of rows by rule."""
    by_file: dict[str, Counter[str]] = {}
    for r in records:
        by_file.setdefault(r.file, Counter())[r.rule] += 1
    return tuple(
        FileSummary(name, dict(sorted(rules.items()))) for name, rules in sorted(by_file.items())
    )


def list_sets(unlocked: Unlocked) -> list[QuarantineSet]:
    """Every quarantine set of the workspace, oldest first, tied to its import."""
    found = stamps(unlocked.workspace)
    if not found:
        return []
    imports = import_entries(unlocked)
    return [_describe(s, read_set(unlocked, s), imports) for s in found]


def open_set(unlocked: Unlocked, stamp: str) -> tuple[QuarantineSet, list[Record]]:
    """The set `stamp` and its records (UsageError if unknown), reading no other set."""
    records = read_set(unlocked, stamp)
    return _describe(stamp, records, import_entries(unlocked)), records


def _describe(stamp: str, records: list[Record], imports: list[dict[str, Any]]) -> QuarantineSet:
    return QuarantineSet(
        stamp=stamp,
        imported_at=imported_at(stamp),
        snapshot=_snapshot_of(stamp, imports),
        files=summarize(records),
    )


def set_folder(workspace: Workspace, stamp: str) -> Path:
    """The folder of the set `stamp`; UsageError, naming only a well-formed stamp, if none.

    The stamp comes from the command line: never used as a path unless it is a stamp.
    """
    if not _is_stamp(stamp):
        raise UsageError(
            "ceci n'est pas une quarantaine (attendu : AAAAMMJJTHHMMSSxxxxxxZ)",
            hint=Hint.LIST_QUARANTINES,
        )
    folder = workspace.quarantine_dir / stamp
    if not folder.is_dir():
        raise UsageError(f"aucune quarantaine {stamp}", hint=Hint.LIST_QUARANTINES)
    return folder


def _decrypt(path: Path, identities: list[str]) -> bytes:
    label = f"quarantine/{path.parent.name}/{path.name}"
    try:
        return vault.decrypt(path.read_bytes(), identities)
    except DecryptionError:
        raise DecryptionError(f"{label} : déchiffrement impossible avec cette clé") from None
    except IntegrityError:
        raise IntegrityError(
            f"{label} : fichier altéré ou tronqué ; restaurez-le depuis une sauvegarde"
        ) from None


def _damaged(path: Path) -> IntegrityError:
    return IntegrityError(
        f"quarantine/{path.parent.name}/{path.name} : contenu inattendu ; "
        "restaurez-le depuis une sauvegarde"
    )


def _unparsed(folder: Path, identities: list[str]) -> list[Record]:
    path = folder / UNPARSED
    if not path.is_file():
        return []
    try:
        items = json.loads(_decrypt(path, identities))
        return [
            Record(
                file=str(i["source_file"]),
                row=int(i["source_row"]) or None,
                dataset=None,
                column=str(i["column"]),
                rule=str(i["rule"]),
            )
            for i in items
        ]
    except (ValueError, KeyError, TypeError):
        raise _damaged(path) from None


def _rejected(folder: Path, dataset: str, identities: list[str]) -> list[Record]:
    path = folder / f"{dataset}.parquet.age"
    if not path.is_file():
        return []
    try:
        # Only the location columns: the pseudonymized values stay in the file.
        table = pq.read_table(pa.BufferReader(_decrypt(path, identities)), columns=list(_LOCATION))
    except (pa.ArrowException, ValueError, KeyError):
        raise _damaged(path) from None
    columns = [table.column(c).to_pylist() for c in _LOCATION]
    return [
        Record(file=str(f), row=int(r) or None, dataset=dataset, column=str(c), rule=str(rule))
        for f, r, c, rule in zip(*columns, strict=True)
    ]


def _snapshot_of(stamp: str, imports: list[dict[str, Any]]) -> str | None:
    """The snapshot the import of `stamp` left current, when the audit log tells."""
    second = imported_at(stamp).strftime("%Y-%m-%dT%H:%M:%SZ")
    candidates = [e for e in imports if e.get("time") == second]
    if any(e.get("snapshot") == stamp for e in candidates):
        return stamp  # the import wrote a snapshot, under the same stamp
    # Imports of the same second that wrote their own snapshot are not this one.
    candidates = [e for e in candidates if not str(e.get("snapshot")).startswith(stamp[:15])]
    if len(candidates) == 1:  # an import that changed nothing: the snapshot it left current
        snapshot = candidates[0].get("snapshot")
        return str(snapshot) if snapshot else None
    return None


def contract_column_label(dataset: str | None, column: str) -> str:
    """A contract column's French business name; a file's header stays as it is."""
    if dataset is None:
        return column
    try:
        return load_contracts()[dataset].column(column).business_name
    except KeyError:
        return column

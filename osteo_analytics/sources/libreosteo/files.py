"""LibreOsteo export files: which export a file is (by its header), its rows, cell values.

Kept apart from the adapter so that it reads as business rules; everything here is about
what LibreOsteo (Django REST Framework, djangorestframework-csv, drf-excel) writes. The
bytes themselves are read by :mod:`osteo_analytics.sources.files`, as for every adapter.
See ``shared/testdata/libreosteo-sample/README.md`` for the quirks.
"""

from __future__ import annotations

import functools
import json
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from osteo_analytics.errors import Hint, InputError
from osteo_analytics.sources import files

PARIS = ZoneInfo("Europe/Paris")  # LibreOsteo's default; the `timezone` setting decides
CENT = Decimal("0.01")
_EXCEL_EPOCH = datetime(1899, 12, 30)  # 1900 date system, Lotus leap-year bug included
# drf-excel prefixes these with one "'" to defuse formula injection; the "'" is stored.
_SANITIZED_FIRST = frozenset("=-+@\t\r\n")

FORMATS = (files.CSV, files.XLSX)


class BadValue(ValueError):
    """A cell that cannot be parsed; ``rule`` names why (never the value)."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


# --- column selection ------------------------------------------------------------------
# A selector is a raw DRF key / label (first occurrence), or (label, k) for the k-th
# occurrence of a repeated label (negative k counts from the end), or
# ("<before>" + label, 0) for the column just left of `label`, or (label, anchor, offset)
# for the column `offset` places from the first `anchor`, if it is labelled `label`.
# Repeated labels (Ville, Prénom, État...) are told apart by position: LibreOsteo's
# serializers emit nested blocks in a fixed order.
Selector = str | tuple[str, int] | tuple[str, str, int]

PATIENT_COLUMNS: dict[str, tuple[Selector, ...]] = {
    "id": ("id", ("ID", 0)),
    "family_name": ("family_name", ("Nom de famille", 0)),
    "first_name": ("first_name", ("Prénom", 0)),
    "birth_name": ("original_name", ("Nom de naissance", 0)),
    "birth_date": ("birth_date", ("Date de naissance", 0)),
    "sex": ("sex", ("Sexe", 0)),
    "postcode": ("address_zipcode", ("Code postal", 0)),
    "street": ("address_street", ("Rue", 0)),
    "complement": ("address_complement", ("Complément d'adresse", 0)),
    "city": ("address_city", ("Ville", 0)),
    "registered_on": ("creation_date", ("Date de création", 0)),
}
PATIENT_REQUIRED = ("family_name", "first_name", "birth_date")

EXAM_COLUMNS: dict[str, tuple[Selector, ...]] = {
    "id": ("id", ("ID", 0)),
    "last_invoice_id": ("last_invoice.id", ("ID", 1)),
    "patient_first": ("patient_detail.first_name", ("Prénom", -1)),
    "patient_family": ("patient_detail.family_name", ("Nom de famille", -1)),
    "patient_birth_date": ("patient_detail.birth_date", ("Date de naissance", -1)),
    # last "date": the examination's own, after any invoice block however that is labelled
    "date": (("date", -1),),
    "reason": ("reason", "Motif"),
    "therapist_first": ("therapeut_detail.first_name", ("<before>Nom", 0)),
    "therapist_last": ("therapeut_detail.last_name", "Nom"),
    "status": ("status", ("État", -1)),
    "status_reason": ("status_reason", "Raison de l'état"),
    "type": ("type",),
    "invoice_ids": ("invoices", "Facture"),
    "invoices_list": ("invoices_list",),
}
EXAM_REQUIRED = ("patient_first", "patient_family", "patient_birth_date", "date")

INVOICE_COLUMNS: dict[str, tuple[Selector, ...]] = {
    "id": ("id", ("ID", 0)),
    "number": ("number", "Numéro"),
    "amount": ("amount", "montant", "Montant"),
    "date": ("date",),
    "status": ("status", "Etat (1=En attente de paiement,2=Payé)", ("État", 0)),
    "type": ("type", "Type de facture"),
    "mode": ("paiment_mode", "code mode de paiement", "Mode de paiement"),
    "mode_text": ("paiment_mode_text", "mode de paiement"),
    "canceled_by": ("canceled_by", "Annulée par"),
    "replace": ("replace", "Remplacée par", "Facture remplacée"),
    "patient_family": ("patient_family_name", "Nom d'usage du patient", ("Nom de famille", 0)),
    "patient_first": ("patient_first_name", "Prénom du patient", ("Prénom", 0)),
    "patient_birth_name": ("patient_original_name", "Nom du patient", ("Nom de naissance", 0)),
    # The patient's address: invoices.csv sorts keys (office block first, then Ville,
    # Complément, Rue, Code postal of the patient), invoices.xlsx keeps the serializer's
    # order (Rue, Complément, Code postal, Ville of the patient, then the office's).
    "patient_street": ("patient_address_street", ("Rue", 0)),
    "patient_complement": (
        "patient_address_complement",
        ("Complément d'adresse", "Rue", -1),
        ("Complément d'adresse", "Rue", 1),
    ),
    "patient_zipcode": (
        "patient_address_zipcode",
        ("Code postal", "Rue", 1),
        ("Code postal", "Rue", 2),
    ),
    "patient_city": ("patient_address_city", ("Ville", "Rue", -2), ("Ville", "Rue", 3)),
    "therapist_first": ("therapeut_first_name", "Prénom du thérapeute"),
    "therapist_last": ("therapeut_name", "Nom du thérapeute"),
    "paiments_list": ("paiments_list",),
}
INVOICE_REQUIRED: tuple[str, ...] = ("number", "amount", "date", "status", "type", "mode")
INVOICE_REQUIRED += ("patient_family", "patient_first", "therapist_first", "therapist_last")

COLUMNS = {"patients": PATIENT_COLUMNS, "examinations": EXAM_COLUMNS, "invoices": INVOICE_COLUMNS}
REQUIRED: dict[str, tuple[str, ...]] = {
    "patients": PATIENT_REQUIRED,
    "examinations": EXAM_REQUIRED,
    "invoices": INVOICE_REQUIRED,
}

# Invoice CSV: nested Paiment rows are flattened into paiments_list.<n>.<field> columns.
PAIMENT_PREFIX = "paiments_list."


def classify_header(header: Sequence[str]) -> str | None:
    """Which LibreOsteo export a header row belongs to, or None."""
    names = set(header)
    if names & {"patient_detail.first_name", "Motif", "reason"} and "date" in names:
        return "examinations"
    if names & {"Numéro", "number"} and names & {"montant", "Montant", "amount"}:
        return "invoices"
    if names & {"family_name", "Nom de famille"} and names & {"birth_date", "Date de naissance"}:
        return "patients"
    return None


# how an error message names each kind of export
_KIND_LABELS = {
    "patients": "des patients",
    "examinations": "des consultations",
    "invoices": "des factures",
}


def resolve_columns(header: Sequence[str], kind: str, name: str) -> dict[str, int | None]:
    """Map each logical field of ``kind`` to a column index; InputError if a required one lacks."""
    positions: dict[str, list[int]] = {}
    for i, label in enumerate(header):
        positions.setdefault(label, []).append(i)
    found: dict[str, int | None] = {}
    for fieldname, selectors in COLUMNS[kind].items():
        found[fieldname] = None
        for sel in selectors:
            idx = _select(sel, positions, header)
            if idx is not None:
                found[fieldname] = idx
                break
    missing = [f for f in REQUIRED[kind] if found[f] is None]
    if missing:
        last = COLUMNS[kind][missing[0]][-1]
        label = last[0] if isinstance(last, tuple) else last
        raise InputError(
            f"{name} : export LibreOsteo {_KIND_LABELS.get(kind, kind)} sans la colonne"
            f" « {label} » ; exportez-le à nouveau depuis LibreOsteo sans retirer de colonnes"
        )
    return found


def _select(sel: Selector, positions: dict[str, list[int]], header: Sequence[str]) -> int | None:
    if isinstance(sel, str):
        hits = positions.get(sel)
        return hits[0] if hits else None
    if len(sel) == 3:
        label, near, offset = sel
        around = positions.get(near)
        idx = around[0] + offset if around else -1
        return idx if 0 <= idx < len(header) and header[idx] == label else None
    label, k = sel
    if label.startswith("<before>"):
        anchor = positions.get(label.removeprefix("<before>"))
        return anchor[0] - 1 if anchor and anchor[0] > 0 else None
    hits = positions.get(label)
    if not hits or not -len(hits) <= k < len(hits):
        return None
    return hits[k]


# --- files -----------------------------------------------------------------------------


@dataclass(slots=True)
class ExportFile:
    """One recognized export file, ready to iterate."""

    path: Path
    format: str  # "csv" or "xlsx"
    kind: str  # "patients", "examinations" or "invoices"
    header: list[str]
    cols: dict[str, int | None]  # logical field → column index (see resolve_columns)
    # rows after the header: the file is read (and a protected workbook decrypted) once
    pending: Iterator[tuple[int, list[Any]]] = field(repr=False)

    def data_rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(row number, cells) of every row after the header; can be taken once."""
        rows, self.pending = self.pending, iter(())
        return rows


def open_export(path: Path, password: files.Password | None = None) -> ExportFile:
    """Sniff ``path`` and read its header; InputError if it is not a LibreOsteo export.

    LibreOsteo names its files after their content, so the extension must agree with it
    (a CSV named .xlsx was renamed or damaged). ``password(path)`` opens a workbook that
    was protected after its export.
    """
    fmt = files.XLSX if files.identify(path, FORMATS, by_name=True) != files.CSV else files.CSV
    rows = _csv_rows(path) if fmt == files.CSV else _xlsx_rows(path, password)
    first = next(rows, None)
    if first is None:
        raise InputError(f"{path.name} : fichier vide ; exportez-le à nouveau depuis LibreOsteo")
    header = [str(h) for h in first[1]]
    kind = classify_header(header)
    if kind is None:
        raise InputError(
            f"{path.name} : pas un export LibreOsteo (ligne d'en-tête non reconnue)",
            hint=Hint.CHOOSE_FORMAT,
        )
    return ExportFile(path, fmt, kind, header, resolve_columns(header, kind, path.name), rows)


def _csv_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    text = files.read_text(path)
    # Every LibreOsteo record ends with CRLF, the last one too: a file that stops without a
    # line break was cut short (copy interrupted, disk full) and its last row is incomplete.
    if text and not text.endswith("\n"):
        raise InputError(
            f"{path.name} : fichier tronqué (pas de saut de ligne à la fin) ;"
            " exportez-le à nouveau depuis LibreOsteo"
        )
    # strict: DRF's writer quotes every field that needs it, so a stray quote is damage
    return files.csv_rows(text, path.name, strict=True)


def _xlsx_rows(path: Path, password: files.Password | None) -> Iterator[tuple[int, list[Any]]]:
    with files.open_workbook(path, password) as book:
        rows = book.rows(0)  # drf-excel writes a single sheet, "Report"
    return enumerate(rows, start=1)


# --- cell values -----------------------------------------------------------------------


def text(value: Any, xlsx: bool) -> str | None:
    """A stripped string or None; undoes drf-excel's leading apostrophe in XLSX cells."""
    if value is None or value == "":
        return None
    if isinstance(value, float):
        s = str(int(value)) if value.is_integer() else repr(value)
    else:
        s = str(value)
    if xlsx and len(s) > 1 and s[0] == "'" and s[1] in _SANITIZED_FIRST:
        s = s[1:]
    s = s.strip()
    return s or None


def identifier(value: Any, xlsx: bool) -> str | None:
    """An id or number kept as text: numeric cells 24001.0 become '24001'."""
    if isinstance(value, bool):
        raise BadValue("bad_id")
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            raise BadValue("bad_id")
        return str(int(value))
    return text(value, xlsx)


def id_list(value: Any, xlsx: bool) -> list[str]:
    """drf-excel joins many-to-many ids with ', ' in one text cell ("29, 24")."""
    s = identifier(value, xlsx)
    return [p.strip() for p in s.split(",") if p.strip()] if s else []


def code(value: Any) -> int | None:
    """A small integer code (status, type); numeric XLSX cells arrive as floats."""
    if value is None or value == "":
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise BadValue("bad_code") from None
    if not f.is_integer():
        raise BadValue("bad_code")
    return int(f)


def amount(value: Any) -> Decimal:
    """Euros as an exact Decimal with two places; never goes through binary float arithmetic."""
    if value is None or value == "" or isinstance(value, bool):
        raise BadValue("bad_amount")
    try:
        # str(float) is the shortest repr (47.5 -> '47.5'), so Decimal(str()) is exact.
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise BadValue("bad_amount") from None
    if not d.is_finite() or abs(d) >= Decimal("1e10"):
        raise BadValue("bad_amount")
    return d.quantize(CENT)


def day(value: Any) -> date | None:
    """A calendar date from an ISO string, a date/datetime cell or an Excel serial."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_serial(value).date()
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise BadValue("bad_date") from None


def local_datetime(value: Any, zone: tzinfo = PARIS) -> datetime:
    """Wall-clock time of the practice's time zone `zone`, naive, to the second.

    CSV cells carry the offset (+01:00 / +02:00): converted to `zone` so a file from a
    server in another zone still lands on the right local day. XLSX cells are already the
    server's wall clock with the offset dropped by drf-excel, and are kept as they are.
    """
    if value is None or value == "":
        raise BadValue("bad_date")
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime.combine(value, time())
    elif isinstance(value, int | float) and not isinstance(value, bool):
        dt = _from_serial(value)
    else:
        try:
            dt = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise BadValue("bad_date") from None
    if dt.tzinfo is not None:
        dt = dt.astimezone(zone).replace(tzinfo=None)
    if dt.microsecond:  # Excel serials are floats: 16:14:59.9996 means 16:15:00
        dt = (dt + timedelta(microseconds=500_000)).replace(microsecond=0)
    return dt


def _from_serial(serial: float) -> datetime:
    if not 1 <= serial < 2_958_466:  # Excel's own range: 1900-01-01 .. 9999-12-31
        raise BadValue("bad_date")
    return _EXCEL_EPOCH + timedelta(days=serial)


def json_list(value: Any, xlsx: bool) -> list[dict[str, Any]]:
    """A JSON list of objects (paiments_list, invoices_list); decimals kept exact."""
    s = text(value, xlsx)
    if s is None:
        return []
    try:
        data = json.loads(s, parse_float=Decimal)
    except ValueError:
        raise BadValue("bad_json") from None
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise BadValue("bad_json")
    return data


@functools.lru_cache(maxsize=65536)
def fold(s: str) -> str:
    """Lower-case, accents removed: for keyword matching and case-insensitive keys."""
    decomposed = unicodedata.normalize("NFKD", s.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))

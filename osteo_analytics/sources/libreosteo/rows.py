"""LibreOsteo rows → plain records, one reader per export kind.

Each reader walks one file, keeps only the fields the canonical datasets need, and drops
the rest of the row at once: clinical free text (antécédents, examen, diagnostic,
conclusion...), contact details and addresses never leave this module. The reason for
consultation is turned into a motif category here and not kept either. What tells
namesakes apart (birth name and address, on patient files and invoices) leaves it only as
`Marks`: one digest per field, enough to compare two rows, never the text.

The records are the stage-1 rows themselves (``sources.tables``), plus what linking
needs: an examination names its :class:`Patient` (one per LibreOsteo identity, from the
patients files or else from the examinations), an invoice the patient it copied
(``named``) until linking finds who it is (``patient``).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from decimal import Decimal
from typing import Any

from osteo_analytics.pseudonymize.primitives import normalize_name
from osteo_analytics.sources.base import SEXES, FileReport, RejectedRow
from osteo_analytics.sources.libreosteo import files as lf
from osteo_analytics.sources.tables import (
    ConsultationRow,
    InvoiceRow,
    PatientRow,
    PaymentRow,
    payment_of,
)

# Digests of birth name, street, complement, postcode and city (None: column absent).
Marks = tuple[bytes | None, ...]
MARK_FIELDS = ("birth name", "street", "complement", "postcode", "city")


class Tally:
    """The FileReport of one file plus the rows it rejected, filled while reading."""

    def __init__(self, export: lf.ExportFile, rejected: list[RejectedRow]) -> None:
        self.report = FileReport(export.path, export.format, kind=export.kind)
        self.name = export.path.name
        self._rejected = rejected

    def set_aside(self, kind: str, reason: str) -> None:
        """Count a row as duplicate or excluded (title, blank, draft...)."""
        r = self.report
        if kind == "duplicate":
            r.duplicates += 1
        else:
            r.excluded += 1
        r.reasons[reason] = r.reasons.get(reason, 0) + 1

    def quarantine(self, row: int, column: str, rule: str, reason: str = "") -> None:
        """Count a row the adapter cannot use and record why (never the value)."""
        self.report.quarantined += 1
        self.report.reasons[rule] = self.report.reasons.get(rule, 0) + 1
        self._rejected.append(RejectedRow(self.name, row, column, rule, reason))


class RowError(Exception):
    """A row cannot be used: which column (header label) and which rule."""

    def __init__(self, column: str, rule: str) -> None:
        super().__init__(rule)
        self.column = column
        self.rule = rule


class _Row:
    """Field access by logical name on the current row, turning BadValue into RowError."""

    __slots__ = ("cells", "cols", "header", "xlsx")

    def __init__(self, export: lf.ExportFile, cols: dict[str, int | None]) -> None:
        self.header = export.header
        self.cols = cols
        self.xlsx = export.format == "xlsx"
        self.cells: list[Any] = []

    def raw(self, name: str) -> Any:
        idx = self.cols[name]
        return None if idx is None else self.cells[idx]  # walk() pads rows to the header

    def label(self, name: str) -> str:
        idx = self.cols.get(name)
        return self.header[idx] if idx is not None else name

    def text(self, name: str) -> str | None:
        return lf.text(self.raw(name), self.xlsx)

    def required(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise RowError(self.label(name), "missing_value")
        return value

    def therapist(self) -> str:
        """The therapist's full name (first and last name columns)."""
        name = _name(self.text("therapist_first"), self.text("therapist_last"))
        if name is None:
            raise RowError(self.label("therapist_last"), "missing_value")
        return name

    def parse(self, name: str, parser: Callable[..., Any], *args: Any) -> Any:
        try:
            return parser(self.raw(name), *args)
        except lf.BadValue as exc:
            raise RowError(self.label(name), exc.rule) from None


def walk(export: lf.ExportFile, tally: Tally) -> Iterator[tuple[int, _Row]]:
    """Yield (row number, _Row) for each data row; counts blank and malformed rows."""
    view = _Row(export, export.cols)
    width = len(export.header)
    for n, cells in export.data_rows():
        tally.report.rows_read += 1
        # any() first: cheap, and only rows of zeros/False/empties need the exact test
        if not any(cells) and all(c is None or c == "" for c in cells):
            tally.set_aside("excluded", "blank_row")
            continue
        if export.format == "csv" and len(cells) != width:
            tally.quarantine(n, "*", "wrong_field_count")
            continue
        if len(cells) < width:  # a workbook row may stop at its last non-empty cell
            cells = [*cells, *[None] * (width - len(cells))]
        view.cells = cells
        yield n, view


# --- records ---------------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class Patient(PatientRow):
    """A patients row, or a patient as an examination or an invoice names them."""

    tally: Tally
    marks: Marks = (None,) * len(MARK_FIELDS)  # unknown: a name in a session only


@dataclass(slots=True, kw_only=True)
class Exam(ConsultationRow):
    """A consultations row; ``at`` is its local start."""

    patient: Patient
    at: datetime
    tally: Tally
    invoice_ids: list[str] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class Invoice(InvoiceRow):
    """An invoices row; ``patient`` is ``named`` until linking finds who it is."""

    patient: Patient
    inv_id: str | None
    at: datetime
    mode: str
    canceled_by: str | None
    named: Patient  # the patient's names, birth name and address as the invoice copied them
    paiments: list[PaymentRow]
    tally: Tally
    replacement: bool = False  # the therapist's title on the invoice says "remplaçant(e)"
    replaced_on: date | None = None  # a cancelled invoice: day its replacement was issued


def patient_key(family: str, first: str, birth: date | None) -> tuple[str, str, date | None]:
    """LibreOsteo keeps (first name, family name, birth date) unique, case-insensitively."""
    return (lf.fold(family), lf.fold(first), birth)


@functools.lru_cache(maxsize=65536)  # addresses repeat; cleared when the read ends
def fingerprint(value: Any, xlsx: bool = False, postcode: bool = False) -> bytes:
    """A digest of a cell holding a name or an address part, folded as names are.

    Case, accents, punctuation and spacing do not count ('12, rue' = '12 RUE', as in
    pseudonymize.normalize_name); an empty cell has a digest too (no complement = no
    complement).
    """
    text = _postcode(value) if postcode else lf.text(value, xlsx)
    return hashlib.blake2b(normalize_name(text).encode(), digest_size=16).digest()


@functools.lru_cache(maxsize=65536)  # names repeat; cleared when the read ends
def name_key(family: str, first: str) -> tuple[str, str]:
    """Names as LibreOsteo normalizes them, folded: 'Jean Pierre' = 'JEAN-PIERRE'."""
    return (normalize_name(family), normalize_name(first))


def _mark_columns(export: lf.ExportFile, fields: tuple[str, ...]) -> list[tuple[int, bool]]:
    """(column, is postcode) of each Marks field, column -1 when the file lacks it."""
    cols = [export.cols.get(name) for name in fields]
    return [(-1 if c is None else c, i == 3) for i, c in enumerate(cols)]


def _marks(cells: list[Any], columns: list[tuple[int, bool]], xlsx: bool) -> Marks:
    """Marks of a row: birth name, street, complement, postcode, city (None if no column)."""
    return tuple(
        None if c < 0 else fingerprint(cells[c], xlsx, postcode) for c, postcode in columns
    )


# The therapist's title ("quality") that LibreOsteo copies onto each invoice from their
# profile: "Ostéopathe D.O., remplaçant de G. Tanguy". Optional, so looked up here by the
# labels of invoices.csv, invoices.xlsx and the API; one column in each.
_QUALITY_LABELS = ("En qualité de", "Qualité", "quality")
_REPLACEMENT_WORD = "remplac"  # remplaçant, remplaçante, folded


def says_replacement(title: str | None) -> bool:
    """True when a therapist's title calls them a replacement (remplaçant, remplaçante)."""
    return bool(title) and _REPLACEMENT_WORD in lf.fold(title or "")


_PATIENT_MARKS = ("birth_name", "street", "complement", "postcode", "city")
_INVOICE_MARKS = (
    "patient_birth_name",
    "patient_street",
    "patient_complement",
    "patient_zipcode",
    "patient_city",
)


# --- codes -----------------------------------------------------------------------------

_EXAM_TYPES = {1: "first", 2: "follow_up", 3: "return", 4: "urgent"}
_INVOICE_STATUSES = {1: "issued", 2: "paid", 3: "cancelled"}
_METHODS = {"cash": "especes", "check": "cheque", "ecard": "cb"}
_METHOD_TEXTS = {"especes": "especes", "espece": "especes", "cheque": "cheque", "cb": "cb"}
_METHOD_TEXTS |= {"carte bancaire": "cb", "carte": "cb", "virement": "virement"}
# status 3 ("not invoiced") comes with a free-text reason: only these words change its meaning
_NO_SHOW_WORDS = ("absent", "absence", "non honor", "lapin", "pas venu", "non venu", "no show")
_CANCEL_WORDS = ("annul", "decommand", "reporte")


def payment_method(code: str | None, label: str | None) -> str:
    """LibreOsteo means of payment → canonical method.

    A fresh install ships `check`, `cash` and `ecard` (migration 0031); the office can add
    its own means (free code + label) through /api/paiment-mean, so anything that reads as a
    bank transfer becomes `virement` and the rest `autre`.
    """
    c = lf.fold(code or "")
    if c in _METHODS:
        return _METHODS[c]
    t = lf.fold(label or "")
    if any(w in p for p in (c, t) for w in ("vir", "transf", "sepa", "wire")):
        return "virement"
    return _METHOD_TEXTS.get(t) or _METHOD_TEXTS.get(c) or "autre"


def exam_status(code: int | None, reason: str | None) -> str:
    """LibreOsteo status 0-2 is a session that took place; 3 depends on its reason."""
    if code != 3 or not reason:
        return "done"
    folded = lf.fold(reason)
    if any(w in folded for w in _NO_SHOW_WORDS):
        return "no_show"
    if any(w in folded for w in _CANCEL_WORDS):
        return "cancelled"
    return "done"  # free session, shortened session, goodwill gesture...


# --- readers ---------------------------------------------------------------------------


def read_patients(export: lf.ExportFile, tally: Tally, seen: dict[Any, Patient]) -> None:
    """Add the file's patients to ``seen`` by :func:`patient_key` (first file wins)."""
    mark_columns = _mark_columns(export, _PATIENT_MARKS)
    for n, r in walk(export, tally):
        try:
            family = r.required("family_name")
            first = r.required("first_name")
            birth = r.parse("birth_date", lf.day)
            registered = r.parse("registered_on", lf.day)
        except RowError as exc:
            tally.quarantine(n, exc.column, exc.rule)
            continue
        key = patient_key(family, first, birth)
        if key in seen:
            tally.set_aside("duplicate", "duplicate")
            continue
        sex = (r.text("sex") or "").upper()
        seen[key] = Patient(
            family_name=family,
            first_name=first,
            birth_name=r.text("birth_name"),
            birth_date=birth,
            sex=sex if sex in SEXES else None,
            postcode=_postcode(r.raw("postcode")),
            registered_on=registered,
            source_file=tally.name,
            source_row=n,
            tally=tally,
            marks=_marks(r.cells, mark_columns, r.xlsx),
        )


def _postcode(value: Any) -> str | None:
    if isinstance(value, float) and value.is_integer():  # typed as a number in Excel
        return f"{int(value):05d}"
    s = lf.text(value, True)
    return s.replace(" ", "") if s else None


def read_exams(
    export: lf.ExportFile,
    tally: Tally,
    seen: dict[Any, Exam],
    people: dict[Any, Patient],
    motif_of: Callable[[str], str | None],
    zone: tzinfo = lf.PARIS,
) -> None:
    """Add the file's examinations to ``seen``, keyed by patient and local start time.

    Each names its patient in ``people`` (by :func:`patient_key`), added there when no
    patients file holds them. ``zone`` is the practice's time zone: CSV date-times
    become local times in it.
    """
    has_status = export.format == "xlsx"  # examinations.csv has no status, type or invoice
    for n, r in walk(export, tally):
        try:
            family = r.required("patient_family")
            first = r.required("patient_first")
            birth = r.parse("patient_birth_date", lf.day)
            at = r.parse("date", lf.local_datetime, zone)
            therapist = r.therapist()
            status_code = r.parse("status", lf.code)
            type_code = r.parse("type", lf.code)
            invoice_ids = r.parse("invoice_ids", lf.id_list, r.xlsx)
            invoice_ids += [
                str(x["id"]) for x in r.parse("invoices_list", lf.json_list, r.xlsx) if "id" in x
            ]
            last_id = r.parse("last_invoice_id", lf.identifier, r.xlsx)
            exam_id = r.parse("id", lf.identifier, r.xlsx)
        except RowError as exc:
            tally.quarantine(n, exc.column, exc.rule)
            continue
        who = patient_key(family, first, birth)
        key = (*who, at)
        if key in seen:
            tally.set_aside("duplicate", "duplicate")
            continue
        reason = r.text("reason")
        if has_status:
            ctype = _EXAM_TYPES.get(type_code or 0, "other")
            status = exam_status(status_code, r.text("status_reason"))
        else:  # CSV: only the "Suite : " prefix LibreOsteo puts on follow-ups tells the type
            ctype = "follow_up" if reason and lf.fold(reason).startswith("suite") else "other"
            status = "done"
        patient = people.get(who)
        if patient is None:
            patient = people[who] = Patient(
                family_name=family,
                first_name=first,
                birth_date=birth,
                source_file=tally.name,
                source_row=n,
                tally=tally,
            )
        seen[key] = Exam(
            consultation_ref=f"E{exam_id}" if exam_id else f"{tally.name}#{n}",
            patient=patient,
            practitioner_name=therapist,
            consulted_on=at.date(),
            start_time=local_time(at),
            status=status,
            consultation_type=ctype,
            motif_category=motif_of(reason) if reason else None,
            source_file=tally.name,
            source_row=n,
            at=at,
            tally=tally,
            invoice_ids=[*invoice_ids, last_id] if last_id else invoice_ids,
        )


@functools.lru_cache(maxsize=1024)  # a handful of therapists, on every row
def _name(first: str | None, last: str | None) -> str | None:
    name = f"{first or ''} {last or ''}"
    return " ".join(name.split()) or None


def read_invoices(
    export: lf.ExportFile, tally: Tally, seen: dict[Any, Invoice], zone: tzinfo = lf.PARIS
) -> None:
    """Add the file's invoices and credit notes to ``seen``, keyed by internal id or number.

    ``zone`` is the practice's time zone: CSV date-times become local days in it.
    """
    paiment_cols = _paiment_columns(export.header) if export.format == "csv" else {}
    mark_columns = _mark_columns(export, _INVOICE_MARKS)
    quality = next((export.header.index(h) for h in _QUALITY_LABELS if h in export.header), None)
    for n, r in walk(export, tally):
        try:
            number = r.parse("number", lf.identifier, r.xlsx)
            if number is None:
                raise RowError(r.label("number"), "missing_value")
            inv_id = r.parse("id", lf.identifier, r.xlsx)
            amount = r.parse("amount", lf.amount)
            at = r.parse("date", lf.local_datetime, zone)
            status_code = r.parse("status", lf.code)
            kind = (r.text("type") or "").lower()
            if kind not in ("invoice", "creditnote"):
                raise RowError(r.label("type"), "bad_code")
            if status_code not in (0, 1, 2, 3):
                raise RowError(r.label("status"), "bad_code")
            family = r.required("patient_family")
            first = r.required("patient_first")
            therapist = r.therapist()
            if paiment_cols:
                raw_paiments = _csv_paiments(r.cells, paiment_cols)
            else:
                raw_paiments = r.parse("paiments_list", lf.json_list, r.xlsx)
            paiments = _paiments(raw_paiments, r.label("paiments_list"))
            canceled_by = r.parse("canceled_by", lf.identifier, r.xlsx)
            replaces = r.parse("replace", lf.identifier, r.xlsx)
        except RowError as exc:
            tally.quarantine(n, exc.column, exc.rule)
            continue
        if status_code == 0:  # draft: never issued, so not an invoice yet
            tally.set_aside("excluded", "draft_invoice")
            continue
        key = ("id", inv_id) if inv_id else ("number", number)
        if key in seen:
            tally.set_aside("duplicate", "duplicate")
            continue
        status = "credit_note" if kind == "creditnote" else _INVOICE_STATUSES[status_code]
        named = Patient(
            family_name=family,
            first_name=first,
            birth_name=r.text("patient_birth_name"),
            source_file=tally.name,
            source_row=n,
            tally=tally,
            marks=_marks(r.cells, mark_columns, r.xlsx),
        )
        seen[key] = Invoice(
            invoice_number=number,
            patient=named,
            practitioner_name=therapist,
            issued_on=at.date(),
            amount=amount,
            status=status,
            replaces_invoice_number=replaces if kind == "invoice" else None,
            source_file=tally.name,
            source_row=n,
            inv_id=inv_id,
            at=at,
            mode=r.text("mode") or "",
            canceled_by=canceled_by,
            named=named,
            paiments=[],
            tally=tally,
            replacement=quality is not None and says_replacement(lf.text(r.cells[quality], r.xlsx)),
        )
        seen[key].paiments = [payment_of(seen[key], *p) for p in paiments]


def _paiment_columns(header: list[str]) -> dict[int, dict[str, int]]:
    """invoices.csv flattens nested Paiment rows into paiments_list.<n>.<field> columns."""
    out: dict[int, dict[str, int]] = {}
    for i, label in enumerate(header):
        if label.startswith(lf.PAIMENT_PREFIX):
            parts = label.split(".")
            if len(parts) == 3 and parts[1].isdigit():
                out.setdefault(int(parts[1]), {})[parts[2]] = i
    return out


def _csv_paiments(cells: list[Any], cols: dict[int, dict[str, int]]) -> list[dict[str, Any]]:
    found = []
    for _, fields in sorted(cols.items()):
        item = {k: cells[i] for k, i in fields.items()}
        if any(v not in ("", None) for v in item.values()):
            found.append(item)
    return found


def _paiments(items: list[dict[str, Any]], column: str) -> list[tuple[date, Decimal, str]]:
    """(day, amount, method) of each Paiment row, in date order."""
    out = []
    for item in items:
        try:
            paid_on = lf.day(item.get("date"))
            value = lf.amount(item.get("amount"))
        except lf.BadValue as exc:
            raise RowError(column, f"bad_payment_{exc.rule.removeprefix('bad_')}") from None
        if paid_on is None:
            raise RowError(column, "bad_payment_date")
        method = payment_method(item.get("paiment_mode"), item.get("paiment_mode_text"))
        out.append((paid_on, value, method))
    return sorted(out, key=lambda p: p[0])


def local_time(at: datetime) -> time:
    """Start time of day, to the second."""
    return at.time().replace(microsecond=0)

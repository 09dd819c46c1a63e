"""Generic adapter: any CSV/XLSX sheet described by a mapping file → stage-1 source tables.

For practitioners whose spreadsheet is their own: a YAML mapping file
(``data_contracts/sources/README.md``; example ``example-visits.yaml``) names which header
holds which canonical column, how dates and amounts are written, the sheet's own words
for statuses and means of payment, and which datasets the file feeds. The generic
adapter is never picked by ``--format auto``: ``osteo import FILE --format generic
--mapping M.yaml``. ``osteo import --suggest-mapping FILE`` drafts the mapping.

Conventions (one row = one patient for ``feeds: [patients]``, one visit otherwise):

- **Patients** are derived from the rows too (one per identity: family name, first name,
  birth date when mapped), from the first row naming them, so that visits always have a
  parent. ``full_name`` cells ('DUPONT Marie', 'Dupont, Marie') are split by
  ``frenchparse.split_name``.
- **Consultations**: status from the ``status`` column (empty → done; unknown word →
  quarantined ``unknown_value``); type from ``consultation_type`` (unknown → other); the
  ``motif`` text becomes ``motif_category`` at once and is never kept.
- **Invoices**: a row with a non-zero ``amount`` is an invoice (an empty or zero fee, as
  for a free or cancelled session, is none; a negative one is quarantined). Without an
  ``invoice_number`` column (or cell) the number is ``G-YYYYMMDD-<digest>``, from the
  visit's content (``sources/generic/records.py``): the same visit imported again keeps it. Paid
  when ``invoice_status`` says so, else when ``payment_method`` names a means (empty,
  "impayé", "en attente" → unpaid), else when ``paid_on`` is filled.
- **Payments** (``feeds`` has payments): one per paid row, on ``paid_on`` (else the issue
  day), of ``paid_amount`` (else the fee), by ``payment_method`` (else ``autre``); a
  partial payment leaves the invoice ``issued``.
- **Accounting**: rows above the header are ``title_row``, empty rows ``blank_row``, rows
  without a name that mention a total ``subtotal_row`` (excluded); a visit seen twice is a
  ``duplicate``; everything else unreadable is quarantined with its rule and the header of
  the column at fault. ``source_file`` is the file name (a sheet is not named after a patient).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from osteo_analytics.errors import Hint, InputError, MappingError
from osteo_analytics.pseudonymize.motifs import motif_category
from osteo_analytics.pseudonymize.primitives import normalize_name
from osteo_analytics.sources import files as source_files
from osteo_analytics.sources import frenchparse as fp
from osteo_analytics.sources.base import FileReport, RejectedRow, SourceBatch
from osteo_analytics.sources.generic import values as gv
from osteo_analytics.sources.generic.files import FORMATS, open_sheet
from osteo_analytics.sources.generic.mapping import Mapping, load_mapping
from osteo_analytics.sources.generic.records import Fee, Patient, Tally, Visit, visits_batch
from osteo_analytics.sources.generic.suggest import suggest_mapping

name = "generic"
SOURCE = "generic"
INVOICE_PREFIX = "G"
_TOTAL_WORDS = ("total", "sous total", "totaux", "cumul")

__all__ = ["detect", "load_mapping", "name", "read", "suggest_mapping"]


def detect(path: Path) -> bool:
    """Always False: a generic sheet cannot be recognized without its mapping file."""
    return False


def read(
    paths: Sequence[Path],
    *,
    mapping: Path | None = None,
    password: source_files.Password | None = None,
) -> SourceBatch:
    """Read ``paths`` (files, or folders of .csv/.xlsx) as ``mapping`` describes them.

    ``password(path)`` is asked for each password-protected workbook (never otherwise).
    Raises MappingError for a bad mapping file, InputError for a file that cannot be read
    or lacks a mapped column. Rows that cannot be parsed are quarantined, never raised.
    """
    if mapping is None:
        raise MappingError(
            "le format generic demande un fichier de correspondance", hint=Hint.MAPPING_REQUIRED
        )
    spec = load_mapping(mapping)
    inputs = _collect(paths)
    rejected: list[RejectedRow] = []
    reports: list[FileReport] = []
    patients: list[Patient] = []
    visits: list[Visit] = []
    for path in inputs:
        sheet = open_sheet(path, spec, password)
        kind = "patients" if spec.feeds == {"patients"} else "visits"
        tally = Tally(FileReport(path, sheet.format, kind=kind), path.name, rejected)
        reports.append(tally.report)
        tally.read(sheet.above)
        tally.set_aside("excluded", "title_row", sheet.above)
        _RowReader(spec, sheet.columns, tally, patients, visits).read_all(sheet.rows)
    return visits_batch(SOURCE, patients, visits, reports, rejected, invoice_prefix=INVOICE_PREFIX)


def _collect(paths: Sequence[Path]) -> list[Path]:
    found = source_files.collect(paths, FORMATS, "tableau")
    names = [p.name for p in found]
    twice = next((n for n in names if names.count(n) > 1), None)
    if twice is not None:
        # source_file is the file name: two files of one name could not be told apart
        raise InputError(f"{twice} : deux fichiers portent ce nom ; importez-les séparément")
    return found


class _RowError(Exception):
    def __init__(self, column: str, rule: str) -> None:
        super().__init__(rule)
        self.column, self.rule = column, rule


class _RowReader:
    """Turns the rows of one file into patients and visits, counting every row."""

    def __init__(
        self,
        spec: Mapping,
        columns: dict[str, int],
        tally: Tally,
        patients: list[Patient],
        visits: list[Visit],
    ) -> None:
        self.spec, self.columns, self.tally = spec, columns, tally
        self.patients, self.visits = patients, visits
        self.cells: list[Any] = []
        self.seen: set[Any] = set()
        self.numbers: set[str] = set()
        self.width = max(columns.values(), default=0) + 1

    def read_all(self, rows: Any) -> None:
        for n, cells in rows:
            self.tally.read()
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                self.tally.set_aside("excluded", "blank_row")
                continue
            self.cells = list(cells) + [None] * (self.width - len(cells))
            try:
                self._row(n)
            except _RowError as exc:
                self.tally.quarantine(n, exc.column, exc.rule)

    # --- cell access ---------------------------------------------------------------------

    def raw(self, column: str) -> Any:
        idx = self.columns.get(column)
        return None if idx is None else self.cells[idx]

    def parse(self, column: str, parser: Any, *args: Any) -> Any:
        try:
            return parser(self.raw(column), *args)
        except fp.BadValue as exc:
            raise _RowError(self.spec.header_of(column) or column, exc.rule) from None

    def required(self, column: str, value: Any) -> Any:
        if value is None:
            raise _RowError(self.spec.header_of(column) or column, "missing_value")
        return value

    # --- rows ----------------------------------------------------------------------------

    def _row(self, n: int) -> None:
        if self._is_subtotal():
            self.tally.set_aside("excluded", "subtotal_row")
            return
        patient = self._patient(n)
        feeds = self.spec.feeds
        if not feeds & {"consultations", "invoices"}:
            if patient.key() in self.seen:
                self.tally.set_aside("duplicate", "duplicate")
                return
            self.seen.add(patient.key())
            self.patients.append(patient)
            self.tally.accept()
            return
        visit = self._visit(n, patient)
        key = self._visit_key(visit)
        if key in self.seen:
            self.tally.set_aside("duplicate", "duplicate")
            return
        number = visit.invoice.invoice_number if visit.invoice else ""  # "": the sheet has none
        if number and number in self.numbers:
            raise _RowError(self.spec.header_of("invoice_number") or "", "duplicate_invoice_number")
        self.seen.add(key)
        if number:
            self.numbers.add(number)
        self.visits.append(visit)
        self.tally.accept()

    def _is_subtotal(self) -> bool:
        """A 'Total' / 'Sous-total' line: a cell starts with the word, and no date is set."""
        if not any(normalize_name(gv.text(c)).startswith(_TOTAL_WORDS) for c in self.cells):
            return False
        dates = ("consulted_on", "issued_on", "birth_date")
        return all(self.raw(c) in (None, "") for c in dates)

    def _patient(self, n: int) -> Patient:
        if self.spec.maps("full_name"):
            raw = self.parse("full_name", gv.name)
            split = fp.split_name(raw) if raw else None
            family, first, civility = (
                (split.family, split.first, split.sex) if split else (None, "", None)
            )
        else:
            family = self.parse("family_name", gv.name)
            first, civility = self.parse("first_name", gv.name) or "", None
        if family is None:
            raise _RowError(
                self.spec.header_of("full_name") or self.spec.header_of("family_name") or "",
                "missing_value",
            )
        return Patient(
            family_name=family,
            first_name=first,
            birth_date=self.parse("birth_date", gv.day, self.spec),
            sex=self.parse("sex", gv.sex, self.spec) or civility,
            postcode=self.parse("postcode", gv.postcode),
            registered_on=self.parse("registered_on", gv.day, self.spec),
            source_file=self.tally.label,
            source_row=n,
        )

    def _visit(self, n: int, patient: Patient) -> Visit:
        spec = self.spec
        with_consultation = "consultations" in spec.feeds
        consulted_on = self.parse("consulted_on", gv.day, spec)
        if with_consultation:
            self.required("consulted_on", consulted_on)
        practitioner = self.parse("practitioner", gv.name) or spec.practitioner
        fee = None
        if not with_consultation:  # a sheet of invoices: its visits are dated by them
            fee = self._fee(consulted_on)
            if fee is None:
                raise _RowError(spec.header_of("amount") or "", "missing_value")
            consulted_on = fee.issued_on
        visit = Visit(
            patient=patient,
            practitioner_name=practitioner,
            consulted_on=consulted_on,
            source_file=self.tally.label,
            source_row=n,
            start_time=self.parse("start_time", gv.clock),
            status=self.parse("status", gv.status, spec),
            consultation_type=self.parse("consultation_type", gv.consultation_type, spec),
            motif_category=self._motif(),
            with_consultation=with_consultation,
        )
        if with_consultation and "invoices" in spec.feeds:
            fee = self._fee(consulted_on)
        if fee is not None:
            visit.bill(fee)
        return visit

    def _motif(self) -> str | None:
        text = gv.text(self.raw("motif"))
        return motif_category(text) if text else None  # the free text is never kept

    def _fee(self, consulted_on: date | None) -> Fee | None:
        spec = self.spec
        amount = self.parse("amount", gv.amount, spec)
        if amount is None or amount == 0:
            return None  # free or cancelled session: nothing invoiced
        if amount < 0:
            raise _RowError(spec.header_of("amount") or "", "negative_amount")
        issued_on = self.required(
            "issued_on", self.parse("issued_on", gv.day, spec) or consulted_on
        )
        number = self.parse("invoice_number", gv.text)
        status = self.parse("invoice_status", gv.invoice_status, spec)
        method = self.parse("payment_method", gv.method, spec)
        paid_on = self.parse("paid_on", gv.day, spec)
        if status is None:
            settled = method is not None if spec.maps("payment_method") else paid_on is not None
            status = "paid" if settled else "issued"
        if status != "paid" or "payments" not in spec.feeds:
            return Fee(number, issued_on, amount, status)
        paid_amount = self.parse("paid_amount", gv.amount, spec)
        paid_amount = amount if paid_amount is None else paid_amount
        if paid_amount < amount:
            status = "issued"  # partly paid: still awaiting the rest
        payment = (
            (paid_on or issued_on, paid_amount, method or "autre") if paid_amount > 0 else None
        )
        return Fee(number, issued_on, amount, status, payment)

    def _visit_key(self, v: Visit) -> tuple[Any, ...]:
        who = v.patient.key()
        if v.with_consultation:
            return (who, v.consulted_on, v.start_time, normalize_name(v.practitioner_name))
        inv = v.invoice
        return (who, inv.invoice_number, inv.issued_on, inv.amount) if inv else (who, v.source_row)

"""Records shared by the generic and Word adapters, and the stage-1 tables built from them.

Both adapters read "visits": one row (or paragraph) naming a patient, a day, maybe a fee
and its payment. They turn each into a :class:`Visit`; :func:`build_batch` derives the
patients (one per identity, from the first row naming it) and practitioners, numbers the
invoices that have no number, and builds the five tables.

Invoice numbers. An invoice without a number gets ``<prefix>-YYYYMMDD-<digest>``, keyed by
``pseudonymize`` on its content (``base.GeneratedNumbers``): day, patient, practitioner,
fee, start time, and its occurrence among the identical visits of its file. The payment
recorded on the row is left out on purpose: a visit is one invoice whatever its payment
state, so a re-export where it became paid updates it (the import counts a conflict)
instead of adding a second invoice. The same visit read again, from the same file or an
overlapping one, gets the same number; two different visits never share one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from typing import Any

import pyarrow as pa

from osteo_analytics.pseudonymize.primitives import normalize_name
from osteo_analytics.sources.base import (
    CONSULTATIONS_SCHEMA,
    INVOICES_SCHEMA,
    PATIENTS_SCHEMA,
    PAYMENTS_SCHEMA,
    PRACTITIONERS_SCHEMA,
    FileReport,
    GeneratedNumbers,
    RejectedRow,
    SourceBatch,
    table_from_columns,
)

IdentityKey = tuple[str, str, date | None]


@dataclass(slots=True)
class Patient:
    """A patient as the source names them; identity stays in clear until pseudonymize."""

    family: str
    first: str
    birth_date: date | None = None
    sex: str | None = None
    postcode: str | None = None
    registered_on: date | None = None
    source_file: str = ""
    row: int = 0

    def key(self) -> IdentityKey:
        """Identity folded as pseudonymize folds it: one patient row per key."""
        return (normalize_name(self.family), normalize_name(self.first), self.birth_date)


@dataclass(slots=True)
class Payment:
    paid_on: date
    amount: Decimal
    method: str


@dataclass(slots=True)
class Invoice:
    number: str | None  # None: numbered by build_batch
    issued_on: date
    amount: Decimal
    status: str  # issued, paid, cancelled
    payments: list[Payment] = field(default_factory=list)
    number_basis: str | None = None  # set with a provisional number (base.GeneratedNumbers)


@dataclass(slots=True)
class Visit:
    """One source row: a consultation (if the source feeds them) and/or its invoice."""

    patient: Patient
    practitioner: str
    consulted_on: date | None
    source_file: str
    row: int
    start_time: time | None = None
    status: str = "done"
    ctype: str = "other"
    motif: str | None = None
    with_consultation: bool = True
    invoice: Invoice | None = None


class Tally:
    """Row accounting of one file (rows_read = accepted + quarantined + duplicates + excluded)."""

    def __init__(self, report: FileReport, label: str, rejected: list[RejectedRow]) -> None:
        self.report = report
        self.label = label  # what source_file holds
        self._rejected = rejected

    def read(self, n: int = 1) -> None:
        self.report.rows_read += n

    def accept(self) -> None:
        self.report.accepted += 1

    def set_aside(self, kind: str, reason: str, n: int = 1) -> None:
        """Count rows as duplicate or excluded (title, blank, free text...)."""
        if n <= 0:
            return
        if kind == "duplicate":
            self.report.duplicates += n
        else:
            self.report.excluded += n
        self.report.reasons[reason] = self.report.reasons.get(reason, 0) + n

    def note(self, rule: str) -> None:
        """Record a problem with the file as a whole (row 0), which has no row to count."""
        self._rejected.append(RejectedRow(self.label, 0, "*", rule))

    def quarantine(self, row: int, column: str, rule: str) -> None:
        """Count a row that cannot be used and record why (never its value)."""
        self.report.quarantined += 1
        self.report.reasons[rule] = self.report.reasons.get(rule, 0) + 1
        self._rejected.append(RejectedRow(self.label, row, column, rule))


def build_batch(
    source: str,
    patients: Sequence[Patient],
    visits: Sequence[Visit],
    files: list[FileReport],
    rejected: list[RejectedRow],
    *,
    invoice_prefix: str,
) -> SourceBatch:
    """The five stage-1 tables from explicit patients and visits (see module docstring)."""
    people: dict[IdentityKey, Patient] = {}
    for p in [*patients, *(v.patient for v in visits)]:
        people.setdefault(p.key(), p)
    _number_invoices(visits, invoice_prefix)
    batch = SourceBatch(
        patients=_patients_table(source, list(people.values())),
        practitioners=_practitioners_table(source, visits),
        consultations=_consultations_table(source, visits),
        invoices=_invoices_table(source, visits),
        payments=_payments_table(source, visits),
        files=files,
        rejected=rejected,
    )
    batch.assert_valid()
    return batch


def _number_invoices(visits: Sequence[Visit], prefix: str) -> None:
    """Provisional numbers and their basis for the invoices without a number."""
    numbers = GeneratedNumbers(prefix)
    for v in visits:
        inv = v.invoice
        if inv is not None and inv.number is None:
            who = (v.patient.key(), normalize_name(v.practitioner))
            start = v.start_time.strftime("%H:%M") if v.start_time is not None else ""
            inv.number, inv.number_basis = numbers.number(
                v.source_file, who, inv.issued_on, f"{inv.amount:.2f}", start
            )


def _columns(schema: pa.Schema) -> dict[str, list[Any]]:
    return {f.name: [] for f in schema}


def _provenance(cols: dict[str, list[Any]], source: str, file: str, row: int) -> None:
    cols["source"].append(source)
    cols["source_file"].append(file)
    cols["source_row"].append(row)


def _ref(v: Visit) -> str:
    return f"{v.source_file}#{v.row}"


def _patients_table(source: str, patients: list[Patient]) -> pa.Table:
    cols = _columns(PATIENTS_SCHEMA)
    for p in patients:
        cols["family_name"].append(p.family)
        cols["first_name"].append(p.first)
        cols["birth_name"].append(None)
        cols["birth_date"].append(p.birth_date)
        cols["sex"].append(p.sex)
        cols["postcode"].append(p.postcode)
        cols["registered_on"].append(p.registered_on)
        _provenance(cols, source, p.source_file, p.row)
    return table_from_columns(PATIENTS_SCHEMA, cols)


def _practitioners_table(source: str, visits: Sequence[Visit]) -> pa.Table:
    first_seen: dict[str, Visit] = {}
    counts: Counter[str] = Counter()
    for v in visits:
        key = normalize_name(v.practitioner)
        first_seen.setdefault(key, v)
        counts[key] += 1
    # the practitioner with most visits holds the practice; the others replace or assist
    titular = max(first_seen, key=lambda k: counts[k], default=None)
    cols = _columns(PRACTITIONERS_SCHEMA)
    for key, v in first_seen.items():
        cols["display_name"].append(v.practitioner)
        cols["role"].append("titular" if key == titular else "replacement")
        _provenance(cols, source, v.source_file, v.row)
    return table_from_columns(PRACTITIONERS_SCHEMA, cols)


def _consultations_table(source: str, visits: Sequence[Visit]) -> pa.Table:
    cols = _columns(CONSULTATIONS_SCHEMA)
    for v in visits:
        if not v.with_consultation:
            continue
        cols["consultation_ref"].append(_ref(v))
        cols["patient_family_name"].append(v.patient.family)
        cols["patient_first_name"].append(v.patient.first)
        cols["patient_birth_date"].append(v.patient.birth_date)
        cols["practitioner_name"].append(v.practitioner)
        cols["consulted_on"].append(v.consulted_on)
        cols["start_time"].append(v.start_time)
        cols["status"].append(v.status)
        cols["consultation_type"].append(v.ctype)
        cols["motif_category"].append(v.motif)
        _provenance(cols, source, v.source_file, v.row)
    return table_from_columns(CONSULTATIONS_SCHEMA, cols)


def _invoices_table(source: str, visits: Sequence[Visit]) -> pa.Table:
    cols = _columns(INVOICES_SCHEMA)
    for v in visits:
        inv = v.invoice
        if inv is None:
            continue
        cols["invoice_number"].append(inv.number)
        cols["consultation_ref"].append(_ref(v) if v.with_consultation else None)
        cols["patient_family_name"].append(v.patient.family)
        cols["patient_first_name"].append(v.patient.first)
        cols["patient_birth_date"].append(v.patient.birth_date)
        cols["practitioner_name"].append(v.practitioner)
        cols["issued_on"].append(inv.issued_on)
        cols["amount"].append(inv.amount)
        cols["status"].append(inv.status)
        cols["replaces_invoice_number"].append(None)
        cols["cancels_invoice_number"].append(None)
        cols["number_basis"].append(inv.number_basis)
        _provenance(cols, source, v.source_file, v.row)
    return table_from_columns(INVOICES_SCHEMA, cols)


def _payments_table(source: str, visits: Sequence[Visit]) -> pa.Table:
    cols = _columns(PAYMENTS_SCHEMA)
    for v in visits:
        if v.invoice is None:
            continue
        for seq, pay in enumerate(v.invoice.payments, start=1):
            cols["payment_id"].append(f"{v.invoice.number}/{seq}")
            cols["invoice_number"].append(v.invoice.number)
            cols["paid_on"].append(pay.paid_on)
            cols["amount"].append(pay.amount)
            cols["method"].append(pay.method)
            _provenance(cols, source, v.source_file, v.row)
    return table_from_columns(PAYMENTS_SCHEMA, cols)

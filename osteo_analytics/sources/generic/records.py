"""Records shared by the generic and Word adapters, and the stage-1 batch built from them.

Both adapters read "visits": one row (or paragraph) naming a patient, a day, maybe a fee
and its payment. Each becomes a :class:`Visit`, which is the consultation row itself, and
its :class:`Fee` the visit's invoice row (:meth:`Visit.bill`); :func:`visits_batch`
derives the patients (one per identity, from the first row naming it), numbers the
invoices that have no number, and hands everything to ``tables.build_batch`` (which also
derives the practitioners).

Invoice numbers. An invoice without a number gets ``<prefix>-YYYYMMDD-<digest>``, keyed by
``pseudonymize`` on its content (``base.GeneratedNumbers``): day, patient, practitioner,
fee, start time, and its occurrence among the identical visits of its file. The payment
recorded on the row is left out on purpose: a visit is one invoice whatever its payment
state, so a re-export where it became paid updates it (the import counts a conflict)
instead of adding a second invoice. The same visit read again, from the same file or an
overlapping one, gets the same number; two different visits never share one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from osteo_analytics.pseudonymize.primitives import normalize_name
from osteo_analytics.sources.base import FileReport, GeneratedNumbers, RejectedRow, SourceBatch
from osteo_analytics.sources.tables import (
    ConsultationRow,
    InvoiceRow,
    PatientRow,
    build_batch,
    payment_of,
)

IdentityKey = tuple[str, str, date | None]
Paid = tuple[date, Decimal, str]  # a payment on the spot: day, amount, means


class Patient(PatientRow):
    """A patient as the source names them; identity stays in clear until pseudonymize."""

    __slots__ = ()

    def key(self) -> IdentityKey:
        """Identity folded as pseudonymize folds it: one patient row per key."""
        return (normalize_name(self.family_name), normalize_name(self.first_name), self.birth_date)


class Fee(NamedTuple):
    """What a row says of its fee: the invoice to make and, if any, its one payment."""

    number: str | None  # None: numbered by visits_batch
    issued_on: date
    amount: Decimal
    status: str  # issued, paid, cancelled
    paid: Paid | None = None


@dataclass(slots=True, kw_only=True)
class Invoice(InvoiceRow):
    """A visit's invoices row (``invoice_number`` empty until visits_batch numbers it)."""

    paid: Paid | None = None


@dataclass(slots=True, kw_only=True)
class Visit(ConsultationRow):
    """One source row: a consultation row, its invoice if any, and its patient.

    ``consultation_ref`` is ``<source_file>#<source_row>``. A visit read from a sheet that
    feeds invoices only (``with_consultation`` false) is dated by its invoice and is not
    a row of the consultations table.
    """

    consultation_ref: str = field(default="", init=False)
    patient: Patient
    with_consultation: bool = True
    invoice: Invoice | None = None

    def __post_init__(self) -> None:
        self.consultation_ref = f"{self.source_file}#{self.source_row}"

    def bill(self, fee: Fee) -> None:
        """Make the visit's invoice: same patient, practitioner and row."""
        number, issued_on, amount, status, paid = fee
        self.invoice = Invoice(
            invoice_number=number or "",
            consultation_ref=self.consultation_ref if self.with_consultation else None,
            patient=self.patient,
            practitioner_name=self.practitioner_name,
            source_file=self.source_file,
            source_row=self.source_row,
            issued_on=issued_on,
            amount=amount,
            status=status,
            paid=paid,
        )


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


def visits_batch(
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
    invoices = [v.invoice for v in visits if v.invoice is not None]
    return build_batch(
        source,
        patients=list(people.values()),
        consultations=[v for v in visits if v.with_consultation],
        invoices=invoices,
        payments=[payment_of(inv, *inv.paid) for inv in invoices if inv.paid is not None],
        files=files,
        rejected=rejected,
    )


def _number_invoices(visits: Sequence[Visit], prefix: str) -> None:
    """Provisional numbers and their basis for the invoices without a number."""
    numbers = GeneratedNumbers(prefix)
    for v in visits:
        inv = v.invoice
        if inv is not None and not inv.invoice_number:
            who = (v.patient.key(), normalize_name(v.practitioner_name))
            start = v.start_time.strftime("%H:%M") if v.start_time is not None else ""
            inv.invoice_number, inv.number_basis = numbers.number(
                v.source_file, who, inv.issued_on, f"{inv.amount:.2f}", start
            )

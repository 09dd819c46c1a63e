"""Ground truth: the headline figures of DESIGN.md, aggregated while the practice is generated.

Plain Python over the generator's own events (no SQL, nothing shared with the metrics
code but the contract's payment methods), so the metrics can be tested against it.
Definitions (DESIGN.md, "Headline figures"):
consultations by consultation date and status; `new_patients` = patients whose first done
consultation falls in the month; `active_patients` = distinct patients with a done
consultation in the month; `revenue_invoiced` = invoices by issue date, excluding cancelled
invoices and the credit notes that cancel a whole invoice (a partial credit note reduces the
month it is issued in); `revenue_received` / `received_by_method` = payments by payment
date, refunds negative; `unpaid_*` = invoices issued in the month not fully paid on `to`
(net of partial credit notes and of the refunds booked on them).
`totals` sums the additive keys (`active_patients` is a distinct count, so it is not summed)
and adds `distinct_patients`.

`PractitionerTruth` keeps the same figures for each practitioner apart (docs/metrics.md,
"Practitioners"): a consultation counts for its practitioner, an invoice, its credit notes
and the money booked on them for the practitioner who issued it, and a patient is new to
a practitioner at their first done consultation with them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from osteo_analytics.contracts.model import codes
from osteo_analytics.synthetic.model import Exam, Invoice, Practice

METHODS = codes("payments", "method")  # the canonical codes, not the generator's words
_CENT = Decimal("0.01")


def months_between(start: dt.date, end: dt.date) -> list[str]:
    """Every month "YYYY-MM" that overlaps [start, end]."""
    result = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        result.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


class _Month:
    __slots__ = (
        "active",
        "by_method",
        "cancelled",
        "done",
        "invoiced",
        "new",
        "no_show",
        "received",
        "unpaid_amount",
        "unpaid_count",
    )

    def __init__(self) -> None:
        self.done = self.cancelled = self.no_show = self.new = 0
        self.active: set[int] = set()
        self.invoiced = self.received = self.unpaid_count = self.unpaid_amount = 0
        self.by_method = dict.fromkeys(METHODS, 0)


class TruthBook:
    """Per-month counters (integer cents) for one view of the practice."""

    def __init__(self, start: dt.date, end: dt.date) -> None:
        self.start, self.end = start, end
        self._keys = months_between(start, end)
        self._list = [_Month() for _ in self._keys]
        self._months = dict(zip(self._keys, self._list, strict=True))
        self._base = start.year * 12 + start.month  # month index = year * 12 + month - base
        self._seen = bytearray()  # patient key -> has had a done consultation
        self._active_counts: dict[str, int] = {}
        self._current = -1

    def consultation(self, day: dt.date, outcome: str, patient: int) -> None:
        """One appointment: done, cancelled or no_show, for patient key `patient` (an int)."""
        index = day.year * 12 + day.month - self._base
        month = self._list[index]
        if outcome == "cancelled":
            month.cancelled += 1
            return
        if outcome == "no_show":
            month.no_show += 1
            return
        month.done += 1
        if index != self._current:  # chronological input: earlier months' sets can be counted
            self._close_active(index)
        month.active.add(patient)
        seen = self._seen
        if patient >= len(seen):
            seen.extend(bytes(patient + 1 - len(seen) + 1024))
        if not seen[patient]:
            seen[patient] = 1
            month.new += 1

    def _close_active(self, new_current: int) -> None:
        for index, month in enumerate(self._list):
            if index < new_current and month.active:
                self._active_counts[self._keys[index]] = len(month.active)
                month.active = set()
        self._current = new_current

    def invoice(self, issued: dt.date, amount: int, due: int) -> None:
        """A live invoice (not cancelled, not a credit note) and what is still due on `to`."""
        month = self._list[issued.year * 12 + issued.month - self._base]
        month.invoiced += amount
        if due > 0:
            month.unpaid_count += 1
            month.unpaid_amount += due

    def partial_credit_note(self, issued: dt.date, amount: int) -> None:
        """A partial credit note (amount < 0): it lowers facturé of the month it is issued in."""
        self._list[issued.year * 12 + issued.month - self._base].invoiced += amount

    def money(self, day: dt.date, method: str, amount: int) -> None:
        """A payment (> 0) or a refund (< 0) received on `day`."""
        month = self._list[day.year * 12 + day.month - self._base]
        month.received += amount
        month.by_method[method] += amount

    def to_json(self) -> dict[str, Any]:
        """The headline-figures document (DESIGN.md schema), amounts as "1234.50" strings."""
        self._close_active(len(self._list))
        months = []
        totals: dict[str, Any] = {
            "consultations_done": 0,
            "consultations_cancelled": 0,
            "consultations_no_show": 0,
            "new_patients": 0,
            "revenue_invoiced": 0,
            "revenue_received": 0,
            "received_by_method": dict.fromkeys(METHODS, 0),
            "unpaid_invoices": 0,
            "unpaid_amount": 0,
        }
        for key, m in self._months.items():
            months.append(
                {
                    "month": key,
                    "consultations_done": m.done,
                    "consultations_cancelled": m.cancelled,
                    "consultations_no_show": m.no_show,
                    "new_patients": m.new,
                    "active_patients": self._active_counts.get(key, 0),
                    "revenue_invoiced": _euros(m.invoiced),
                    "revenue_received": _euros(m.received),
                    "received_by_method": {k: _euros(v) for k, v in m.by_method.items()},
                    "unpaid_invoices": m.unpaid_count,
                    "unpaid_amount": _euros(m.unpaid_amount),
                }
            )
            for name, value in (
                ("consultations_done", m.done),
                ("consultations_cancelled", m.cancelled),
                ("consultations_no_show", m.no_show),
                ("new_patients", m.new),
                ("revenue_invoiced", m.invoiced),
                ("revenue_received", m.received),
                ("unpaid_invoices", m.unpaid_count),
                ("unpaid_amount", m.unpaid_amount),
            ):
                totals[name] += value
            for method, value in m.by_method.items():
                totals["received_by_method"][method] += value
        for name in ("revenue_invoiced", "revenue_received", "unpaid_amount"):
            totals[name] = _euros(totals[name])
        totals["received_by_method"] = {
            k: _euros(v) for k, v in totals["received_by_method"].items()
        }
        totals["distinct_patients"] = self._seen.count(1)
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "months": months,
            "totals": totals,
        }


def _euros(cents: int) -> str:
    return str((Decimal(cents) / 100).quantize(_CENT))


def partial_credit_note(invoice: Invoice) -> Invoice | None:
    """The credit note taking part of a standing invoice off, if any (docs/metrics.md).

    A credit note is linked to the invoice it cancels by that invoice's `canceled_by`; a
    full cancellation also cancels the invoice (status 3), a partial one leaves it standing
    and is smaller than it.
    """
    note = invoice.canceled_by
    if note is None or note.kind != "creditnote" or invoice.status == 3:
        return None
    return note if 0 < -note.amount < invoice.amount else None


def record_exam(book: TruthBook, exam: Exam, method_of: dict[str, str] | None = None) -> None:
    """Feed one final exam: its consultation, its live invoices and every money movement.

    A partial credit note lowers facturé in its own month and what its invoice owes; a
    refund booked on it settles that invoice too. `method_of` renames means of payment for
    a format that cannot express some of them.
    """
    book.consultation(exam.start.date(), exam.outcome, exam.patient)
    for invoice in exam.invoices:
        _record_invoice(book, invoice, method_of)


def _record_invoice(book: TruthBook, invoice: Invoice, method_of: dict[str, str] | None) -> None:
    """One document of an exam's chain: facturé and what it owes if it stands, its money."""
    if invoice.kind == "invoice" and invoice.status != 3:
        owed = invoice.amount
        received = sum(p.amount for p in invoice.money)
        note = partial_credit_note(invoice)
        if note is not None:
            book.partial_credit_note(note.issued.date(), note.amount)
            owed += note.amount
            received += sum(p.amount for p in note.money)
        book.invoice(invoice.issued.date(), invoice.amount, owed - received)
    for payment in invoice.money:
        method = method_of.get(payment.method, payment.method) if method_of else payment.method
        book.money(payment.paid_on, method, payment.amount)


class PractitionerTruth:
    """One TruthBook per practitioner (by index): the practice seen by each of them."""

    def __init__(self, start: dt.date, end: dt.date, practitioners: int) -> None:
        self.books = [TruthBook(start, end) for _ in range(practitioners)]

    def record(self, exam: Exam, method_of: dict[str, str] | None = None) -> None:
        """`record_exam` with the consultation in its practitioner's book and each document
        (with its money) in its issuing practitioner's."""
        self.books[exam.practitioner].consultation(exam.start.date(), exam.outcome, exam.patient)
        for invoice in exam.invoices:
            _record_invoice(self.books[invoice.practitioner], invoice, method_of)

    def to_json(self) -> list[dict[str, Any]]:
        """Each practitioner's headline-figures document, in the order of their index."""
        return [book.to_json() for book in self.books]


def practitioner_truths(
    practice: Practice, method_of: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Run `practice` to its end and return each practitioner's headline document (by index).

    The generator writes the cabinet's truth only; a practice made with the same arguments
    is the same practice, so this is its truth per practitioner.
    """
    truth = PractitionerTruth(practice.start, practice.end, len(practice.practitioners))
    for item in practice.run():
        if isinstance(item, Exam):
            truth.record(item, method_of)
    return truth.to_json()

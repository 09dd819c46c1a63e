"""Typed stage-1 records → the Arrow tables of a :class:`SourceBatch`, and practitioner roles.

Every adapter describes what it read with the records below, one per table row, and hands
them to :func:`build_batch`. A record's fields are the columns of its schema in
``base.py``, by name, with two exceptions:

- consultation and invoice rows name their patient through one field, ``patient`` (any
  object with ``family_name``, ``first_name`` and ``birth_date``, such as a
  :class:`PatientRow`): the columns ``patient_<x>`` are read from ``patient.<x>``;
- the builder derives two columns the same way for every adapter: ``source`` (the
  adapter's name, on every row) and ``payment_id`` (``<invoice_number>/<n>``, ``n`` = 1,
  2... counting that invoice's payments in the order the adapter lists them).

The schema is the one definition: the builder reads, for each of its columns, that
attribute of every record and makes one Arrow array of the column's type, so a new column
is a new field of its record and nothing else. An adapter may subclass a record to keep
what its own linking needs (a tally, digests, a date-time) on the same object. The
practitioners table is never written by an adapter: it is :func:`assign_roles` over the
consultations and invoices of the batch.
"""

from __future__ import annotations

import functools
import operator
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import Any, Protocol

import pyarrow as pa

from osteo_analytics.pseudonymize.primitives import normalize_name
from osteo_analytics.sources.base import (
    CONSULTATIONS_SCHEMA,
    INVOICES_SCHEMA,
    PATIENTS_SCHEMA,
    PAYMENTS_SCHEMA,
    PRACTITIONERS_SCHEMA,
    FileReport,
    RejectedRow,
    SourceBatch,
)

DERIVED = ("source", "payment_id")  # columns the builder fills (module docstring)
PATIENT_PREFIX = "patient_"  # patient_<x> is read as patient.<x> (module docstring)


class NamesPatient(Protocol):
    """Who a consultation or invoice row is about (identity in clear, stage 1 only)."""

    @property
    def family_name(self) -> str: ...

    @property
    def first_name(self) -> str: ...

    @property
    def birth_date(self) -> date | None: ...


@dataclass(slots=True, kw_only=True)
class SourceRow:
    """Where a stage-1 row was read: every record has it (base.py, provenance)."""

    source_file: str
    source_row: int


@dataclass(slots=True, kw_only=True)
class PatientRow(SourceRow):
    """A row of ``PATIENTS_SCHEMA``: a patient as the source names them (identity in clear)."""

    family_name: str
    first_name: str
    birth_name: str | None = None
    birth_date: date | None = None
    sex: str | None = None
    postcode: str | None = None
    registered_on: date | None = None


@dataclass(slots=True, kw_only=True)
class ConsultationRow(SourceRow):
    """A row of ``CONSULTATIONS_SCHEMA``."""

    consultation_ref: str
    patient: NamesPatient
    practitioner_name: str
    consulted_on: date
    start_time: time | None = None
    status: str
    consultation_type: str
    motif_category: str | None = None


@dataclass(slots=True, kw_only=True)
class InvoiceRow(SourceRow):
    """A row of ``INVOICES_SCHEMA`` (``number_basis``: see ``base.GeneratedNumbers``)."""

    invoice_number: str
    consultation_ref: str | None = None
    patient: NamesPatient
    practitioner_name: str
    issued_on: date
    amount: Decimal
    status: str
    replaces_invoice_number: str | None = None
    cancels_invoice_number: str | None = None
    number_basis: str | None = None


@dataclass(slots=True, kw_only=True)
class PaymentRow(SourceRow):
    """A row of ``PAYMENTS_SCHEMA`` but its ``payment_id``, which the builder numbers.

    Money received for an invoice, or given back (a refund: ``amount`` < 0).
    """

    invoice_number: str
    paid_on: date
    amount: Decimal
    method: str


def payment_of(invoice: InvoiceRow, day: date, amount: Decimal, method: str) -> PaymentRow:
    """A payment (or, negative, a refund) of ``invoice``, read from the invoice's row."""
    return PaymentRow(
        paid_on=day,
        amount=amount,
        method=method,
        invoice_number=invoice.invoice_number,
        source_file=invoice.source_file,
        source_row=invoice.source_row,
    )


def build_batch(
    source: str,
    *,
    patients: Sequence[PatientRow],
    consultations: Sequence[ConsultationRow],
    invoices: Sequence[InvoiceRow],
    payments: Sequence[PaymentRow],
    files: list[FileReport],
    rejected: list[RejectedRow],
    replacements: Collection[str] = (),
) -> SourceBatch:
    """The five stage-1 tables of one read, checked against their schemas.

    ``source`` is the adapter's name; ``replacements`` the practitioners the source
    itself calls replacements (see :func:`assign_roles`).
    """
    practitioners = assign_roles([*consultations, *invoices], replacements=replacements)
    batch = SourceBatch(
        patients=build_table(PATIENTS_SCHEMA, source, patients),
        practitioners=build_table(PRACTITIONERS_SCHEMA, source, practitioners),
        consultations=build_table(CONSULTATIONS_SCHEMA, source, consultations),
        invoices=build_table(INVOICES_SCHEMA, source, invoices),
        payments=build_table(PAYMENTS_SCHEMA, source, payments),
        files=files,
        rejected=rejected,
    )
    batch.assert_valid()
    return batch


def build_table(schema: pa.Schema, source: str, rows: Sequence[Any]) -> pa.Table:
    """``schema``'s table from records whose fields are its columns (module docstring).

    A record without one of the columns raises AttributeError, one that leaves a required
    column empty AssertionError: both are an adapter's bug.
    """
    arrays = []
    for f in schema:
        if f.name == "source":
            arrays.append(pa.repeat(pa.scalar(source, f.type), len(rows)))
        elif f.name == "payment_id":
            arrays.append(pa.array(_payment_ids(rows), f.type))
        else:  # one C-level pass per column: much faster than one tuple per record
            arrays.append(pa.array(list(map(_getter(f.name), rows)), f.type))
    table = pa.Table.from_arrays(arrays, schema=schema)
    empty = [f.name for f in schema if not f.nullable and table.column(f.name).null_count]
    if empty:
        raise AssertionError(f"required columns left empty: {', '.join(empty)}")
    return table


@functools.cache
def _getter(column: str) -> Callable[[Any], Any]:
    """A record's value of ``column``: ``patient_<x>`` is ``patient.<x>``."""
    if column.startswith(PATIENT_PREFIX):
        return operator.attrgetter(f"patient.{column.removeprefix(PATIENT_PREFIX)}")
    return operator.attrgetter(column)


def _payment_ids(rows: Sequence[Any]) -> list[str]:
    """``<invoice_number>/<n>``: n counts each invoice's payments in list order."""
    seen: dict[str, int] = {}
    out = []
    for number in map(_getter("invoice_number"), rows):
        n = seen[number] = seen.get(number, 0) + 1
        out.append(f"{number}/{n}")
    return out


# --- practitioners ---------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class PractitionerRow(SourceRow):
    """A row of ``PRACTITIONERS_SCHEMA`` (made by :func:`assign_roles` only)."""

    display_name: str
    role: str


def assign_roles(
    rows: Sequence[ConsultationRow | InvoiceRow], *, replacements: Collection[str] = ()
) -> list[PractitionerRow]:
    """One practitioner row per practitioner the rows name, with their role in the cabinet.

    Names are folded as ``pseudonymize`` folds them (one row per ``practitioner_id``); a
    practitioner is shown and located as their first row names them. The rule:

    - ``replacement``: a practitioner the source itself calls a replacement
      (``replacements``, display names in any spelling);
    - ``titular``: among the others, the one named by the most rows; on a tie, the one
      whose folded name sorts first, so the titular never depends on the order in which
      files were read;
    - ``associate``: everyone else.
    """
    said = {normalize_name(n) for n in replacements}
    names = list(map(_getter("practitioner_name"), rows))
    counts = Counter(names)
    # each spelling's first row: later rows are written first, so the first one wins
    first = dict(zip(reversed(names), range(len(names) - 1, -1, -1), strict=True))
    seen: dict[str, list[int]] = {}  # folded name → [its first row, its number of rows]
    for name in sorted(first, key=first.__getitem__):
        tally = seen.setdefault(normalize_name(name), [first[name], 0])
        tally[1] += counts[name]
    candidates = [k for k in seen if k not in said]
    titular = min(candidates, key=lambda k: (-seen[k][1], k), default=None)
    return [
        PractitionerRow(
            display_name=rows[i].practitioner_name,
            role="replacement" if key in said else "titular" if key == titular else "associate",
            source_file=rows[i].source_file,
            source_row=rows[i].source_row,
        )
        for key, (i, _) in seen.items()
    ]


# the record of each dataset's rows
ROWS: dict[str, type[SourceRow]] = {
    "patients": PatientRow,
    "practitioners": PractitionerRow,
    "consultations": ConsultationRow,
    "invoices": InvoiceRow,
    "payments": PaymentRow,
}

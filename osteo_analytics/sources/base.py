"""The adapter interface: what every source adapter returns (stage 1, memory only).

An adapter reads raw exports and returns a :class:`SourceBatch`: five Arrow tables with the
stage-2 columns of ``docs/datasets.md``, except that identity is still in clear (so that
``pseudonymize`` can key it) and every row carries ``source_file`` and ``source_row``, plus
one :class:`FileReport` per file read and the list of rows the adapter could not parse.
The schemas below are the one definition of those tables: adapters build them from typed
records with ``sources.tables.build_batch``, never column by column.

Type choices, made once here so every adapter agrees:

- money is ``decimal128(12, 2)`` (euros, never float);
- dates are ``date32`` (local calendar day, Europe/Paris);
- local start times are ``time32('s')``: one-second resolution is all an appointment needs
  and DuckDB reads it as ``TIME``;
- ``source_row`` is ``int32``: the 1-based row number a person sees when opening the file
  (header = row 1). For CSV files it counts records, not physical lines, because quoted
  fields may hold line breaks.

Stage-1-only columns (dropped or turned into keys by ``pseudonymize``):

- identity: ``family_name``, ``first_name``, ``birth_name``, ``birth_date``, ``postcode``
  and their ``patient_*`` counterparts, ``practitioner_name``;
- ``consultation_ref``: an opaque reference, unique within the batch, that ties an invoice
  to its consultation. ``pseudonymize`` computes ``consultation_id`` from the consultation
  row (patient identity, date, time, practitioner) and maps invoices through this ref;
- ``source_file``, ``source_row``: for quarantine reports only.
- ``number_basis`` (invoices): null when ``invoice_number`` is the source's own number.
  For a row the source did not number, the adapter writes a provisional
  ``<prefix>-YYYYMMDD-#<n>`` (unique within the batch, the same for identical content;
  payments, ``payment_id`` and ``cancels_invoice_number`` refer to it) and this column
  holds the row's content apart from who (:class:`GeneratedNumbers`). ``pseudonymize``
  replaces every provisional number by ``pseudonymize.generated_number`` over this basis,
  the source, the keyed patient and the practitioner: a re-imported row gets its number
  back, and two different receipts never share one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from osteo_analytics.contracts.model import codes

MONEY = pa.decimal128(12, 2)
DATE = pa.date32()
TIME = pa.time32("s")

_PROVENANCE = [
    pa.field("source", pa.string(), nullable=False),
    pa.field("source_file", pa.string(), nullable=False),
    pa.field("source_row", pa.int32(), nullable=False),
]

PATIENTS_SCHEMA = pa.schema(
    [
        pa.field("family_name", pa.string(), nullable=False),
        pa.field("first_name", pa.string(), nullable=False),
        pa.field("birth_name", pa.string()),
        pa.field("birth_date", DATE),
        pa.field("sex", pa.string()),
        pa.field("postcode", pa.string()),
        pa.field("registered_on", DATE),
        *_PROVENANCE,
    ]
)

PRACTITIONERS_SCHEMA = pa.schema(
    [
        pa.field("display_name", pa.string(), nullable=False),
        pa.field("role", pa.string(), nullable=False),
        *_PROVENANCE,
    ]
)

CONSULTATIONS_SCHEMA = pa.schema(
    [
        pa.field("consultation_ref", pa.string(), nullable=False),
        pa.field("patient_family_name", pa.string(), nullable=False),
        pa.field("patient_first_name", pa.string(), nullable=False),
        pa.field("patient_birth_date", DATE),
        pa.field("practitioner_name", pa.string(), nullable=False),
        pa.field("consulted_on", DATE, nullable=False),
        pa.field("start_time", TIME),
        pa.field("status", pa.string(), nullable=False),
        pa.field("consultation_type", pa.string(), nullable=False),
        pa.field("motif_category", pa.string()),
        *_PROVENANCE,
    ]
)

INVOICES_SCHEMA = pa.schema(
    [
        pa.field("invoice_number", pa.string(), nullable=False),
        pa.field("consultation_ref", pa.string()),
        pa.field("patient_family_name", pa.string(), nullable=False),
        pa.field("patient_first_name", pa.string(), nullable=False),
        pa.field("patient_birth_date", DATE),
        pa.field("practitioner_name", pa.string(), nullable=False),
        pa.field("issued_on", DATE, nullable=False),
        pa.field("amount", MONEY, nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("replaces_invoice_number", pa.string()),
        pa.field("cancels_invoice_number", pa.string()),
        pa.field("number_basis", pa.string()),
        *_PROVENANCE,
    ]
)

PAYMENTS_SCHEMA = pa.schema(
    [
        pa.field("payment_id", pa.string(), nullable=False),
        pa.field("invoice_number", pa.string(), nullable=False),
        pa.field("paid_on", DATE, nullable=False),
        pa.field("amount", MONEY, nullable=False),
        pa.field("method", pa.string(), nullable=False),
        *_PROVENANCE,
    ]
)

SCHEMAS: dict[str, pa.Schema] = {
    "patients": PATIENTS_SCHEMA,
    "practitioners": PRACTITIONERS_SCHEMA,
    "consultations": CONSULTATIONS_SCHEMA,
    "invoices": INVOICES_SCHEMA,
    "payments": PAYMENTS_SCHEMA,
}

# Code lists, read from the data contracts (never written down here).
CONSULTATION_STATUSES = codes("consultations", "status")
CONSULTATION_TYPES = codes("consultations", "consultation_type")
INVOICE_STATUSES = codes("invoices", "status")
PAYMENT_METHODS = codes("payments", "method")
SEXES = codes("patients", "sex")


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row the adapter could not parse. Never carries the offending value."""

    source_file: str
    source_row: int
    column: str
    rule: str
    reason: str = ""  # French, for the quarantine record, when the rule alone says too little


@dataclass(slots=True)
class FileReport:
    """Row accounting for one input file (DESIGN invariant 2: nothing lost).

    ``rows_read`` counts data records (header excluded). ``reasons`` counts every row that
    was not accepted, by rule (``bad_date``, ``duplicate``, ``blank_row``...).
    ``conflicts`` counts accepted rows that replaced a stored row of the same natural key
    with different content (a subset of ``accepted``; set by the import, not the adapter).
    """

    path: Path
    format: str  # "csv", "xlsx", "docx"...
    rows_read: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0
    excluded: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    conflicts: int = 0
    # What the rows' source_file holds when it is not the file name (a Word file is named
    # after its patient, so its rows say "docx-3").
    label: str | None = None

    @property
    def source_label(self) -> str:
        """The source_file value of this file's rows."""
        return self.label or self.path.name

    kind: str = ""  # what the file holds for its adapter: "patients", "invoices"...

    def assert_balanced(self) -> None:
        """AssertionError unless rows_read = accepted + quarantined + duplicates + excluded."""
        total = self.accepted + self.quarantined + self.duplicates + self.excluded
        counts = (self.accepted, self.quarantined, self.duplicates, self.excluded)
        if total != self.rows_read or min(counts) < 0:
            raise AssertionError(
                f"{self.path.name}: {self.rows_read} rows read but {self.accepted} accepted"
                f" + {self.quarantined} quarantined + {self.duplicates} duplicates"
                f" + {self.excluded} excluded = {total}"
            )
        if sum(self.reasons.values()) != self.quarantined + self.duplicates + self.excluded:
            raise AssertionError(f"{self.path.name}: reasons do not add up to the rows set aside")
        if not 0 <= self.conflicts <= self.accepted:
            raise AssertionError(f"{self.path.name}: conflicts are not a part of the accepted rows")


class GeneratedNumbers:
    """Provisional numbers and their basis for the rows a source does not number.

    ``number(file, who, day, *content)`` is called once per such row, in file order.
    ``who`` is the row's patient and practitioner as the adapter folds them (in clear, kept
    in memory for the read only); ``content`` the rest of what tells the receipt apart
    (amount, means of payment...). The basis is ``content`` plus the row's occurrence
    among the identical rows of its file (1, 2...), so that two identical receipts of one
    file stay two, while the same receipt read from an overlapping file is the same one.
    Equal (who, basis) give the same provisional number, within one batch only.
    """

    SEP = "|"  # content is amounts, means and times: never this character

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._seen: Counter[tuple[Hashable, ...]] = Counter()
        self._numbers: dict[tuple[Hashable, str], str] = {}
        self.bases: dict[str, str] = {}  # provisional number → its number_basis

    def number(self, file: str, who: Hashable, day: date, *content: str) -> tuple[str, str]:
        """(provisional invoice number, number_basis) of one row."""
        if any(self.SEP in c for c in content):
            raise ValueError(f"content must not contain {self.SEP!r}")
        same = (file, who, day, *content)
        self._seen[same] += 1
        occurrence = self._seen[same]
        basis = self.SEP.join([day.isoformat(), *content, str(occurrence)])
        number = self._numbers.setdefault(
            (who, basis), f"{self.prefix}-{day:%Y%m%d}-#{len(self._numbers) + 1}"
        )
        self.bases[number] = basis
        return number, basis


@dataclass(slots=True)
class SourceBatch:
    """Everything one adapter produced from one set of input files (stage 1, memory only)."""

    patients: pa.Table
    practitioners: pa.Table
    consultations: pa.Table
    invoices: pa.Table
    payments: pa.Table
    files: list[FileReport] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)

    def tables(self) -> dict[str, pa.Table]:
        """The five tables by dataset name."""
        return {
            "patients": self.patients,
            "practitioners": self.practitioners,
            "consultations": self.consultations,
            "invoices": self.invoices,
            "payments": self.payments,
        }

    def assert_valid(self) -> None:
        """Raise AssertionError if a table strays from its schema or a file report is unbalanced."""
        for name, table in self.tables().items():
            if not table.schema.equals(SCHEMAS[name]):
                raise AssertionError(f"{name}: schema differs from the stage-1 schema")
        for report in self.files:
            report.assert_balanced()


class SourceAdapter(Protocol):
    """What ``--format auto`` needs from an adapter module."""

    name: str

    def detect(self, path: Path) -> bool:
        """True if ``path`` (file or folder) looks like this adapter's input. Never raises."""
        ...

    def read(self, paths: Sequence[Path]) -> SourceBatch:
        """Read ``paths`` into a batch; raises ``InputError`` for unreadable files."""
        ...

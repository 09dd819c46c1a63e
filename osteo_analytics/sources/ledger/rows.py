"""Ledger sheet rows → receipts, with every row accounted for.

Each row after the header is exactly one of: a receipt, an excluded row (blank, repeated
header, subtotal / total / running total) or a quarantined row (its rule says why). Rows
above the header are titles (excluded, ``title_row``) or blank. Free text (Observations,
Motif...) is never read; only the columns a receipt needs are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from osteo_analytics.pseudonymize.primitives import normalize_name
from osteo_analytics.sources import frenchparse as fp
from osteo_analytics.sources.base import FileReport, RejectedRow
from osteo_analytics.sources.ledger.files import Sheet, header_index
from osteo_analytics.sources.ledger.layout import (
    METHOD_ORDER,
    Layout,
    header_layout,
    practitioner_in_title,
    total_rule,
)

DEFAULT_PRACTITIONER = "Praticien du cabinet"
# Longer cells are junk (a pasted document, a binary blob), not a name or a number.
MAX_NAME_CHARS = 200
MAX_NUMBER_CHARS = 64

PatientKey = tuple[str, str]


class Tally:
    """The FileReport of one sheet plus the rows it rejected, filled while reading."""

    def __init__(self, sheet: Sheet, rejected: list[RejectedRow]) -> None:
        path = sheet.path.with_name(sheet.label)  # report.path.name == source_file
        self.report = FileReport(path, sheet.format, kind="receipts")
        self.label = sheet.label
        self.file = sheet.path  # several sheets of a workbook share it
        self._rejected = rejected

    def read(self) -> None:
        self.report.rows_read += 1

    def exclude(self, rule: str) -> None:
        """Count a row that is not a receipt (title, blank, total...)."""
        self.report.excluded += 1
        self._count(rule)

    def duplicate(self) -> None:
        """Count a row that repeats a receipt already read in this import."""
        self.report.duplicates += 1
        self._count("duplicate")

    def quarantine(self, row: int, column: str, rule: str) -> None:
        """Count a row that cannot be used and record why (never the value)."""
        self.report.quarantined += 1
        self._count(rule)
        self._rejected.append(RejectedRow(self.label, row, column, rule))

    def _count(self, rule: str) -> None:
        self.report.reasons[rule] = self.report.reasons.get(rule, 0) + 1


Part = tuple[str, Decimal]  # (payment method, amount) of one payment of a receipt


@dataclass(slots=True)
class Receipt:
    """One parsed ledger row: money received (or refunded, < 0) from a patient on a day.

    ``parts`` are its (method, amount) payments: one for a row of a single-amount ledger
    (its amount may be 0), one per filled method column otherwise (a split payment when
    several), zero amounts left out, in :data:`METHOD_ORDER`. ``amount`` is their sum.
    """

    day: date
    number: str | None
    family: str
    first: str
    sex: str | None
    amount: Decimal
    parts: tuple[Part, ...]
    practitioner: str
    ctype: str
    tally: Tally
    row: int
    # identity as pseudonymize folds it: 'DUPONT Jean' and 'Dupont jean' are one patient
    patient: PatientKey = ("", "")

    def __post_init__(self) -> None:
        self.patient = (normalize_name(self.family), normalize_name(self.first))

    @property
    def method(self) -> str:
        """The payment method; a split payment's methods joined by '+' ('cb+especes')."""
        return "+".join(m for m, _ in self.parts) or "autre"


class _RowError(Exception):
    def __init__(self, column: str, rule: str) -> None:
        super().__init__(rule)
        self.column, self.rule = column, rule


@dataclass(slots=True)
class SheetContext:
    """What a sheet's surroundings tell about its rows."""

    year: int | None  # completes dates written without a year ("15 mars")
    practitioner: str | None  # from a title row of this sheet or of the workbook


class _Memo:
    """A parser with its answers remembered for the sheet being read.

    Ledgers repeat the same few dates, amounts, methods and names on thousands of rows;
    parsing each distinct cell once makes a 50,000-row ledger several times faster. The
    memo lives as long as one read_sheet call (it holds names: kept no longer than that).
    """

    __slots__ = ("fn", "memo")

    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self.memo: dict[tuple[type, Any], tuple[Any, str | None]] = {}

    def __call__(self, value: Any) -> Any:
        key = (type(value), value)  # 1, 1.0 and True are equal keys but different cells
        try:
            result, rule = self.memo[key]
        except KeyError:
            try:
                result, rule = self.fn(value), None
            except fp.BadValue as exc:
                result, rule = None, exc.rule
            self.memo[key] = (result, rule)
        except TypeError:  # an unhashable cell: parse it every time
            return self.fn(value)
        if rule is not None:
            raise fp.BadValue(rule)
        return result


class _Parsers:
    """The memoized parsers of one sheet."""

    def __init__(self, year: int | None) -> None:
        self.date = _Memo(lambda v: fp.parse_date(v, year=year))
        self.amount = _Memo(fp.parse_amount)
        self.name = _Memo(fp.split_name)
        self.method = _Memo(fp.payment_method)
        self.ctype = _Memo(consultation_type)


def _filled(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str | None:
    """A cell as stripped text; numbers typed in a text column lose their '.0'."""
    if not _filled(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).translate(_CONTROLS).split()) or None


# NUL and other control characters are damage, never part of a name or a number.
_CONTROLS = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32), 127])


def title_context(sheet: Sheet) -> tuple[int | None, str | None]:
    """(year, practitioner) found in the rows above the header, or in the sheet name."""
    idx = header_index(sheet.rows)
    titles = [
        " ".join(str(c) for c in cells if isinstance(c, str) and c.strip())
        for _, cells in sheet.rows[: idx or 0]
    ]
    year = fp.parse_period(sheet.name)[0] if sheet.name else None
    practitioner = None
    for title in titles:
        year = year or fp.parse_period(title)[0]
        practitioner = practitioner or practitioner_in_title(title)
    return year, practitioner


def read_sheet(sheet: Sheet, tally: Tally, context: SheetContext) -> list[Receipt] | None:
    """Receipts of one sheet; None (rows counted as excluded) if it has no header row."""
    idx = header_index(sheet.rows)
    if idx is None:
        for _, cells in sheet.rows:
            tally.read()
            tally.exclude("sheet_without_header" if any(map(_filled, cells)) else "blank_row")
        return None
    for _, cells in sheet.rows[:idx]:
        tally.read()
        tally.exclude("title_row" if any(map(_filled, cells)) else "blank_row")
    layout = header_layout(sheet.rows[idx][1])
    assert layout is not None
    parse = _Parsers(context.year)
    receipts: list[Receipt] = []
    last_day: date | None = None  # a blank date repeats the one above (day written once)
    since_total = Decimal(0)  # running sums: an unlabelled row equal to one is a total
    sheet_total = Decimal(0)
    for n, raw in sheet.rows[idx + 1 :]:
        tally.read()
        cells = raw + [None] * (layout.width - len(raw)) if len(raw) < layout.width else raw
        if not any(map(_filled, cells)):
            tally.exclude("blank_row")
            continue
        try:
            day: date | None = parse.date(cells[layout.date])
            bad_date = None
        except fp.BadValue as exc:
            day, bad_date = None, exc.rule
        excluded = _excluded_rule(cells, layout, day is not None, since_total, sheet_total, parse)
        if excluded is not None:
            tally.exclude(excluded)
            if excluded != "header_row":
                since_total, last_day = Decimal(0), None
            continue
        try:
            if bad_date is not None:
                raise _RowError(layout.label(layout.date, "Date"), bad_date)
            receipt = _receipt(cells, layout, context, day or last_day, tally, n, parse)
        except _RowError as exc:
            tally.quarantine(n, exc.column, exc.rule)
            continue
        last_day = receipt.day
        since_total += receipt.amount
        sheet_total += receipt.amount
        receipts.append(receipt)
    return receipts


def _excluded_rule(
    cells: list[Any],
    layout: Layout,
    dated: bool,
    since: Decimal,
    total: Decimal,
    parse: _Parsers,
) -> str | None:
    """Why the row is not a receipt (repeated header, a total of any kind), or None."""
    label = cells[layout.date]
    # a header repeats its 'Date' label: only rows with a digit-free text there can be one
    if (
        isinstance(label, str)
        and not any(c.isdigit() for c in label)
        and header_layout(cells) is not None
    ):
        return "header_row"
    money = layout.money_columns
    for i, value in enumerate(cells):
        if i not in money and isinstance(value, str):
            rule = total_rule(value, strict=dated)
            if rule is not None:
                return rule
    identity = (layout.date, layout.patient, layout.family, layout.first, layout.number)
    if all(i is None or not _filled(cells[i]) for i in identity):
        # only an amount: a total without a label when it equals a running sum
        try:
            amount = _row_money(cells, layout, parse)
        except fp.BadValue:
            return None
        if amount is not None and amount in (since, total) and amount != 0:
            return "total_row"
    return None


def _row_money(cells: list[Any], layout: Layout, parse: _Parsers) -> Decimal | None:
    """What a row without identity adds up to: its amount or Total, else its methods."""
    if layout.amount is not None and _filled(cells[layout.amount]):
        amount: Decimal | None = parse.amount(cells[layout.amount])
        return amount
    values = [
        Decimal(0) if isinstance(v, str) and _DASHES.fullmatch(v) else parse.amount(v)
        for v in (cells[i] for _, i in layout.methods)
        if _filled(v)
    ]
    return sum(values, Decimal(0)) if values else None


def _receipt(
    cells: list[Any],
    layout: Layout,
    context: SheetContext,
    day: date | None,
    tally: Tally,
    n: int,
    parse: _Parsers,
) -> Receipt:
    if day is None:  # neither its own date nor one above it
        raise _RowError(layout.label(layout.date, "Date"), "missing_date")
    if layout.by_method:
        amount, parts = _split_payment(cells, layout, parse)
    else:
        single = _amount(cells, layout.amount, layout, parse)
        if single is None:
            raise _RowError(layout.label(layout.amount, "Montant"), "missing_amount")
        method = parse.method(cells[layout.method]) if layout.method is not None else "autre"
        amount, parts = single, ((method, single),)
    name = _patient(cells, layout, parse)
    number = _text(cells[layout.number]) if layout.number is not None else None
    if number is not None and len(number) > MAX_NUMBER_CHARS:
        raise _RowError(layout.label(layout.number, "N° facture"), "bad_invoice_number")
    practitioner = _text(cells[layout.practitioner]) if layout.practitioner is not None else None
    if practitioner is not None and len(practitioner) > MAX_NAME_CHARS:
        raise _RowError(layout.label(layout.practitioner, "Praticien"), "bad_practitioner")
    return Receipt(
        day=day,
        number=number,
        family=name.family,
        first=name.first,
        sex=name.sex,
        amount=amount,
        parts=parts,
        practitioner=practitioner or context.practitioner or DEFAULT_PRACTITIONER,
        ctype=parse.ctype(cells[layout.act]) if layout.act is not None else "other",
        tally=tally,
        row=n,
    )


def _amount(cells: list[Any], index: int | None, layout: Layout, parse: _Parsers) -> Decimal | None:
    """The amount in column ``index``; a bad one quarantines the row under its label."""
    if index is None:
        return None
    value = cells[index]
    if layout.by_method and isinstance(value, str) and _DASHES.fullmatch(value):
        return Decimal(0)  # '-' or '–': the accounting format's zero in an unused column
    try:
        amount: Decimal | None = parse.amount(value)
    except fp.BadValue as exc:
        raise _RowError(layout.label(index, "Montant"), exc.rule) from None
    return amount


_DASHES = re.compile(r"[\s€]*[-‐‑–—−]+[\s€]*")


def _split_payment(
    cells: list[Any], layout: Layout, parse: _Parsers
) -> tuple[Decimal, tuple[Part, ...]]:
    """(total, payments) of a row with one amount column per method.

    Each filled, non-zero method cell is one payment. The Total column, when the row
    fills it, must equal their sum (``total_mismatch`` otherwise: never corrected here).
    """
    parts: list[Part] = []
    zero = False  # a 0 typed in a method column: a free session, not a missing amount
    for method, index in layout.methods:
        value = _amount(cells, index, layout, parse)
        if value:
            parts.append((method, value))
        zero = zero or value is not None
    total = _amount(cells, layout.amount, layout, parse)
    amount = sum((v for _, v in parts), Decimal(0))
    if total is not None and total != amount:
        raise _RowError(layout.label(layout.amount, "Total"), "total_mismatch")
    if not parts and not zero and total is None:
        labels = " / ".join(layout.labels[i] for _, i in layout.methods)
        raise _RowError(labels, "missing_amount")
    parts.sort(key=lambda p: METHOD_ORDER.index(p[0]))  # stable: column order within a method
    return amount, tuple(parts)


def _patient(cells: list[Any], layout: Layout, parse: _Parsers) -> fp.PersonName:
    if layout.patient is not None:
        column = layout.label(layout.patient, "Patient")
        raw = _text(cells[layout.patient])
        if raw is not None and len(raw) > MAX_NAME_CHARS:
            raise _RowError(column, "bad_patient")
        name: fp.PersonName | None = parse.name(raw)
        if name is None:
            raise _RowError(column, "missing_patient")
        return name
    assert layout.family is not None
    column = layout.label(layout.family, "Nom")
    family = _text(cells[layout.family])
    first = _text(cells[layout.first]) if layout.first is not None else None
    if len(family or "") > MAX_NAME_CHARS or len(first or "") > MAX_NAME_CHARS:
        raise _RowError(column, "bad_patient")
    if family is None or not any(c.isalpha() for c in family):
        raise _RowError(column, "missing_patient")
    # a civility typed in the Nom column ("Mme MARTIN") still gives the sex
    civil: fp.PersonName | None = parse.name(family)
    if civil is not None and civil.sex is not None:
        return fp.PersonName(f"{civil.family} {civil.first}".strip(), first or "", civil.sex)
    return fp.PersonName(family, first or "", None)


_ACT_TYPES = (
    ("urgence", "urgent"),
    ("urgent", "urgent"),
    ("domicile", "home"),
    ("premiere", "first"),
    ("premier", "first"),
    ("1ere", "first"),
    ("1re", "first"),
    ("suivi", "follow_up"),
)


def consultation_type(value: Any) -> str:
    """An 'Acte' cell → consultation_type: urgence, domicile, première, suivi; else other."""
    text = _text(value)
    if text is None:
        return "other"
    words = fp.fold(text).split()
    for word, ctype in _ACT_TYPES:
        if word in words:
            return ctype
    return "other"

"""Write the practice as a hand-kept French receipts ledger (livre des recettes).

One workbook per calendar year, `recettes-YYYY.xlsx`, one sheet per month named in French
("Janvier 2024"): a title row, a header row (Date / N° facture / Patient / Montant /
Mode de règlement / Praticien), one row per receipt, and a "Total" row whose SUM formula
carries its value. Its twin `recettes-YYYY.csv` (cp1252, ';', decimal comma, dd/mm/yyyy,
CRLF) holds the header once and the same receipt rows, without title or total rows.

December's sheet is kept the other common way, one amount column per payment method:
Date / N° facture / Patient / Chèque / Espèces / CB / Virement / Total / Praticien, each
receipt's amount in its method's column and in Total, and a total row summing every
money column. Its rows are the same receipts, so they still repeat the CSV twin's.

A ledger knows only money: each payment received is a row on the day it arrived (an
instalment is a row of its own under its invoice's number), each refund a negative row
(under the refunded invoice's number when a replacement invoice cancels it, under the
credit note's own number otherwise). The 'Praticien' column names who issued the invoice,
as a shared cabinet's ledger does. Patients are written 'NOM Prénom', the second of two
namesakes 'NOM Prénom (2)' (`people.ledger_name`): unique.

Its ground truth is what the ledger adapter's rules (``sources/ledger.py``) recover, redone
here while the rows are written, in date order and with bounded memory:

- rows sharing an invoice number are one invoice; its net > 0 → paid for the net, net 0 →
  cancelled, only negative rows → credit note; a credit note of -X cancels the patient's
  latest paid invoice of exactly X whose first receipt is on or before the note's day
  (ties: the one written first), which is then no longer invoiced;
- an invoice that is not a credit note is one done consultation on its first non-negative
  receipt's day, one per patient, day and practitioner; revenue_invoiced is each paid
  invoice's net on that day; every row is received money on its own day by its method.

So it has no cancellations, no no-shows and no unpaid invoices; visits never paid (free,
unpaid, not yet invoiced) are absent, a visit paid later is dated by its first payment, and
a corrected invoice re-issued on a later day is a visit of that day too.
"""

from __future__ import annotations

import csv
import datetime as dt
import heapq
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from osteo_analytics.synthetic import people
from osteo_analytics.synthetic.model import Exam, Invoice, Payment
from osteo_analytics.synthetic.people import Practitioner
from osteo_analytics.synthetic.truth import TruthBook, months_between
from osteo_analytics.synthetic.xlsx import (
    EURO,
    FR_DATE,
    TITLE,
    TOTAL,
    TOTAL_EURO,
    Workbook,
    column_name,
    number_cell,
    text_cell,
)
from osteo_analytics.synthetic.xlsx import HEADER as HEADER_STYLE
from osteo_analytics.synthetic.xlsx import number as _number

MONTHS_FR = [
    "Janvier",
    "Février",
    "Mars",
    "Avril",
    "Mai",
    "Juin",
    "Juillet",
    "Août",
    "Septembre",
    "Octobre",
    "Novembre",
    "Décembre",
]
METHOD_LABEL = {"cb": "CB", "cheque": "Chèque", "especes": "Espèces", "virement": "Virement"}
HEADER = ["Date", "N° facture", "Patient", "Montant", "Mode de règlement", "Praticien"]
WIDTHS = [12, 12, 30, 13, 18, 22]
# December's sheet: one amount column per method (D-G), their Total (H), the practitioner.
BY_METHOD_MONTH = 12
BY_METHOD_HEADER = [
    "Date",
    "N° facture",
    "Patient",
    "Chèque",
    "Espèces",
    "CB",
    "Virement",
    "Total",
    "Praticien",
]
BY_METHOD_WIDTHS = [12, 12, 30, 12, 12, 12, 12, 13, 22]
_METHOD_COLUMN = {"Chèque": "D", "Espèces": "E", "CB": "F", "Virement": "G"}
LATE_MINUTES = 19 * 60 + 20
_EPOCH = dt.date(1899, 12, 30).toordinal()
# A credit note cancels an invoice of the last three weeks at most (model._plan_cancel):
# the latest paid candidate of a note is that invoice or, if an earlier note of the same
# patient and amount took it, one at most three weeks older still. Older paid invoices
# cannot be chosen and are forgotten, so memory holds about two months of invoices.
LINK_WINDOW_DAYS = 62
PAID, CANCELLED, CREDIT_NOTE = 0, 1, 2
_AMOUNT_TEXT: dict[int, str] = {}  # cents -> the cell's number, as number_cell writes it
_XML_TEXT: dict[str, str] = {}  # patient name -> escaped for XML


def french_amount(cents: int) -> str:
    """'1234,50' / '-55,00': the CSV twin's decimal comma, no thousands separator."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100},{abs(cents) % 100:02d}"


def _paid_key(patient: int, cents: int) -> int:
    """(patient, amount) as one small int: a dict key without a tuple per entry."""
    return patient << 32 | cents


class _Reading:
    """One invoice number as the adapter reads it: status, net and its key receipt's day."""

    __slots__ = ("day", "net", "patient", "status")

    def __init__(self, patient: int, net: int, status: int) -> None:
        self.patient, self.net, self.status = patient, net, status
        self.day = 0  # ordinal of its key receipt (opener, or first row of a credit note)


class LedgerWriter:
    """Streams receipts, in date order, into yearly workbooks and CSV files under `folder`."""

    def __init__(
        self,
        folder: Path,
        start: dt.date,
        end: dt.date,
        truth: TruthBook,
        practitioners: Sequence[Practitioner],
        names: Callable[[int], str] = people.ledger_name,
    ) -> None:
        self.folder = folder
        self._patient_name = names
        self.truth = truth
        self._names = [p.display_name for p in practitioners]
        self._months = months_between(start, end)
        self._next_month = 0  # index in _months of the next sheet to open
        self._pending: list[tuple[Any, ...]] = []
        self._seq = 0
        self._year = 0
        self._book: Workbook | None = None
        self._csv_handle: Any = None
        self._csv: Any = None
        self._key = ""  # month being filled, its label and rows (a month is written at once,
        self._label = ""  # so its sheet can declare its dimension)
        self._rows: list[tuple[int, str, str, int, str, str]] = []
        self._date = start  # the day being written, and its CSV spelling
        self._csv_date = ""
        self._csv_row: Callable[[Sequence[str]], Any] = lambda row: None
        self.paths: list[Path] = []
        self.rows = 0
        # The adapter's reading, day by day: visits of the current day, credit notes to
        # link at its end, recent paid invoices by (patient, amount) in written order.
        self._day = 0
        self._visits: set[tuple[int, int]] = set()
        self._notes: list[_Reading] = []
        self._paid: dict[int, list[_Reading]] = {}  # by _paid_key(patient, amount)
        self._paid_order: deque[_Reading] = deque()

    def exam(self, exam: Exam) -> None:
        """Queue the exam's money movements; write every receipt dated before this exam."""
        patient = exam.patient
        name = self._patient_name(patient)
        push, pending = heapq.heappush, self._pending
        for invoice in exam.invoices:
            money = invoice.money
            if not money:
                continue
            issued = invoice.issued
            if len(money) == 1 and money[0].amount > 0:  # paid at closing: the usual row
                payment = money[0]
                self._seq += 1
                minutes = (
                    issued.hour * 60 + issued.minute
                    if payment.paid_on == issued.date()
                    else LATE_MINUTES
                )
                day = payment.paid_on.toordinal()
                reading = _Reading(patient, payment.amount, PAID)
                push(
                    pending,
                    _receipt(day, minutes, self._seq, patient, name, invoice, payment, reading),
                )
                continue
            issued_day = issued.date()
            issued_minutes = issued.hour * 60 + issued.minute
            rows = []
            for payment in money:
                minutes = issued_minutes if payment.paid_on == issued_day else LATE_MINUTES
                self._seq += 1
                rows.append((payment.paid_on.toordinal(), minutes, self._seq, payment))
            rows.sort()  # the adapter's order: by date, then as written
            net = sum(r[3].amount for r in rows)
            key = next((i for i, r in enumerate(rows) if r[3].amount >= 0), None)
            if key is None or net < 0:
                status, key = CREDIT_NOTE, key if key is not None else 0
            elif net == 0 and any(r[3].amount > 0 for r in rows):
                status = CANCELLED
            else:
                status = PAID
            reading = _Reading(patient, net, status)
            for i, (day, minutes, seq, payment) in enumerate(rows):
                read = reading if i == key else None
                push(pending, _receipt(day, minutes, seq, patient, name, invoice, payment, read))
        # Exams arrive in date order and money never precedes its visit: earlier days are final.
        self._flush(exam.start.toordinal())

    def _flush(self, before: int) -> None:
        pending = self._pending
        if not pending or pending[0][0] >= before:
            return
        pop, money, names, labels = heapq.heappop, self.truth.money, self._names, METHOD_LABEL
        rows, csv_row, day, csv_date = self._rows, self._csv_row, self._date, self._csv_date
        count = 0
        while pending and pending[0][0] < before:
            ordinal, _, _, _, name, number, amount, method, p, reading = pop(pending)
            if ordinal != self._day:
                self._next_day(ordinal)
                rows, csv_row, day, csv_date = self._rows, self._csv_row, self._date, self._csv_date
            label, who = labels[method], names[p]
            rows.append((ordinal, number, name, amount, label, who))
            csv_row((csv_date, number, name, french_amount(amount), label, who))
            money(day, method, amount)
            if reading is not None:
                self._read(day, reading, p)
            count += 1
        self.rows += count

    def _next_day(self, ordinal: int) -> None:
        """The first receipt of a day: close the previous day, open the day's sheet."""
        self._end_of_day()
        self._day = ordinal
        day = self._date = dt.date.fromordinal(ordinal)
        self._csv_date = f"{day.day:02d}/{day.month:02d}/{day.year:04d}"
        key = f"{day.year:04d}-{day.month:02d}"
        while self._key != key:
            self._next_sheet()

    def _read(self, day: dt.date, reading: _Reading, practitioner: int) -> None:
        """The key receipt of an invoice number: a visit, facturé, or a credit note to link."""
        reading.day = day.toordinal()
        if reading.status == CREDIT_NOTE:
            self._notes.append(reading)
            return
        if (reading.patient, practitioner) not in self._visits:
            self._visits.add((reading.patient, practitioner))
            self.truth.consultation(day, "done", reading.patient)
        if reading.status == PAID:
            self.truth.invoice(day, reading.net, 0)
            if reading.net > 0:
                self._paid.setdefault(_paid_key(reading.patient, reading.net), []).append(reading)
                self._paid_order.append(reading)

    def _end_of_day(self) -> None:
        """Link the day's credit notes (every invoice of the day is known), forget old ones."""
        self._visits.clear()
        for note in self._notes:
            candidates = self._paid.get(_paid_key(note.patient, -note.net), ())
            best: _Reading | None = None
            for inv in candidates:  # written order: the first of the latest day wins
                if inv.status == PAID and (best is None or inv.day > best.day):
                    best = inv
            if best is not None:
                best.status = CANCELLED
                self.truth.invoice(dt.date.fromordinal(best.day), -best.net, 0)
        self._notes.clear()
        horizon = self._day - LINK_WINDOW_DAYS
        order, paid = self._paid_order, self._paid
        while order and order[0].day < horizon:
            old = order.popleft()
            key = _paid_key(old.patient, old.net)
            readings = paid[key]
            del readings[0]  # each key's list is in written (date) order: `old` is first
            if not readings:
                del paid[key]

    def _next_sheet(self) -> None:
        self._write_sheet()
        key = self._months[self._next_month]
        self._next_month += 1
        year, month = int(key[:4]), int(key[5:])
        if year != self._year:
            self._close_year()
            self._open_year(year)
        self._key, self._label = key, f"{MONTHS_FR[month - 1]} {year}"

    def _write_sheet(self) -> None:
        """Title, header, the month's receipts and a total row with a cached SUM formula."""
        if not self._key:
            return
        if int(self._key[5:]) == BY_METHOD_MONTH:
            self._write_by_method_sheet()
            return
        book = self._book
        assert book is not None
        last = len(self._rows) + 3
        book.start_sheet(self._label, WIDTHS, rows=last, columns=len(HEADER))
        title = f"Livre des recettes — {self._label} — {people.OFFICE_NAME}"
        header = "".join(
            text_cell(f"{c}2", h, HEADER_STYLE) for c, h in zip("ABCDEF", HEADER, strict=True)
        )
        book.write(f'<row r="1">{text_cell("A1", title, TITLE)}</row><row r="2">{header}</row>')
        total = 0
        write, amounts, texts = book.write, _AMOUNT_TEXT, _XML_TEXT
        for r, (day, number, name, amount, method, who) in enumerate(self._rows, start=3):
            total += amount
            shown = amounts.get(amount)
            if shown is None:
                shown = amounts[amount] = _number(amount / 100)
            text = texts.get(name)
            if text is None:
                if len(texts) > 100_000:
                    texts.clear()
                text = texts[name] = escape(name)
            # = number_cell / text_cell of each column, in one string
            write(
                f'<row r="{r}"><c r="A{r}" s="{FR_DATE}" t="n"><v>{day - _EPOCH}</v></c>'
                f'<c r="B{r}" t="inlineStr"><is><t>{escape(number)}</t></is></c>'
                f'<c r="C{r}" t="inlineStr"><is><t>{text}</t></is></c>'
                f'<c r="D{r}" s="{EURO}" t="n"><v>{shown}</v></c>'
                f'<c r="E{r}" t="inlineStr"><is><t>{escape(method)}</t></is></c>'
                f'<c r="F{r}" t="inlineStr"><is><t>{escape(who)}</t></is></c></row>'
            )
        sum_cell = (
            f'<c r="D{last}" s="{TOTAL_EURO}"><f>SUM(D3:D{last - 1})</f><v>{total / 100!r}</v></c>'
            if self._rows
            else number_cell(f"D{last}", 0, TOTAL_EURO)
        )
        write(
            f'<row r="{last}">{text_cell(f"A{last}", "Total " + self._label, TOTAL)}'
            f"{sum_cell}</row>"
        )
        book.end_sheet()
        self._rows = []
        self._key = ""

    def _write_by_method_sheet(self) -> None:
        """The month with one amount column per method, a Total column and SUM totals."""
        book = self._book
        assert book is not None
        last = len(self._rows) + 3
        book.start_sheet(self._label, BY_METHOD_WIDTHS, rows=last, columns=len(BY_METHOD_HEADER))
        title = f"Livre des recettes — {self._label} — {people.OFFICE_NAME}"
        header = "".join(
            text_cell(f"{column_name(i)}2", h, HEADER_STYLE) for i, h in enumerate(BY_METHOD_HEADER)
        )
        book.write(f'<row r="1">{text_cell("A1", title, TITLE)}</row><row r="2">{header}</row>')
        sums = dict.fromkeys("DEFGH", 0)
        for r, (day, number, name, amount, method, who) in enumerate(self._rows, start=3):
            col = _METHOD_COLUMN[method]
            sums[col] += amount
            sums["H"] += amount
            shown = _number(amount / 100)
            book.write(
                f'<row r="{r}"><c r="A{r}" s="{FR_DATE}" t="n"><v>{day - _EPOCH}</v></c>'
                f"{text_cell(f'B{r}', number)}{text_cell(f'C{r}', name)}"
                f'<c r="{col}{r}" s="{EURO}" t="n"><v>{shown}</v></c>'
                f'<c r="H{r}" s="{EURO}" t="n"><v>{shown}</v></c>'
                f"{text_cell(f'I{r}', who)}</row>"
            )
        cells = "".join(
            f'<c r="{c}{last}" s="{TOTAL_EURO}"><f>SUM({c}3:{c}{last - 1})</f>'
            f"<v>{total / 100!r}</v></c>"
            if self._rows
            else number_cell(f"{c}{last}", 0, TOTAL_EURO)
            for c, total in sums.items()
        )
        book.write(
            f'<row r="{last}">{text_cell(f"A{last}", "Total " + self._label, TOTAL)}{cells}</row>'
        )
        book.end_sheet()
        self._rows = []
        self._key = ""

    def _open_year(self, year: int) -> None:
        self._year = year
        path = self.folder / f"recettes-{year}.xlsx"
        self._book = Workbook(path)
        csv_path = self.folder / f"recettes-{year}.csv"
        self._csv_handle = open(csv_path, "w", newline="", encoding="cp1252")  # noqa: SIM115
        self._csv = csv.writer(self._csv_handle, delimiter=";", lineterminator="\r\n")
        self._csv.writerow(HEADER)
        self._csv_row = self._csv.writerow
        self.paths += [path, csv_path]

    def _close_year(self) -> None:
        if self._book is not None:
            self._book.close()
            self._csv_handle.close()
            self._book = None

    def close(self) -> list[Path]:
        """Write what is left, then empty sheets for the remaining months; close the files."""
        self._flush(dt.date.max.toordinal())
        self._end_of_day()
        while self._next_month < len(self._months):
            self._next_sheet()
        self._write_sheet()
        self._close_year()
        return self.paths


def _receipt(
    day: int,
    minutes: int,
    seq: int,
    patient: int,
    name: str,
    invoice: Invoice,
    payment: Payment,
    reading: _Reading | None,
) -> tuple[Any, ...]:
    """One pending ledger row, ordered as the adapter reads: day, minute, then as written."""
    return (
        day,
        minutes,
        seq,
        patient,
        name,
        invoice.number,
        payment.amount,
        payment.method,
        invoice.practitioner,
        reading,
    )

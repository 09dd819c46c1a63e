"""Write the practice as a hand-kept French receipts ledger (livre des recettes).

One workbook per calendar year, `recettes-YYYY.xlsx`, one sheet per month named in French
("Janvier 2024"): a title row, a header row (Date / N° facture / Patient / Montant /
Mode de règlement), one row per receipt, and a "Total" row whose SUM formula carries its
value. Its twin `recettes-YYYY.csv` (cp1252, ';', decimal comma, dd/mm/yyyy, CRLF) holds
the header once and the same receipt rows, without title or total rows.

A ledger knows only money: each payment received is a row on the day it arrived (an
instalment is a row of its own), each refund a negative row. Its ground truth reads it as
a correct importer must: a positive row is one done consultation, invoiced and paid that
day, by the patient named 'NOM Prénom' (names are unique in the practice); a negative row
is a credit note and its refund. So it has no cancellations, no no-shows and no unpaid
invoices, and visits that were never paid (free, unpaid, not yet invoiced) are absent.
"""

from __future__ import annotations

import csv
import datetime as dt
import heapq
from pathlib import Path
from typing import Any

from . import people
from .model import Exam
from .truth import TruthBook, months_between
from .xlsx import (
    EURO,
    FR_DATE,
    TITLE,
    TOTAL,
    TOTAL_EURO,
    Workbook,
    number_cell,
    text_cell,
)
from .xlsx import (
    HEADER as HEADER_STYLE,
)

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
HEADER = ["Date", "N° facture", "Patient", "Montant", "Mode de règlement"]
LATE_MINUTES = 19 * 60 + 20
_EPOCH = dt.date(1899, 12, 30).toordinal()


def french_amount(cents: int) -> str:
    """'1234,50' / '-55,00': the CSV twin's decimal comma, no thousands separator."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100},{abs(cents) % 100:02d}"


class LedgerWriter:
    """Streams receipts, in date order, into yearly workbooks and CSV files under `folder`."""

    def __init__(self, folder: Path, start: dt.date, end: dt.date, truth: TruthBook) -> None:
        self.folder = folder
        self.truth = truth
        self._months = months_between(start, end)
        self._next_month = 0  # index in _months of the next sheet to open
        self._pending: list[tuple[int, int, int, int, str, str, int, str]] = []
        self._seq = 0
        self._year = 0
        self._book: Workbook | None = None
        self._csv_handle: Any = None
        self._csv: Any = None
        self._key = ""  # month being filled, its label and rows (a month is written at once,
        self._label = ""  # so its sheet can declare its dimension)
        self._rows: list[tuple[int, str, str, int, str]] = []
        self.paths: list[Path] = []
        self.rows = 0

    def exam(self, exam: Exam) -> None:
        """Queue the exam's money movements; write every receipt dated before this exam."""
        for invoice in exam.invoices:
            issued_day = invoice.issued.date()
            for payment in invoice.money:
                minutes = (
                    invoice.issued.hour * 60 + invoice.issued.minute
                    if payment.paid_on == issued_day
                    else LATE_MINUTES
                )
                self._seq += 1
                heapq.heappush(
                    self._pending,
                    (
                        payment.paid_on.toordinal(),
                        minutes,
                        self._seq,
                        exam.patient.index,
                        exam.patient.ledger_name,
                        invoice.number,
                        payment.amount,
                        payment.method,
                    ),
                )
        # Exams arrive in date order and money never precedes its visit: earlier days are final.
        self._flush(exam.start.date().toordinal())

    def _flush(self, before: int) -> None:
        while self._pending and self._pending[0][0] < before:
            day, _, _, patient, name, number, amount, method = heapq.heappop(self._pending)
            self._receipt(dt.date.fromordinal(day), patient, name, number, amount, method)

    def _receipt(
        self, day: dt.date, patient: int, name: str, number: str, amount: int, method: str
    ) -> None:
        key = f"{day.year:04d}-{day.month:02d}"
        while self._key != key:
            self._next_sheet()
        label = METHOD_LABEL[method]
        self._rows.append((day.toordinal(), number, name, amount, label))
        self._csv.writerow([day.strftime("%d/%m/%Y"), number, name, french_amount(amount), label])
        self.rows += 1
        if amount > 0:  # the ledger reading of a receipt: one paid consultation
            self.truth.consultation(day, "done", patient)
            self.truth.invoice(day, amount, 0)
        self.truth.money(day, method, amount)

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
        assert self._book is not None
        last = len(self._rows) + 3
        self._book.start_sheet(self._label, [12, 12, 30, 13, 18], rows=last, columns=5)
        title = f"Livre des recettes — {self._label} — {people.OFFICE_NAME}"
        header = "".join(
            text_cell(f"{c}2", h, HEADER_STYLE) for c, h in zip("ABCDE", HEADER, strict=True)
        )
        out = [f'<row r="1">{text_cell("A1", title, TITLE)}</row><row r="2">{header}</row>']
        total = 0
        for r, (day, number, name, amount, method) in enumerate(self._rows, start=3):
            total += amount
            out.append(
                f'<row r="{r}">{number_cell(f"A{r}", day - _EPOCH, FR_DATE)}'
                f"{text_cell(f'B{r}', number)}"
                f"{text_cell(f'C{r}', name)}{number_cell(f'D{r}', amount / 100, EURO)}"
                f"{text_cell(f'E{r}', method)}</row>"
            )
        sum_cell = (
            f'<c r="D{last}" s="{TOTAL_EURO}"><f>SUM(D3:D{last - 1})</f><v>{total / 100!r}</v></c>'
            if self._rows
            else number_cell(f"D{last}", 0, TOTAL_EURO)
        )
        out.append(
            f'<row r="{last}">{text_cell(f"A{last}", "Total " + self._label, TOTAL)}'
            f"{sum_cell}</row>"
        )
        self._book.write("".join(out))
        self._book.end_sheet()
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
        self.paths += [path, csv_path]

    def _close_year(self) -> None:
        if self._book is not None:
            self._book.close()
            self._csv_handle.close()
            self._book = None

    def close(self) -> list[Path]:
        """Write what is left, then empty sheets for the remaining months; close the files."""
        self._flush(dt.date.max.toordinal())
        while self._next_month < len(self._months):
            self._next_sheet()
        self._write_sheet()
        self._close_year()
        return self.paths

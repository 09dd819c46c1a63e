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

import xlsxwriter

from . import people
from .model import Exam
from .truth import TruthBook, months_between
from .xlsx import new_workbook

MONTHS_FR = ["Janvier", "Février", "Mars", "Avril", "Mai", "Juin", "Juillet", "Août", "Septembre",
             "Octobre", "Novembre", "Décembre"]
METHOD_LABEL = {"cb": "CB", "cheque": "Chèque", "especes": "Espèces", "virement": "Virement"}
HEADER = ["Date", "N° facture", "Patient", "Montant", "Mode de règlement"]
LATE_MINUTES = 19 * 60 + 20


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
        self._book: xlsxwriter.Workbook | None = None
        self._sheet: Any = None
        self._csv_handle: Any = None
        self._csv: Any = None
        self.paths: list[Path] = []
        self.rows = 0

    def exam(self, exam: Exam) -> None:
        """Queue the exam's money movements; write every receipt dated before this exam."""
        for invoice in exam.invoices:
            issued_day = invoice.issued.date()
            for payment in invoice.money:
                minutes = (invoice.issued.hour * 60 + invoice.issued.minute
                           if payment.paid_on == issued_day else LATE_MINUTES)
                self._seq += 1
                heapq.heappush(self._pending, (payment.paid_on.toordinal(), minutes, self._seq,
                                               exam.patient.index, exam.patient.ledger_name,
                                               invoice.number, payment.amount, payment.method))
        # Exams arrive in date order and money never precedes its visit: earlier days are final.
        self._flush(exam.start.date().toordinal())

    def _flush(self, before: int) -> None:
        while self._pending and self._pending[0][0] < before:
            day, _, _, patient, name, number, amount, method = heapq.heappop(self._pending)
            self._write(dt.date.fromordinal(day), patient, name, number, amount, method)

    def _write(self, day: dt.date, patient: int, name: str, number: str, amount: int, method: str) -> None:
        key = f"{day.year:04d}-{day.month:02d}"
        while self._sheet is None or self._sheet_key != key:
            self._open_next_sheet()
        row = self._row
        self._sheet.write_number(row, 0, day.toordinal() - dt.date(1899, 12, 30).toordinal(), self._fmt["date"])
        self._sheet.write_string(row, 1, number)
        self._sheet.write_string(row, 2, name)
        self._sheet.write_number(row, 3, amount / 100, self._fmt["euro"])
        self._sheet.write_string(row, 4, METHOD_LABEL[method])
        self._sheet_total += amount
        self._row += 1
        self._csv.writerow([day.strftime("%d/%m/%Y"), number, name, french_amount(amount), METHOD_LABEL[method]])
        self.rows += 1
        if amount > 0:  # the ledger reading of a receipt: one paid consultation
            self.truth.consultation(day, "done", patient)
            self.truth.invoice(day, amount, 0)
        self.truth.money(day, method, amount)

    def _open_next_sheet(self) -> None:
        self._close_sheet()
        key = self._months[self._next_month]
        self._next_month += 1
        year, month = int(key[:4]), int(key[5:])
        if year != self._year:
            self._close_year()
            self._open_year(year)
        label = f"{MONTHS_FR[month - 1]} {year}"
        assert self._book is not None
        sheet = self._book.add_worksheet(label)
        sheet.set_column(0, 1, 12)
        sheet.set_column(2, 2, 30)
        sheet.set_column(3, 3, 13)
        sheet.set_column(4, 4, 18)
        sheet.write_string(0, 0, f"Livre des recettes — {label} — {people.OFFICE_NAME}", self._fmt["title"])
        for col, text in enumerate(HEADER):
            sheet.write_string(1, col, text, self._fmt["header"])
        self._sheet, self._sheet_key, self._sheet_label = sheet, key, label
        self._row, self._sheet_total = 2, 0

    def _close_sheet(self) -> None:
        if self._sheet is None:
            return
        row, fmt = self._row, self._fmt
        self._sheet.write_string(row, 0, f"Total {self._sheet_label}", fmt["total"])
        if row > 2:
            self._sheet.write_formula(row, 3, f"=SUM(D3:D{row})", fmt["total_euro"], self._sheet_total / 100)
        else:
            self._sheet.write_number(row, 3, 0, fmt["total_euro"])
        self._sheet = None

    def _open_year(self, year: int) -> None:
        self._year = year
        path = self.folder / f"recettes-{year}.xlsx"
        self._book = new_workbook(path)
        book = self._book
        self._fmt = {
            "title": book.add_format({"bold": True, "font_size": 12}),
            "header": book.add_format({"bold": True, "bottom": 1, "bg_color": "#DDEBF7"}),
            "date": book.add_format({"num_format": "dd/mm/yyyy"}),
            "euro": book.add_format({"num_format": '#,##0.00 "€"'}),
            "total": book.add_format({"bold": True, "top": 1}),
            "total_euro": book.add_format({"bold": True, "top": 1, "num_format": '#,##0.00 "€"'}),
        }
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
            self._open_next_sheet()
        self._close_sheet()
        self._close_year()
        return self.paths

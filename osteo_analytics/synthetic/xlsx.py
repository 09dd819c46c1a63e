"""Reproducible, streaming XLSX sheets on top of xlsxwriter.

xlsxwriter in `constant_memory` mode writes each row as it comes and stores strings inline
(no sharedStrings part), like the openpyxl workbooks drf-excel serves. Zip entry times are
fixed by xlsxwriter and the document properties are pinned here, so the same rows give the
same bytes. A sheet that would pass Excel's row limit continues in a numbered part:
`invoices.xlsx`, `invoices-2.xlsx`, ... (each with its header row).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xlsxwriter

EXCEL_MAX_ROWS = 1_048_576
FIXED_TIME = dt.datetime(2020, 1, 1)
_EPOCH = dt.date(1899, 12, 30).toordinal()
# drf-excel prefixes these with an apostrophe (formula-injection guard); see the sample README.
_DANGEROUS = frozenset("=-+@\t\r\n")


def new_workbook(path: Path, *, zip64: bool = False) -> xlsxwriter.Workbook:
    """A constant-memory workbook whose bytes depend only on what is written to it."""
    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "tmpdir": str(path.parent),
            "strings_to_urls": False,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "use_zip64": zip64,
        },
    )
    workbook.set_properties({"author": "openpyxl", "created": FIXED_TIME})
    return workbook


def excel_serial(value: dt.date | dt.datetime) -> float:
    """Excel's day number (1900 system) for a naive date or wall-clock datetime."""
    serial = float(value.toordinal() - _EPOCH)
    if isinstance(value, dt.datetime):
        serial += (value.hour * 3600 + value.minute * 60 + value.second) / 86400
    return serial


def drf_text(value: str) -> str:
    """A string as drf-excel stores it: an apostrophe before a formula-like first character."""
    return "'" + value if value[:1] in _DANGEROUS and value else value


class ReportSheet:
    """A drf-excel style "Report" sheet: header row, typed cells, 20-wide columns.

    `kinds` gives each column's cell type: s text, i integer (format 0), a amount (0.00),
    d date (yyyy-mm-dd), t datetime (yyyy-mm-dd h:mm:ss), b boolean. None writes no cell.
    """

    def __init__(self, path: Path, headers: Sequence[str], kinds: str, *, zip64: bool = False,
                 max_rows: int = EXCEL_MAX_ROWS) -> None:
        assert len(headers) == len(kinds)
        self._base = path
        self._headers = list(headers)
        self._kinds = kinds
        self._zip64 = zip64
        self._max_rows = max_rows
        self.paths: list[Path] = []
        self.rows = 0
        self._open_part()

    def _open_part(self) -> None:
        n = len(self.paths) + 1
        path = self._base if n == 1 else self._base.with_name(f"{self._base.stem}-{n}{self._base.suffix}")
        self.paths.append(path)
        self._book = new_workbook(path, zip64=self._zip64)
        self._sheet = self._book.add_worksheet("Report")
        self._formats = {
            "i": self._book.add_format({"num_format": "0"}),
            "a": self._book.add_format({"num_format": "0.00"}),
            "d": self._book.add_format({"num_format": "yyyy-mm-dd"}),
            "t": self._book.add_format({"num_format": "yyyy-mm-dd h:mm:ss"}),
        }
        self._sheet.set_column(0, len(self._headers) - 1, 20)
        self._sheet.set_row(0, 45)
        for col, header in enumerate(self._headers):
            self._sheet.write_string(0, col, header)
        self._row = 1

    def write(self, values: Sequence[Any]) -> None:
        """Append one data row (values in column order, already in LibreOsteo's types)."""
        if self._row >= self._max_rows:
            self._book.close()
            self._open_part()
        sheet, row, formats = self._sheet, self._row, self._formats
        sheet.set_row(row, 40)
        for col, (kind, value) in enumerate(zip(self._kinds, values)):
            if value is None:
                continue
            if kind == "s":
                if value:
                    sheet.write_string(row, col, drf_text(value))
            elif kind == "b":
                sheet.write_boolean(row, col, value)
            elif kind in "dt":
                sheet.write_number(row, col, excel_serial(value), formats[kind])
            else:
                sheet.write_number(row, col, value, formats[kind])
        self._row += 1
        self.rows += 1

    def close(self) -> list[Path]:
        """Finish the last part; returns every part written."""
        self._book.close()
        return self.paths

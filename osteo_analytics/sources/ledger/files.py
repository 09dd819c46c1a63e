"""Ledger files → sheets of raw rows: CSV text or Excel workbooks, encrypted or not.

Reading itself is :mod:`osteo_analytics.sources.files` (content sniffing, so a CSV saved
as 'recettes.xlsx' is read as the CSV it is; text encodings; workbooks decrypted in
memory). What is the ledger's own: the separator of a CSV is ';', tab or ',', the first
one with which a ledger header row appears near the top; every non-empty worksheet of a
workbook is a sheet of the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from osteo_analytics.errors import Hint, InputError
from osteo_analytics.sources import files
from osteo_analytics.sources.ledger.layout import HEADER_SEARCH_ROWS, header_layout

EXTENSIONS = files.EXTENSIONS[files.CSV] | files.EXTENSIONS[files.XLSX]
FORMATS = (files.CSV, files.XLSX)
_DELIMITERS = (";", "\t", ",")
# detect() looks at the start of a text file only: the header is near the top.
_DETECT_BYTES = 256 * 1024

Password = files.Password


@dataclass(slots=True)
class Sheet:
    """One sheet of a workbook, or a whole CSV file, as (row number, cells) pairs."""

    path: Path  # the file it comes from
    name: str  # sheet name; "" for a CSV file
    format: str  # "csv" or "xlsx"
    rows: list[tuple[int, list[Any]]] = field(repr=False)
    label: str = ""  # source_file of its rows: "recettes.xlsx" or "recettes.xlsx#Janvier 2024"


def open_ledger(path: Path, password: Password | None) -> list[Sheet]:
    """Every non-empty sheet of ``path``; InputError if the file cannot be read at all."""
    if files.identify(path, FORMATS) == files.CSV:
        sheets = [_csv_sheet(path, files.read_text(path))]
    else:
        with files.open_workbook(path, password) as book:
            sheets = _workbook_sheets(path, book)
    many = len(sheets) > 1
    for sheet in sheets:
        sheet.label = f"{path.name}#{sheet.name}" if many else path.name
    return sheets


def looks_like_ledger(path: Path) -> bool:
    """True if ``path`` has a ledger extension and a ledger header near the top.

    A password-protected workbook cannot show its header without the password; it is
    taken as a ledger (auto-detection never asks for a password).
    """
    if path.suffix.lower() not in EXTENSIONS or not path.is_file():
        return False
    kind = files.sniff(path)
    if kind == files.ENCRYPTED:
        return True
    if kind == files.XLSX:
        with files.open_workbook(path) as book:
            sheets = _workbook_sheets(path, book)
        return any(header_index(s.rows) is not None for s in sheets)
    if kind != files.CSV:
        return False
    head = files.read_head(path, _DETECT_BYTES)
    text = files.decode_text(head, path.name, partial=len(head) == _DETECT_BYTES)
    return _sniff_delimiter(text) is not None


# --- workbooks -------------------------------------------------------------------------


def _workbook_sheets(path: Path, book: files.Workbook) -> list[Sheet]:
    sheets = []
    for name in book.worksheets():
        # calamine starts at row 1 (empty rows above the data included) but drops
        # empty leading columns: row numbers are the ones Excel shows, columns shift
        rows = list(enumerate(book.rows(name), start=1))
        if any(any(_filled(c) for c in cells) for _, cells in rows):
            sheets.append(Sheet(path, name, "xlsx", rows))
    if not sheets:
        raise InputError(f"{path.name} : classeur vide ; vérifiez que c'est le bon fichier")
    return sheets


def _filled(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


# --- text ------------------------------------------------------------------------------


def _sniff_delimiter(text: str) -> str | None:
    """The separator with which a ledger header row appears near the top, if any."""
    for delimiter in _DELIMITERS:
        rows: list[tuple[int, list[Any]]] = []
        try:
            for n, cells in files.csv_rows(text, "", delimiter=delimiter):
                rows.append((n, list(cells)))
                if n >= HEADER_SEARCH_ROWS:
                    break
        except InputError:
            pass  # judged on the rows before the damage; the full read reports it
        if header_index(rows) is not None:
            return delimiter
    return None


def header_index(rows: list[tuple[int, list[Any]]]) -> int | None:
    """Index in ``rows`` of the ledger header row, searched in the first rows only."""
    for i, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if header_layout(cells) is not None:
            return i
    return None


def _csv_sheet(path: Path, text: str) -> Sheet:
    if not text.strip():
        raise InputError(f"{path.name} : fichier vide ; vérifiez que c'est le bon fichier")
    delimiter = _sniff_delimiter(text)
    if delimiter is None:
        raise InputError(
            f"{path.name} : aucune ligne d'en-tête (Date, Patient, Montant...) dans les"
            f" {HEADER_SEARCH_ROWS} premières lignes",
            hint=Hint.DESCRIBE_COLUMNS,
        )
    rows: list[tuple[int, list[Any]]] = [
        (n, list(cells)) for n, cells in files.csv_rows(text, path.name, delimiter=delimiter)
    ]
    return Sheet(path, "", "csv", rows)

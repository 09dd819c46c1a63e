"""Reading for the generic adapter: a CSV or a workbook sheet → header + numbered rows.

Home-made spreadsheets come in every flavour: Excel's French CSV (cp1252, ';'), UTF-8
with or without BOM, UTF-16, a title line above the headers, a sheet among several, a
password-protected workbook. The bytes are read by :mod:`osteo_analytics.sources.files`,
as for every adapter; what is the generic adapter's own is the mapping's say (sheet,
header row, encoding, separator) and the search for the header row. Everything that
cannot be read is an :class:`~osteo_analytics.errors.InputError` naming the file, never a
traceback; nothing here looks at a value beyond the header row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from osteo_analytics.errors import InputError
from osteo_analytics.pseudonymize.primitives import normalize_name
from osteo_analytics.sources import files
from osteo_analytics.sources.generic.mapping import Mapping

FORMATS = (files.CSV, files.XLSX)
HEADER_SEARCH_ROWS = 30  # a title block above the headers is rarely longer


@dataclass(slots=True)
class Spreadsheet:
    """An opened file: the text of a CSV, or a workbook (decrypted if it was protected)."""

    path: Path
    format: str  # "csv" or "xlsx"
    text: str = ""
    book: files.Workbook | None = None

    @property
    def sheet_names(self) -> list[str | None]:
        """The workbook's sheets in order; [None] for a CSV file."""
        return [None] if self.book is None else list(self.book.sheet_names)

    def rows(self, mapping: Mapping, sheet: str | None = None) -> Iterator[tuple[int, list[Any]]]:
        """(row number, cells) of a CSV file, or of ``sheet`` (else the first) of a workbook.

        Workbook rows and columns are Excel's own (row 1, column A first), empty ones
        above or left of the data included, so that ``header_row`` means what Excel shows.
        """
        if self.book is None:
            delimiter = _delimiter(self.text, mapping.delimiter)
            return files.csv_rows(self.text, self.path.name, delimiter=delimiter)
        return enumerate(self.book.rows(sheet if sheet is not None else 0, grid=True), start=1)


def open_spreadsheet(
    path: Path, mapping: Mapping, password: files.Password | None = None
) -> Spreadsheet:
    """Open ``path``; its extension must say what it is (a CSV named .xlsx is refused)."""
    if files.identify(path, FORMATS, by_name=True) == files.CSV:
        return Spreadsheet(path, files.CSV, text=_decode(path, mapping.encoding))
    return Spreadsheet(path, files.XLSX, book=files.open_workbook(path, password))


@dataclass(slots=True)
class SheetRows:
    """The header of a file and its rows, each ``(row number, cells)`` (header = its number)."""

    format: str  # "csv" or "xlsx"
    header_row: int
    columns: dict[str, int]  # canonical column → cell index
    above: int  # rows above the header (titles): read and excluded
    rows: Iterator[tuple[int, list[Any]]]


def open_sheet(path: Path, mapping: Mapping, password: files.Password | None = None) -> SheetRows:
    """Find the header row of ``path`` as the mapping describes it; InputError otherwise.

    ``password(path)`` is asked for a password-protected workbook (never otherwise).
    """
    spreadsheet = open_spreadsheet(path, mapping, password)
    fmt = spreadsheet.format
    if spreadsheet.book is not None and mapping.sheet not in (None, *spreadsheet.sheet_names):
        raise InputError(
            f"{path.name} : pas de feuille « {mapping.sheet} » ; corrigez sheet dans le"
            " fichier de correspondance"
        )
    rows = spreadsheet.rows(mapping, mapping.sheet)
    wanted = {normalize_name(h): target for h, target in mapping.columns.items()}
    limit = mapping.header_row or HEADER_SEARCH_ROWS
    best: tuple[int, set[str]] | None = None
    for n, cells in rows:
        folded = [normalize_name(str(c)) if c is not None else "" for c in cells]
        found = {f: i for i, f in reversed(list(enumerate(folded))) if f in wanted}
        if (mapping.header_row is None and len(found) == len(wanted)) or n == mapping.header_row:
            missing = [h for h, t in mapping.columns.items() if normalize_name(h) not in found]
            if missing:
                raise InputError(
                    f"{path.name} : la ligne d'en-tête {n} n'a pas la colonne « {missing[0]} »"
                    " du fichier de correspondance ; corrigez columns ou header_row"
                )
            columns = {wanted[f]: i for f, i in found.items()}
            return SheetRows(fmt, n, columns, n - 1, rows)
        if best is None or len(found) > len(best[1]):
            best = (n, set(found))
        if n >= limit:
            break
    if best is None:
        raise InputError(f"{path.name} : le fichier est vide")
    missing = [h for h in mapping.columns if normalize_name(h) not in best[1]]
    raise InputError(
        f"{path.name} : aucune ligne d'en-tête avec la colonne « {missing[0]} » dans les"
        f" {limit} premières lignes ; vérifiez columns ou header_row du fichier de correspondance"
    )


def _decode(path: Path, encoding: str) -> str:
    """The text of a CSV: a BOM, else the mapping's encoding, else the usual rule (auto)."""
    raw = files.read_bytes(path)
    if encoding == "auto" or files.bom_encoding(raw) is not None:
        return files.decode_text(raw, path.name)
    files.require_text(raw, path.name)
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        raise InputError(
            f"{path.name} : le texte n'est pas en {encoding} ; corrigez encoding dans le fichier"
            " de correspondance (ou mettez auto)"
        ) from None


def _delimiter(text: str, wanted: str) -> str:
    if wanted != "auto":
        return wanted
    # the header line has the most separators; a title line above it may have none
    lines = text.splitlines()[:HEADER_SEARCH_ROWS]
    return max(
        (";", ",", "\t"), key=lambda sep: max((line.count(sep) for line in lines), default=0)
    )

"""Low-level reading for the generic adapter: CSV or workbook → header + numbered rows.

Home-made spreadsheets come in every flavour: Excel's French CSV (cp1252, ';'), UTF-8
with or without BOM, a title line above the headers, a sheet among several. Everything
that cannot be read is an :class:`~osteo_analytics.errors.InputError` naming the file,
never a traceback; nothing here looks at a value beyond the header row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from osteo_analytics.errors import InputError
from osteo_analytics.pseudonymize.primitives import normalize_name
from osteo_analytics.sources.generic.mapping import Mapping

CSV_EXTENSIONS = frozenset({".csv", ".txt"})
XLSX_EXTENSIONS = frozenset({".xlsx", ".xlsm"})
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted OOXML and legacy .xls
HEADER_SEARCH_ROWS = 30  # a title block above the headers is rarely longer
_FIELD_LIMIT = 1 << 20  # 1 MiB: far above any real cell, low enough to stop junk early


@dataclass(slots=True)
class SheetRows:
    """The header of a file and its rows, each ``(row number, cells)`` (header = its number)."""

    format: str  # "csv" or "xlsx"
    header_row: int
    columns: dict[str, int]  # canonical column → cell index
    above: int  # rows above the header (titles): read and excluded
    rows: Iterator[tuple[int, list[Any]]]


def open_sheet(path: Path, mapping: Mapping) -> SheetRows:
    """Find the header row of ``path`` as the mapping describes it; InputError otherwise."""
    fmt = _format_of(path)
    rows = _iter_csv(path, mapping) if fmt == "csv" else _iter_xlsx(path, mapping)
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


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in CSV_EXTENSIONS | XLSX_EXTENSIONS:
        raise InputError(f"{path.name} : type de fichier non pris en charge (.csv ou .xlsx)")
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise InputError(f"{path.name} : illisible ({exc.strerror or 'erreur E/S'})") from None
    if suffix in XLSX_EXTENSIONS:
        if head.startswith(_OLE_MAGIC):
            raise InputError(
                f"{path.name} : classeur protégé par mot de passe ou ancien format (.xls) ;"
                " enregistrez-le en .xlsx sans mot de passe"
            )
        if not head.startswith(_ZIP_MAGIC):
            raise InputError(
                f"{path.name} : pas un classeur Excel malgré son nom ; si c'est du texte CSV,"
                " renommez-le en .csv"
            )
        return "xlsx"
    if head.startswith(_ZIP_MAGIC) or head.startswith(_OLE_MAGIC) or b"\x00" in head:
        raise InputError(f"{path.name} : pas un fichier texte CSV (contenu binaire)")
    return "csv"


def _decode(path: Path, raw: bytes, encoding: str) -> str:
    if b"\x00" in raw:
        raise InputError(f"{path.name} : pas un fichier texte CSV (contenu binaire)")
    # auto: UTF-8 first (strict, so a cp1252 file fails fast), then cp1252, which Excel
    # uses for "CSV (séparateur : point-virgule)" on French Windows; latin-1 never fails.
    candidates = ("utf-8-sig", "cp1252") if encoding == "auto" else (encoding,)
    if encoding == "utf-8":
        candidates = ("utf-8-sig",)
    for candidate in candidates:
        try:
            return raw.decode(candidate)
        except UnicodeDecodeError:
            continue
    if encoding == "auto":
        return raw.decode("latin-1")
    raise InputError(
        f"{path.name} : le texte n'est pas en {encoding} ; corrigez encoding dans le fichier"
        " de correspondance (ou mettez auto)"
    )


def _delimiter(text: str, wanted: str) -> str:
    if wanted != "auto":
        return wanted
    # the header line has the most separators; a title line above it may have none
    lines = text.splitlines()[:HEADER_SEARCH_ROWS]
    return max(
        (";", ",", "\t"), key=lambda sep: max((line.count(sep) for line in lines), default=0)
    )


def _iter_csv(path: Path, mapping: Mapping) -> Iterator[tuple[int, list[Any]]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path.name} : illisible ({exc.strerror or 'erreur E/S'})") from None
    text = _decode(path, raw, mapping.encoding)
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=_delimiter(text, mapping.delimiter)
    )
    previous = csv.field_size_limit(_FIELD_LIMIT)
    n = 0  # record number (header = 1): quoted fields may span several lines
    try:
        for n, row in enumerate(reader, start=1):
            yield n, row
    except csv.Error:
        raise InputError(
            f"{path.name} : CSV mal formé vers l'enregistrement {n + 1} (guillemets ou champ"
            " démesuré) ; réenregistrez-le depuis le tableur"
        ) from None
    finally:
        csv.field_size_limit(previous)


def _iter_xlsx(path: Path, mapping: Mapping) -> Iterator[tuple[int, list[Any]]]:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        names = book.sheet_names
    except Exception:  # calamine raises zip, XML and its own errors for damaged workbooks
        raise InputError(f"{path.name} : classeur Excel endommagé ou tronqué") from None
    if mapping.sheet is not None and mapping.sheet not in names:
        raise InputError(
            f"{path.name} : pas de feuille « {mapping.sheet} » ; corrigez sheet dans le"
            " fichier de correspondance"
        )
    try:
        sheet = book.get_sheet_by_name(mapping.sheet or names[0])
        rows = sheet.to_python(skip_empty_area=False)
        book.close()
    except Exception:
        raise InputError(f"{path.name} : classeur Excel endommagé ou tronqué") from None
    yield from enumerate(rows, start=1)

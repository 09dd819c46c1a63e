"""Ledger files → sheets of raw rows: CSV text or Excel workbooks, encrypted or not.

The kind of a file is decided by its content, not its name: a zip container ('PK') is
a workbook, an OLE container is a password-protected workbook (or an old .xls), anything
else is text. So a CSV saved as 'recettes.xlsx' is read as the CSV it is.

Text: UTF-16 with a BOM (Excel's "Texte Unicode"), else UTF-8 (BOM or not), else
Windows-1252; separator ';', tab or ',' — the first one that yields a ledger header row.
Workbooks are read with python-calamine (cached formula values, never evaluated);
password-protected ones are decrypted in memory with msoffcrypto-tool, never on disk.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from osteo_analytics.errors import Hint, InputError
from osteo_analytics.sources.ledger.layout import HEADER_SEARCH_ROWS, header_layout

CSV_EXTENSIONS = frozenset({".csv", ".txt", ".tsv"})
XLSX_EXTENSIONS = frozenset({".xlsx", ".xlsm", ".xls"})
EXTENSIONS = CSV_EXTENSIONS | XLSX_EXTENSIONS
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DELIMITERS = (";", "\t", ",")
# detect() looks at the start of a text file only: the header is near the top.
_DETECT_BYTES = 256 * 1024

Password = Callable[[Path], str]


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
    data = _read_bytes(path)
    if data.startswith(_OLE_MAGIC):
        data = _decrypt(path, data, password)
    if data.startswith(_ZIP_MAGIC):
        sheets = _workbook_sheets(path, data)
    else:
        sheets = [_csv_sheet(path, decode_text(data, path.name))]
    many = len(sheets) > 1
    for sheet in sheets:
        sheet.label = f"{path.name}#{sheet.name}" if many else path.name
    return sheets


def looks_like_ledger(path: Path) -> bool:
    """True if ``path`` has a ledger extension and a ledger header near the top.

    A password-protected workbook cannot show its header without the password; one named
    .xlsx is taken as a ledger (no other format of this tool is ever encrypted).
    """
    if path.suffix.lower() not in EXTENSIONS or not path.is_file():
        return False
    with path.open("rb") as fh:
        head = fh.read(_DETECT_BYTES)
    if head.startswith(_OLE_MAGIC):
        return path.suffix.lower() != ".xls" and _is_encrypted_ooxml(path)
    if head.startswith(_ZIP_MAGIC):
        sheets = _workbook_sheets(path, _read_bytes(path))
        return any(header_index(s.rows) is not None for s in sheets)
    text = decode_text(head, path.name, partial=len(head) == _DETECT_BYTES)
    return _sniff_delimiter(text) is not None


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path.name} : illisible ({exc.strerror or 'erreur E/S'})") from None


# --- workbooks -------------------------------------------------------------------------


def _is_encrypted_ooxml(path: Path) -> bool:
    import msoffcrypto

    try:
        with path.open("rb") as fh:
            return bool(msoffcrypto.OfficeFile(fh).is_encrypted())
    except Exception:  # not an Office file at all: not ours
        return False


def _decrypt(path: Path, data: bytes, password: Password | None) -> bytes:
    """The plain workbook inside a password-protected one, in memory only."""
    import msoffcrypto
    from msoffcrypto.exceptions import InvalidKeyError

    name = path.name
    try:
        office = msoffcrypto.OfficeFile(io.BytesIO(data))
        encrypted = office.is_encrypted()
    except Exception:  # olefile and msoffcrypto raise many kinds for damaged containers
        raise InputError(
            f"{name} : fichier Excel endommagé ou d'un ancien format ; enregistrez-le en .xlsx"
        ) from None
    if not encrypted:
        raise InputError(
            f"{name} : ancien format Excel (.xls) ; ouvrez-le et enregistrez-le en .xlsx"
            " (Classeur Excel)"
        )
    if password is None:
        raise InputError(f"{name} : classeur protégé par mot de passe", hint=Hint.EXCEL_PASSWORD)
    secret = password(path)
    out = io.BytesIO()
    try:
        office.load_key(password=secret, verify_password=True)
        office.decrypt(out)
    except InvalidKeyError:
        raise InputError(
            f"{name} : mot de passe incorrect pour ce classeur Excel",
            hint=Hint.EXCEL_PASSWORD_WRONG,
        ) from None
    except Exception:
        raise InputError(
            f"{name} : impossible de déchiffrer le classeur (fichier endommagé ?) ;"
            " ouvrez-le dans Excel et enregistrez-le à nouveau"
        ) from None
    return out.getvalue()


def _workbook_sheets(path: Path, data: bytes) -> list[Sheet]:
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = []
        for meta in book.sheets_metadata:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue  # chart sheets hold no rows
            sheet = book.get_sheet_by_name(meta.name)
            # calamine starts at row 1 (empty rows above the data included) but drops
            # empty leading columns: row numbers are the ones Excel shows, columns shift
            rows = list(enumerate(sheet.iter_rows(), start=1))
            if any(any(_filled(c) for c in cells) for _, cells in rows):
                sheets.append(Sheet(path, meta.name, "xlsx", rows))
        book.close()
    except Exception:  # calamine raises zip, XML and its own errors for damaged workbooks
        raise InputError(
            f"{path.name} : classeur Excel endommagé ou tronqué ;"
            " ouvrez-le dans Excel et enregistrez-le à nouveau"
        ) from None
    if not sheets:
        raise InputError(f"{path.name} : classeur vide ; vérifiez que c'est le bon fichier")
    return sheets


def _filled(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


# --- text ------------------------------------------------------------------------------


def decode_text(data: bytes, name: str, *, partial: bool = False) -> str:
    """Text of a CSV file: UTF-16 (BOM), UTF-8 (BOM or not) or Windows-1252.

    ``partial``: ``data`` is the start of a larger file and may end inside a character.
    """
    errors = "ignore" if partial else "strict"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16", errors=errors)
        except UnicodeDecodeError:
            raise InputError(
                f"{name} : texte UTF-16 endommagé ; enregistrez-le à nouveau en CSV UTF-8"
            ) from None
    if b"\x00" in data[:4096]:
        raise InputError(
            f"{name} : pas un fichier texte (contenu binaire) ; attendu un CSV ou un .xlsx"
        )
    try:
        return data.decode("utf-8-sig", errors="strict")
    except UnicodeDecodeError as exc:
        if partial and exc.start >= len(data) - 3:  # cut inside the last character
            return data[: exc.start].decode("utf-8-sig")
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise InputError(
            f"{name} : texte dans un encodage inconnu ; enregistrez-le en UTF-8 ou en Windows-1252"
        ) from None


def _records(text: str, delimiter: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _sniff_delimiter(text: str) -> str | None:
    """The separator with which a ledger header row appears near the top, if any."""
    for delimiter in _DELIMITERS:
        rows: list[tuple[int, list[Any]]] = []
        try:
            for n, cells in enumerate(_records(text, delimiter), start=1):
                rows.append((n, cells))
                if n >= HEADER_SEARCH_ROWS:
                    break
        except csv.Error:
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
    rows: list[tuple[int, list[Any]]] = []
    n = 0
    try:
        for n, cells in enumerate(_records(text, delimiter), start=1):
            rows.append((n, list(cells)))
    except csv.Error:
        raise InputError(
            f"{path.name} : CSV mal formé vers l'enregistrement {n + 1} (champ trop long ou"
            " guillemet isolé) ; corrigez le fichier ou exportez-le à nouveau"
        ) from None
    return Sheet(path, "", "csv", rows)

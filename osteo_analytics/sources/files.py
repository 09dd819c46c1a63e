"""One file-reading layer for every adapter: what a file is, its text, its workbook, folders.

**What a file is** is decided by its content (:func:`sniff`): a zip container holding
``[Content_Types].xml`` is an Office Open XML file, a workbook when it has ``xl/`` parts,
a Word document when it has ``word/`` parts; an OLE compound file is a password-protected
OOXML file (a legacy .xls or .doc is refused, saying how to convert it); anything else
is text, read as CSV, unless it holds NUL bytes (binary). Whether a name that disagrees
with the content is acceptable is the adapter's choice (:func:`identify`, ``by_name``).

**Text** (:func:`decode_text`): a byte-order mark decides first (UTF-8, UTF-16 LE or BE:
Excel's "Texte Unicode"); else strict UTF-8; else Windows-1252, the code page of Excel's
"CSV (séparateur : point-virgule)" on a French Windows.

**Workbooks** (:func:`open_workbook`) are read with python-calamine (cached formula
values, never evaluated). A password-protected one is decrypted in memory with
msoffcrypto-tool: the caller's ``password(path)`` callback is asked once per protected
workbook and never otherwise; the plain workbook only ever lives in a ``BytesIO``. The
library never prompts: the command line passes a callback (environment or hidden prompt).

**Folders** (:func:`folder_files`, :func:`collect`): the files a folder offers an adapter
are its regular, visible files (not hidden, not Office lock files ``~$...``) whose
extension belongs to one of the adapter's formats, in name order.

Everything unreadable is an :class:`~osteo_analytics.errors.InputError` of one French line
naming the file (its name, never its folder), never a value read from it.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from osteo_analytics.errors import Hint, InputError

CSV = "csv"
XLSX = "xlsx"
DOCX = "docx"
ENCRYPTED = "encrypted"  # password-protected OOXML: a workbook (or a document) inside
BINARY = "binary"  # none of the above

EXTENSIONS: dict[str, frozenset[str]] = {
    CSV: frozenset({".csv", ".txt", ".tsv"}),
    XLSX: frozenset({".xlsx", ".xlsm"}),
    DOCX: frozenset({".docx"}),
}
_SHOWN = {CSV: ".csv", XLSX: ".xlsx", DOCX: ".docx"}  # how a message names a format

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
HEAD_BYTES = 4096  # what sniffing reads of a text file
_REDO = "exportez-le ou enregistrez-le à nouveau"

Password = Callable[[Path], str]
"""Asked for the password of one protected workbook (the path names it for a prompt)."""


# --- what a file is --------------------------------------------------------------------


def named_format(path: Path) -> str | None:
    """The format the name of ``path`` announces (CSV, XLSX, DOCX), or None."""
    suffix = path.suffix.lower()
    return next((fmt for fmt, exts in EXTENSIONS.items() if suffix in exts), None)


def sniff(path: Path) -> str:
    """CSV, XLSX, DOCX, ENCRYPTED or BINARY, by content.

    Raises InputError for a file that cannot be read, an Office container that is damaged,
    or a legacy .xls / .doc (saying how to convert it).
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
            if head.startswith(_ZIP_MAGIC):
                return _zip_kind(fh, path)
            if head.startswith(_OLE_MAGIC):
                return _ole_kind(fh, path)
    except OSError as exc:
        raise _unreadable(path, exc) from None
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" not in head:
        return CSV
    return BINARY


def identify(path: Path, formats: Collection[str], *, by_name: bool = False) -> str:
    """The format of ``path`` among ``formats`` (ENCRYPTED for a protected workbook).

    The content decides. With ``by_name``, the name's extension must also be one of
    ``formats`` and agree with the content (a CSV named .xlsx is refused, saying so).
    InputError otherwise, in words that say what the file is and what was expected.
    """
    named = named_format(path)
    if by_name and named not in formats:
        expected = " ou ".join(_SHOWN[f] for f in formats)
        raise InputError(f"{path.name} : type de fichier non pris en charge ; attendu {expected}")
    found = sniff(path)
    found_as = XLSX if found == ENCRYPTED else found  # what it is once decrypted
    if found_as in formats and (not by_name or named == found_as):
        return found
    name = path.name
    if set(formats) == {DOCX}:
        if found == ENCRYPTED:
            raise InputError(
                f"{name} : document Word protégé par mot de passe ;"
                " enregistrez-le en .docx sans mot de passe"
            )
        raise InputError(f"{name} : pas un document Word (.docx)")
    if by_name and named == CSV and found_as == XLSX:
        raise InputError(f"{name} : classeur Excel malgré son nom en .csv ; renommez-le en .xlsx")
    if by_name and named == XLSX:
        if found == CSV and _is_empty(path):
            raise InputError(f"{name} : fichier vide ; vérifiez que c'est le bon fichier")
        if found == CSV:
            raise InputError(
                f"{name} : pas un classeur Excel malgré son nom ; si c'est du texte CSV,"
                " renommez-le en .csv"
            )
        raise InputError(f"{name} : pas un classeur Excel (.xlsx) ; {_REDO}")
    if found == DOCX:
        raise InputError(f"{name} : document Word, pas un tableau ; attendu un CSV ou un .xlsx")
    raise InputError(
        f"{name} : pas un fichier texte CSV (contenu binaire) ; attendu un CSV ou un .xlsx"
    )


def _is_empty(path: Path) -> bool:
    try:
        return path.stat().st_size == 0
    except OSError:
        return False


def _office_label(path: Path) -> tuple[str, str, str]:
    """(what, legacy extension, current extension) the name suggests, for messages."""
    if path.suffix.lower() in (".docx", ".doc", ".docm"):
        return "document Word", ".doc", ".docx"
    return "classeur Excel", ".xls", ".xlsx"


def _zip_kind(fh: IO[bytes], path: Path) -> str:
    what = _office_label(path)[0]
    try:
        with zipfile.ZipFile(fh) as archive:
            names = archive.namelist()
    except Exception:  # zipfile raises BadZipFile, ValueError, OSError... on damaged archives
        raise InputError(f"{path.name} : {what} endommagé ou tronqué ; {_REDO}") from None
    if "[Content_Types].xml" not in names:
        raise InputError(f"{path.name} : {what} endommagé (archive zip sans contenu Office)")
    if any(n.startswith("xl/") for n in names):
        return XLSX
    if any(n.startswith("word/") for n in names):
        return DOCX
    return BINARY  # another Office file (a presentation...): nothing an adapter reads


def _ole_kind(fh: IO[bytes], path: Path) -> str:
    import msoffcrypto

    what, old, new = _office_label(path)
    try:
        fh.seek(0)
        office = msoffcrypto.OfficeFile(fh)
        kind = getattr(office, "format", "")
        encrypted = kind == "ooxml" and bool(office.is_encrypted())
    except Exception:  # olefile and msoffcrypto raise many kinds for damaged containers
        raise InputError(
            f"{path.name} : {what} endommagé (ancien format {old} ou protégé par mot de passe) ;"
            f" ouvrez-le et enregistrez-le en {new}"
        ) from None
    if encrypted:
        return ENCRYPTED
    if kind == "xls97":
        raise InputError(
            f"{path.name} : ancien format Excel (.xls) ; ouvrez-le et enregistrez-le en .xlsx"
            " (Classeur Excel)"
        )
    if kind == "doc97":
        raise InputError(
            f"{path.name} : document Word ancien (.doc) ; ouvrez-le et enregistrez-le en .docx"
        )
    return BINARY


# --- bytes and text ----------------------------------------------------------------------


def read_bytes(path: Path) -> bytes:
    """The whole file; InputError naming it if it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _unreadable(path, exc) from None


def read_head(path: Path, size: int) -> bytes:
    """The first ``size`` bytes of the file (all of it if shorter)."""
    try:
        with path.open("rb") as fh:
            return fh.read(size)
    except OSError as exc:
        raise _unreadable(path, exc) from None


def _unreadable(path: Path, exc: OSError) -> InputError:
    return InputError(f"{path.name} : illisible ({exc.strerror or 'erreur E/S'})")


def bom_encoding(data: bytes) -> str | None:
    """The codec a byte-order mark at the start of ``data`` declares, or None."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def decode_text(data: bytes, name: str, *, partial: bool = False) -> str:
    """Text of a CSV file: a BOM decides (UTF-8, UTF-16), else UTF-8, else Windows-1252.

    ``partial``: ``data`` is the start of a larger file and may end inside a character.
    InputError (naming ``name``) for binary content or bytes no encoding explains.
    """
    errors = "ignore" if partial else "strict"
    declared = bom_encoding(data)
    if declared == "utf-16":
        try:
            return data.decode("utf-16", errors=errors)
        except UnicodeDecodeError:
            raise InputError(
                f"{name} : texte UTF-16 endommagé ; enregistrez-le à nouveau en CSV UTF-8"
            ) from None
    require_text(data, name)
    try:
        return data.decode("utf-8-sig", errors="strict")
    except UnicodeDecodeError as exc:
        if partial and exc.start >= len(data) - 3:  # cut inside the last character
            return data[: exc.start].decode("utf-8-sig")
        if declared is not None:
            raise InputError(
                f"{name} : texte UTF-8 endommagé ; enregistrez-le à nouveau en CSV UTF-8"
            ) from None
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise InputError(
            f"{name} : texte dans un encodage inconnu ; enregistrez-le en UTF-8 ou en Windows-1252"
        ) from None


def require_text(data: bytes, name: str) -> None:
    """InputError unless ``data`` looks like text (no NUL byte near the start)."""
    if b"\x00" in data[:HEAD_BYTES] and bom_encoding(data) != "utf-16":
        raise InputError(
            f"{name} : pas un fichier texte CSV (contenu binaire) ; attendu un CSV ou un .xlsx"
        )


def read_text(path: Path) -> str:
    """The decoded text of a CSV file (see :func:`decode_text`)."""
    return decode_text(read_bytes(path), path.name)


def csv_rows(
    text: str, name: str, *, delimiter: str = ",", strict: bool = False
) -> Iterator[tuple[int, list[str]]]:
    """(record number, cells) of every CSV record, the first being 1.

    Records, not physical lines: a quoted field may hold line breaks. A record the csv
    module cannot read (an unbalanced quote, a field over its size limit) is an
    InputError naming the record.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=strict)
    n = 0
    try:
        for n, row in enumerate(reader, start=1):
            yield n, row
    except csv.Error:
        raise InputError(
            f"{name} : CSV mal formé vers l'enregistrement {n + 1} (champ trop long, guillemet"
            " isolé ou fichier tronqué) ; corrigez le fichier ou exportez-le à nouveau"
        ) from None


# --- workbooks ---------------------------------------------------------------------------


class Workbook:
    """An opened workbook, decrypted in memory if it was protected; a context manager."""

    def __init__(self, name: str, data: bytes) -> None:
        from python_calamine import CalamineWorkbook

        self.name = name
        try:
            self._book = CalamineWorkbook.from_filelike(io.BytesIO(data))
            self._meta = list(self._book.sheets_metadata)
        except Exception:  # calamine raises zip, XML and its own errors for damaged workbooks
            raise self._damaged() from None

    def _damaged(self) -> InputError:
        return InputError(f"{self.name} : classeur Excel endommagé ou tronqué ; {_REDO}")

    @property
    def sheet_names(self) -> list[str]:
        """Every sheet, in workbook order."""
        return [m.name for m in self._meta]

    def worksheets(self) -> list[str]:
        """The sheets that hold cells (chart sheets hold none), in workbook order."""
        from python_calamine import SheetTypeEnum

        return [m.name for m in self._meta if m.typ == SheetTypeEnum.WorkSheet]

    def rows(self, sheet: str | int = 0, *, grid: bool = False) -> Iterator[list[Any]]:
        """The rows of one sheet (by name or index), starting at Excel's row 1.

        Empty rows above the data are included, so a row's position is the number Excel
        shows. ``grid``: columns too start at Excel's column A; otherwise they start at
        the first column that holds something.
        """
        try:
            found = (
                self._book.get_sheet_by_index(sheet)
                if isinstance(sheet, int)
                else self._book.get_sheet_by_name(sheet)
            )
            if grid:
                return iter(found.to_python(skip_empty_area=False))
            return found.iter_rows()
        except Exception:
            raise self._damaged() from None

    def close(self) -> None:
        """Let calamine drop the workbook (the rows already read stay valid)."""
        self._book.close()

    def __enter__(self) -> Workbook:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def open_workbook(path: Path, password: Password | None = None) -> Workbook:
    """The workbook in ``path``, decrypted in memory with ``password(path)`` if protected.

    Without a callback, a protected workbook is an InputError with Hint.EXCEL_PASSWORD; a
    wrong password one with Hint.EXCEL_PASSWORD_WRONG (the password is never in it).
    """
    data = read_bytes(path)
    if data.startswith(_OLE_MAGIC):
        data = decrypt(path, data, password)
    if not data.startswith(_ZIP_MAGIC):
        raise InputError(f"{path.name} : pas un classeur Excel (.xlsx) ; {_REDO}")
    if _zip_kind(io.BytesIO(data), path) != XLSX:
        raise InputError(f"{path.name} : pas un classeur Excel (.xlsx) ; {_REDO}")
    return Workbook(path.name, data)


def decrypt(path: Path, data: bytes, password: Password | None) -> bytes:
    """The plain OOXML file inside a password-protected one (``data``), in memory only."""
    import msoffcrypto
    from msoffcrypto.exceptions import InvalidKeyError

    name = path.name
    if _ole_kind(io.BytesIO(data), path) != ENCRYPTED:  # raises for damaged or legacy files
        raise InputError(f"{name} : fichier Office non pris en charge ; attendu un .xlsx")
    office = msoffcrypto.OfficeFile(io.BytesIO(data))  # parsed without error just above
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


# --- files of folders --------------------------------------------------------------------


def folder_files(folder: Path, formats: Collection[str]) -> list[Path]:
    """The files ``folder`` offers for ``formats``: regular, visible, by extension, by name."""
    wanted = frozenset().union(*(EXTENSIONS[f] for f in formats))
    try:
        children = sorted(folder.iterdir())
    except OSError as exc:
        raise _unreadable(folder, exc) from None
    return [
        c
        for c in children
        if c.suffix.lower() in wanted
        and not c.name.startswith((".", "~$"))  # hidden files, Office lock files
        and c.is_file()
    ]


def check_exist(paths: Sequence[Path]) -> None:
    """InputError naming the first of ``paths`` that does not exist."""
    for path in paths:
        if not path.exists():
            raise InputError(f"{path.name or path} : fichier ou dossier introuvable")


def collect(
    paths: Sequence[Path],
    formats: Collection[str],
    noun: str,
    *,
    keep: Callable[[Path], bool] | None = None,
) -> list[Path]:
    """The files to read: files given as they are, folders expanded by :func:`folder_files`.

    ``keep`` filters a folder's files (a file given by name is always kept). ``noun`` names
    what the adapter reads in messages: "aucun {noun} donné", "aucun {noun} dans ce
    dossier". Each file once (by resolved path), in the order given.
    """
    if not paths:
        raise InputError(f"aucun {noun} donné ; indiquez les fichiers ou leur dossier")
    check_exist(paths)
    found: dict[Path, Path] = {}
    for path in paths:
        if path.is_dir():
            children = [
                c
                for c in folder_files(path, formats)
                if c.resolve() in found or keep is None or keep(c)  # each file opened once
            ]
            if not children:
                shown = " ou ".join(_SHOWN[f] for f in formats)
                raise InputError(
                    f"{path.name or path.resolve().name} : aucun {noun} ({shown}) dans ce dossier"
                )
            for child in children:
                found.setdefault(child.resolve(), child)
        else:
            found.setdefault(path.resolve(), path)
    return list(found.values())

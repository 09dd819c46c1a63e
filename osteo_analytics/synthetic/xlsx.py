"""A small streaming XLSX writer that produces openpyxl-shaped workbooks, fast and reproducibly.

Why not xlsxwriter: profiling showed ~10 µs per cell through its API, hours for the
millions of 72-column examination rows of a large practice. Here a row is one string
built from pre-rendered cell templates and deflated straight into the zip entry.
Why not openpyxl: the same per-cell cost, and it holds the sheet in memory.

The cells look like those openpyxl writes for drf-excel (the LibreOsteo sample): inline
strings (no sharedStrings part), `<c t="inlineStr" />` for an empty string, no cell for a
null, numbers with style ids whose formats are `0`, `0.00`, `yyyy-mm-dd`,
`yyyy-mm-dd h:mm:ss`, booleans as `t="b"`. Zip entries carry a fixed timestamp and the
document properties a fixed date, so the same rows give the same bytes.

A sheet's `<dimension>` must precede its rows; it is written when the caller knows the
row count in advance (`rows=`), and left out otherwise (readers then scan the rows).
Excel's limit is 1,048,576 rows per sheet: `ReportSheet` continues in numbered parts
(`invoices.xlsx`, `invoices-2.xlsx`, ...), each with its header row.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

EXCEL_MAX_ROWS = 1_048_576
ROW_PLACEHOLDER = "\x00"  # a row rendered before its number is known (never in XML text)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
FIXED_TIME = "2020-01-01T00:00:00Z"
_EPOCH = dt.date(1899, 12, 30).toordinal()
# drf-excel prefixes these with an apostrophe (formula-injection guard); see the sample README.
_DANGEROUS = frozenset("=-+@\t\r\n")
_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"

# Style ids (cellXfs order in _STYLES).
INTEGER, DATETIME, AMOUNT, DATE = 1, 2, 3, 4
TITLE, HEADER, FR_DATE, EURO, TOTAL, TOTAL_EURO = 5, 6, 7, 8, 9, 10
_STYLES = (
    f'<styleSheet xmlns="{_NS}"><numFmts count="4">'
    '<numFmt numFmtId="164" formatCode="yyyy-mm-dd h:mm:ss" />'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd" />'
    '<numFmt numFmtId="166" formatCode="dd/mm/yyyy" />'
    '<numFmt numFmtId="167" formatCode="#,##0.00 &quot;€&quot;" />'
    '</numFmts><fonts count="3">'
    '<font><name val="Calibri" /><family val="2" /><sz val="11" /></font>'
    '<font><b val="1" /><name val="Calibri" /><family val="2" /><sz val="11" /></font>'
    '<font><b val="1" /><name val="Calibri" /><family val="2" /><sz val="12" /></font></fonts>'
    '<fills count="3"><fill><patternFill /></fill>'
    '<fill><patternFill patternType="gray125" /></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7" /></patternFill></fill>'
    "</fills>"
    '<borders count="3"><border><left /><right /><top /><bottom /><diagonal /></border>'
    '<border><left /><right /><top /><bottom style="thin" /><diagonal /></border>'
    '<border><left /><right /><top style="thin" /><bottom /><diagonal /></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" />'
    "</cellStyleXfs>"
    '<cellXfs count="11"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" />'
    '<xf numFmtId="1" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" />'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" />'
    '<xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" />'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" />'
    '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1" />'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" '
    'applyBorder="1" />'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" />'
    '<xf numFmtId="167" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" />'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="2" xfId="0" applyFont="1" applyBorder="1" />'
    '<xf numFmtId="167" fontId="1" fillId="0" borderId="2" xfId="0" applyNumberFormat="1" '
    'applyFont="1" applyBorder="1" /></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0" />'
    "</cellStyles></styleSheet>"
)


def column_name(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def excel_serial(value: dt.date | dt.datetime) -> float:
    """Excel's day number (1900 system) for a naive date or wall-clock datetime."""
    serial = float(value.toordinal() - _EPOCH)
    if isinstance(value, dt.datetime):
        serial += (value.hour * 3600 + value.minute * 60 + value.second) / 86400
    return serial


def drf_text(value: str) -> str:
    """A string as drf-excel stores it: an apostrophe before a formula-like first character."""
    return "'" + value if value[:1] in _DANGEROUS and value else value


_text_cache: dict[str, str] = {}


def cell_text(value: str) -> str:
    """drf_text + XML escaping, memoized: most cell strings repeat (office, therapist, labels)."""
    text = _text_cache.get(value)
    if text is None:
        text = drf_text(value)
        if "&" in text or "<" in text or ">" in text:
            text = escape(text)
        if len(_text_cache) > 200_000:
            _text_cache.clear()
        _text_cache[value] = text
    return text


def number(value: float) -> str:
    """A cell number as openpyxl writes it: 55.0 -> '55', 47.5 -> '47.5'."""
    return str(int(value)) if value == int(value) else repr(value)


def text_cell(ref: str, value: str, style: int = 0) -> str:
    """An inline-string cell (empty string -> an empty inline-string cell, as openpyxl does)."""
    s = f' s="{style}"' if style else ""
    if not value:
        return f'<c r="{ref}"{s} t="inlineStr" />'
    return f'<c r="{ref}"{s} t="inlineStr"><is><t>{escape(value)}</t></is></c>'


def number_cell(ref: str, value: float, style: int = 0) -> str:
    s = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{s} t="n"><v>{number(value)}</v></c>'


class Workbook:
    """A workbook written sheet after sheet; close() adds the workbook parts."""

    def __init__(self, path: Path, *, zip64: bool = False, level: int = 1) -> None:
        self.path = path
        self._zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level)
        self._level = level
        self._zip64 = zip64
        self._sheets: list[str] = []
        self._stream: IO[bytes] | None = None
        self._buffer: list[str] = []  # rows are deflated in chunks: one zlib call per ~64 KB
        self._buffered = 0

    def _put(self, name: str, text: str) -> None:
        info = zipfile.ZipInfo(name, ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        self._zip.writestr(info, text.encode("utf-8"))

    def start_sheet(
        self, name: str, widths: Sequence[float], *, rows: int | None = None, columns: int = 0
    ) -> None:
        """Open a sheet; `rows` (with `columns`) gives its dimension when known in advance."""
        self.end_sheet()
        self._sheets.append(name)
        info = zipfile.ZipInfo(f"xl/worksheets/sheet{len(self._sheets)}.xml", ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        # ZipFile.open(ZipInfo) ignores the archive's compresslevel (zlib's default, 6, is
        # three times slower than 1 for a quarter smaller sheets): give it to the entry.
        if hasattr(info, "compress_level"):  # Python 3.13+
            info.compress_level = self._level
        else:
            info._compresslevel = self._level  # type: ignore[attr-defined]
        self._stream = self._zip.open(info, "w", force_zip64=self._zip64)
        dimension = f'<dimension ref="A1:{column_name(columns - 1)}{rows}" />' if rows else ""
        cols = "".join(
            f'<col width="{w}" customWidth="1" min="{i}" max="{i}" />'
            for i, w in enumerate(widths, start=1)
        )
        self.write(
            f'<worksheet xmlns="{_NS}"><sheetPr><outlinePr summaryBelow="1" summaryRight="1" />'
            f'<pageSetUpPr /></sheetPr>{dimension}<sheetViews><sheetView workbookViewId="0">'
            '<selection activeCell="A1" sqref="A1" /></sheetView></sheetViews>'
            f'<sheetFormatPr baseColWidth="8" defaultRowHeight="15" /><cols>{cols}</cols>'
            "<sheetData>"
        )

    def write(self, xml: str) -> None:
        """Append raw sheet XML (rows) to the open sheet."""
        self._buffer.append(xml)
        self._buffered += len(xml)
        if self._buffered > 1 << 16:
            self._flush()

    def _flush(self) -> None:
        assert self._stream is not None
        self._stream.write("".join(self._buffer).encode("utf-8"))
        self._buffer.clear()
        self._buffered = 0

    def end_sheet(self) -> None:
        if self._stream is not None:
            self.write(
                '</sheetData><pageMargins left="0.75" right="0.75" top="1" bottom="1" '
                'header="0.5" footer="0.5" /></worksheet>'
            )
            self._flush()
            self._stream.close()
            self._stream = None

    def close(self) -> None:
        self.end_sheet()
        n = len(self._sheets)
        sheets = "".join(
            f'<sheet name="{escape(name)}" sheetId="{i}" state="visible" r:id="rId{i}" />'
            for i, name in enumerate(self._sheets, start=1)
        )
        self._put(
            "xl/workbook.xml",
            f'<workbook xmlns:r="{_REL}" xmlns="{_NS}"><workbookPr />'
            '<bookViews><workbookView visibility="visible" minimized="0" showHorizontalScroll="1" '
            'showVerticalScroll="1" showSheetTabs="1" tabRatio="600" firstSheet="0" '
            'activeTab="0" />'
            f"</bookViews><sheets>{sheets}</sheets>"
            '<calcPr calcId="124519" fullCalcOnLoad="1" />'
            "</workbook>",
        )
        rels = "".join(
            f'<Relationship Type="{_REL}/worksheet" Target="/xl/worksheets/sheet{i}.xml" '
            f'Id="rId{i}" />'
            for i in range(1, n + 1)
        )
        self._put(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{_PKG_REL}">{rels}'
            f'<Relationship Type="{_REL}/styles" Target="styles.xml" Id="rId{n + 1}" />'
            "</Relationships>",
        )
        self._put("xl/styles.xml", _STYLES)
        self._put(
            "docProps/app.xml",
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/'
            '2006/extended-properties"><Application>Microsoft Excel Compatible / Openpyxl 3.1.5'
            "</Application><AppVersion>3.1</AppVersion></Properties>",
        )
        self._put(
            "docProps/core.xml",
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/'
            'package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-'
            'instance"><dc:creator>openpyxl</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">'
            f"{FIXED_TIME}</dcterms:created>"
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{FIXED_TIME}'
            "</dcterms:modified></cp:coreProperties>",
        )
        self._put(
            "_rels/.rels",
            f'<Relationships xmlns="{_PKG_REL}"><Relationship Type="{_REL}/'
            'officeDocument" Target="xl/workbook.xml" Id="rId1" /><Relationship Type="http://schemas.'
            'openxmlformats.org/package/2006/relationships/metadata/core-properties" '
            'Target="docProps/'
            f'core.xml" Id="rId2" /><Relationship Type="{_REL}/extended-properties" '
            'Target="docProps/app.xml" Id="rId3" /></Relationships>',
        )
        ct = "application/vnd.openxmlformats-officedocument"
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
            f'ContentType="{ct}.spreadsheetml.worksheet+xml" />'
            for i in range(1, n + 1)
        )
        self._put(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
            'package.relationships+xml" />'
            '<Default Extension="xml" ContentType="application/xml" />'
            f'<Override PartName="/xl/styles.xml" ContentType="{ct}.spreadsheetml.styles+xml" />'
            '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
            'package.core-properties+xml" /><Override PartName="/docProps/app.xml" '
            f'ContentType="{ct}.extended-properties+xml" />{overrides}<Override '
            f'PartName="/xl/workbook.xml" ContentType="{ct}.spreadsheetml.sheet.main+xml" />'
            "</Types>",
        )
        self._zip.close()


def _cell_source(i: int, ref: str, kind: str) -> str:
    """Python source of one cell of a data row: the value `v{i}`, row number `r`."""
    v = f"v{i}"
    if kind == "s":  # text: cached drf_text + escaping; "" is an empty inline string
        cell = (
            f'((f\'<c r="{ref}{{r}}" t="inlineStr"><is><t>{{get({v}) or text({v})}}'
            f"</t></is></c>') if {v} else '<c r=\"{ref}' + r + '\" t=\"inlineStr\" />')"
        )
    elif kind == "i":
        cell = f'f\'<c r="{ref}{{r}}" s="1" t="n"><v>{{{v}}}</v></c>\''
    elif kind == "a":
        cell = f'f\'<c r="{ref}{{r}}" s="3" t="n"><v>{{number({v})}}</v></c>\''
    elif kind == "t":  # a datetime, or its serial already computed
        serial = f"({v} if type({v}) is float else serial({v}))"
        cell = f'f\'<c r="{ref}{{r}}" s="2" t="n"><v>{{{serial}!r}}</v></c>\''
    elif kind == "d":
        cell = f'f\'<c r="{ref}{{r}}" s="4" t="n"><v>{{{v}.toordinal() - epoch}}</v></c>\''
    else:
        cell = f'f\'<c r="{ref}{{r}}" t="b"><v>{{1 if {v} else 0}}</v></c>\''
    return f"({cell} if {v} is not None else '')"


def row_formatter(refs: Sequence[str], kinds: str) -> Callable[[Sequence[Any], str], str]:
    """A function (values, row number) -> the row's XML, compiled for these column kinds.

    The same cells as a loop over the columns would write (None: no cell), in one
    expression: a generic per-cell loop costs several times more on million-row sheets.
    """
    names = ", ".join(f"v{i}" for i in range(len(kinds))) + ","
    cells = ",\n        ".join(
        _cell_source(i, ref, k) for i, (ref, k) in enumerate(zip(refs, kinds, strict=True))
    )
    source = (
        "def format_row(values, r):\n"
        f"    ({names}) = values\n"
        "    return ''.join((\n"
        '        f\'<row r="{r}" ht="40" customHeight="1">\',\n'
        f"        {cells},\n"
        "        '</row>',\n"
        "    ))\n"
    )
    scope: dict[str, Any] = {
        "get": _text_cache.get,
        "text": cell_text,
        "number": number,
        "serial": excel_serial,
        "epoch": _EPOCH,
    }
    exec(compile(source, f"<row formatter {kinds}>", "exec"), scope)
    formatter: Callable[[Sequence[Any], str], str] = scope["format_row"]
    return formatter


class ReportSheet:
    """A drf-excel "Report" sheet: header row (height 45), data rows (height 40), width 20.

    `kinds` gives each column's cell type: s text, i integer (format 0), a amount (0.00),
    d date (yyyy-mm-dd), t datetime (yyyy-mm-dd h:mm:ss), b boolean. None writes no cell.
    """

    def __init__(
        self,
        path: Path,
        headers: Sequence[str],
        kinds: str,
        *,
        zip64: bool = False,
        rows: int | None = None,
        max_rows: int = EXCEL_MAX_ROWS,
    ) -> None:
        assert len(headers) == len(kinds)
        self._base, self._headers = path, list(headers)
        self._zip64, self._total, self._max_rows = zip64, rows, max_rows
        self._refs = [column_name(i) for i in range(len(headers))]
        self._format = row_formatter(self._refs, kinds)
        self.paths: list[Path] = []
        self.rows = 0
        self._open_part()

    def _open_part(self) -> None:
        n = len(self.paths) + 1
        path = (
            self._base
            if n == 1
            else self._base.with_name(f"{self._base.stem}-{n}{self._base.suffix}")
        )
        self.paths.append(path)
        self._book = Workbook(path, zip64=self._zip64)
        known = None
        if self._total is not None:
            known = min(self._total - self.rows, self._max_rows - 1) + 1
        self._book.start_sheet(
            "Report", [20] * len(self._headers), rows=known, columns=len(self._headers)
        )
        cells = "".join(
            text_cell(f"{ref}1", h) for ref, h in zip(self._refs, self._headers, strict=True)
        )
        self._book.write(f'<row r="1" ht="45" customHeight="1">{cells}</row>')
        self._row = 2

    def write(self, values: Sequence[Any]) -> None:
        """Append one data row (values in column order, already in LibreOsteo's types)."""
        if self._row > self._max_rows:
            self._book.close()
            self._open_part()
        self._book.write(self._format(values, str(self._row)))
        self._row += 1
        self.rows += 1

    def write_rendered(self, row: str) -> None:
        """Append a row rendered by this sheet's `row_formatter` with ROW_PLACEHOLDER."""
        if self._row > self._max_rows:
            self._book.close()
            self._open_part()
        self._book.write(row.replace(ROW_PLACEHOLDER, str(self._row)))
        self._row += 1
        self.rows += 1

    def close(self) -> list[Path]:
        """Finish the last part; returns every part written."""
        self._book.close()
        return self.paths

"""The accountant's exports of one calendar year: livre-journal (CSV), FEC, Excel workbook.

Each export is a pure function of a `Warehouse` (a workspace's or an accountant's bundle)
returning an `Export`: the bytes, the file name they should get and their media type. What
happens to the bytes (age encryption, the file, a download button) is the caller's
business. Layouts, the FEC's legal field list and the account plan: docs/accountant.md.

The figures are the metrics' (docs/metrics.md), on the encaissé basis: the journal's and
the FEC's totals are `osteo metrics`' revenue_received to the cent. Every text written
for a spreadsheet (the journal CSV, every text cell of the workbook) is neutralised against
formula injection: one starting with = + - @ tab or CR gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd

from osteo_analytics import metrics
from osteo_analytics.contracts.model import labels
from osteo_analytics.errors import Hint, UsageError

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from osteo_analytics.warehouse import Warehouse

KINDS = ("journal", "fec", "xlsx")
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
FEC_MEDIA_TYPE = "text/plain; charset=iso-8859-15"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What a spreadsheet reads as the start of a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# The 22 fields of the FEC of a BNC on a cash basis, in the order of art. A47 A-1 LPF, II.
FEC_FIELDS = tuple(metrics.fec.columns)
FEC_ENCODING = "iso8859_15"
# Excel number formats are written in the file's neutral syntax (`,` groups, `.` decimals);
# a French Excel or LibreOffice shows them as `1 234,50 €` and `31/12/2025`.
EURO_FORMAT = '#,##0.00\\ "€"'
DATE_FORMAT = "dd/mm/yyyy"
MONTH_FORMAT = "mmmm yyyy"
COUNT_FORMAT = "0"
MAX_WIDTH = 60

# Labels of the codes the accountant's metrics return (not contract code lists).
ANOMALY_LABELS = {"gap": "Trou", "duplicate": "Doublon", "backdated": "Antidatée"}
DISCREPANCY_LABELS = {
    "overpaid": "Trop-perçu",
    "underpaid": "Moins-perçu",
    "cancelled_not_refunded": "Annulée non remboursée",
    "payment_without_invoice": "Paiement sans facture connue",
}

# The two listings of the workbook that are not metrics: the year's documents as stored.
_INVOICES_SQL = """
SELECT invoice_number, issued_on, amount, status, patient_key, practitioner_id,
       replaces_invoice_number, cancels_invoice_number
FROM invoices
WHERE in_period(issued_on, $date_from, $date_to)
  AND for_practitioners(practitioner_id, $practitioners)
ORDER BY issued_on, invoice_number
"""
_PAYMENTS_SQL = """
SELECT paid_on, payment_id, invoice_number, issued_on, amount, method, patient_key
FROM receipts
WHERE in_period(paid_on, $date_from, $date_to)
  AND for_practitioners(practitioner_id, $practitioners)
ORDER BY paid_on, invoice_number, payment_id
"""
_MONTHS_SQL = """
SELECT period_start AS month, * EXCLUDE (period_start)
FROM receipts_by_period('month', $date_from, $date_to, practitioners := $practitioners)
ORDER BY period_start
"""


@dataclass(frozen=True)
class Export:
    """One export: the file `name` it should get, its bytes, media type and data rows."""

    name: str
    data: bytes
    media_type: str
    rows: int


# --- the period, the practitioner, the SIREN -------------------------------------------


def year_period(wh: Warehouse, year: int) -> tuple[dt.date, dt.date]:
    """1 January .. 31 December of `year`; UsageError unless the warehouse has data that year."""
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 9999:
        raise UsageError("année : quatre chiffres attendus (AAAA)")
    if wh.span is None:
        raise UsageError("aucune donnée : rien à exporter", hint=Hint.IMPORT_FIRST)
    first, last = wh.span
    if not first.year <= year <= last.year:
        raise UsageError(
            f"aucune donnée en {year} : les données vont de {first.year} à {last.year}"
        )
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _suffix(year: int, practitioner: str | None) -> str:
    """`2025`, or `2025-PR-x` for one practitioner (id reduced to safe file-name characters)."""
    if practitioner is None:
        return str(year)
    return f"{year}-{re.sub(r'[^A-Za-z0-9_-]+', '_', practitioner)}"


def check_siren(text: str) -> str:
    """The SIREN `text` (spaces allowed) as 9 digits; UsageError unless its Luhn key is right."""
    digits = re.sub(r"\s+", "", text) if isinstance(text, str) else ""
    if not re.fullmatch(r"[0-9]{9}", digits):
        raise UsageError("SIREN invalide : 9 chiffres attendus")
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    if total % 10:
        raise UsageError("SIREN invalide : la clé de contrôle (dernier chiffre) ne correspond pas")
    return digits


def siren_of(value: str | Mapping[str, str] | None, practitioner: str | None) -> str:
    """The checked SIREN the FEC is filed under, from `value`: one SIREN (the `siren`
    setting, or `--siren`), or a table practitioner_id → SIREN of a shared cabinet, where
    each practitioner is a taxpayer of their own."""
    if isinstance(value, Mapping):
        if practitioner is not None:
            if practitioner not in value:
                raise UsageError(
                    f"pas de SIREN pour le praticien « {practitioner} »", hint=Hint.GIVE_SIREN
                )
            return check_siren(value[practitioner])
        numbers = {check_siren(v) for v in value.values()}
        if len(numbers) > 1:
            raise UsageError(
                "un SIREN par praticien : le FEC est celui d'un seul contribuable",
                hint=Hint.CHOOSE_PRACTITIONER,
            )
        value = numbers.pop() if numbers else None
    if not value:
        raise UsageError("SIREN manquant : il nomme le fichier FEC", hint=Hint.GIVE_SIREN)
    return check_siren(value)


# --- cells ------------------------------------------------------------------------------


def neutralise(text: str) -> str:
    """`text` as a spreadsheet must show it: a leading apostrophe before a formula trigger."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str | Decimal) and bool(pd.isna(value)))


def _amount(value: Decimal) -> str:
    """`Decimal('-1234.5')` → `'-1234,50'`: comma decimals, no thousands separator."""
    return f"{Decimal(value):.2f}".replace(".", ",")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The frame's rows, missing values as None."""
    return [
        {str(k): None if _missing(v) else v for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def _method_label(code: str | None) -> str:
    return labels("payments", "method").get(code, code) if code else ""


# --- livre-journal ------------------------------------------------------------------------

PATIENT = "Patient (pseudonyme)"
JOURNAL_HEADER = ("Date", "N° de facture", PATIENT, "Montant", "Mode de règlement")


def journal(wh: Warehouse, year: int, practitioner: str | None = None) -> Export:
    """The livre-journal des recettes of `year` as a CSV for a French Excel.

    UTF-8 with BOM, `;` separator, CRLF, dates JJ/MM/AAAA, amounts `1234,50` (refunds
    negative). One line per receipt (date, invoice number, patient pseudonym, amount, means
    of payment), a line `Total du jour` after each day and `Total AAAA` at the end.
    """
    start, end = year_period(wh, year)
    rows = _records(metrics.livre_journal(wh, start, end, practitioners=practitioner))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(JOURNAL_HEADER)
    total = Decimal(0)
    for index, row in enumerate(rows):
        day = row["paid_on"].strftime("%d/%m/%Y")
        writer.writerow(
            (
                day,
                neutralise(row["invoice_number"] or ""),
                neutralise(row["patient_key"] or ""),
                _amount(row["amount"]),
                _method_label(row["method"]),
            )
        )
        total += row["amount"]
        if index + 1 == len(rows) or rows[index + 1]["paid_on"] != row["paid_on"]:
            writer.writerow((day, "Total du jour", "", _amount(row["day_total"]), ""))
    writer.writerow(("", f"Total {year}", "", _amount(total), ""))
    name = f"livre-journal-{_suffix(year, practitioner)}.csv"
    return Export(name, out.getvalue().encode("utf-8-sig"), CSV_MEDIA_TYPE, len(rows))


# --- FEC ------------------------------------------------------------------------------------


def fec(
    wh: Warehouse,
    year: int,
    practitioner: str | None = None,
    siren: str | Mapping[str, str] | None = None,
) -> Export:
    """The Fichier des Écritures Comptables of `year` (BNC, cash basis: 22 fields).

    `siren`: the SIREN (or a table practitioner_id → SIREN), default the warehouse's
    `siren` setting. A flat file named `<SIREN>FEC<AAAA>1231.txt`: the field names on the
    first line, tab-separated, CRLF, ISO-8859-15, dates AAAAMMJJ, amounts `1234,50`.
    """
    number = siren_of(wh.settings.get("siren") if siren is None else siren, practitioner)
    start, end = year_period(wh, year)
    frame = metrics.fec(wh, start, end, practitioners=practitioner)
    lines = ["\t".join(FEC_FIELDS)]
    for row in _records(frame[list(FEC_FIELDS)]):
        row["ModeRglt"] = _method_label(row["ModeRglt"])
        lines.append("\t".join(_fec_cell(row[field]) for field in FEC_FIELDS))
    text = "\r\n".join(lines) + "\r\n"
    name = f"{number}FEC{end:%Y%m%d}.txt"
    return Export(name, text.encode(FEC_ENCODING, errors="replace"), FEC_MEDIA_TYPE, len(frame))


def _fec_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.strftime("%Y%m%d")
    if isinstance(value, Decimal):
        return _amount(value)
    # A tab or line break inside a value would shift the columns of the flat file.
    return re.sub(r"[\t\r\n]+", " ", str(value))


# --- the Excel workbook ------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its French header, the row key, how values are written."""

    header: str
    key: str
    number_format: str | None = None  # None: text
    convert: Callable[[Any], Any] | None = None


def _euro(header: str, key: str) -> Column:
    return Column(header, key, EURO_FORMAT)


def _date(header: str, key: str) -> Column:
    return Column(header, key, DATE_FORMAT)


def _count(header: str, key: str) -> Column:
    return Column(header, key, COUNT_FORMAT)


def _text(header: str, key: str, names: Mapping[str, str] | None = None) -> Column:
    return Column(header, key, None, (lambda v: names.get(v, v)) if names else None)


@functools.cache
def sheet_layouts() -> dict[str, tuple[Column, ...]]:
    """The workbook's sheets in order: title → columns (French headers, keys, formats)."""
    methods = labels("payments", "method")
    by_method = tuple(_euro(label, code) for code, label in methods.items())
    method = _text("Mode de règlement", "method", methods)
    number, patient = _text("N° de facture", "invoice_number"), _text(PATIENT, "patient_key")
    issued, payment = _date("Date d'émission", "issued_on"), _text("N° de paiement", "payment_id")
    amount, month = _euro("Montant", "amount"), Column("Mois", "month", MONTH_FORMAT)
    return {
        "Journal": (
            *(_date("Date", "paid_on"), payment, number, patient, amount, method),
            *(_euro("Total du jour", "day_total"), _euro("Cumul", "running_total")),
        ),
        "Factures": (
            *(number, issued, amount, _text("Statut", "status", labels("invoices", "status"))),
            *(patient, _text("Praticien", "practitioner_id")),
            _text("Remplace la facture", "replaces_invoice_number"),
            _text("Annule la facture", "cancels_invoice_number"),
        ),
        "Paiements": (
            *(_date("Date d'encaissement", "paid_on"), payment, number),
            *(_date("Date de la facture", "issued_on"), amount, method, patient),
        ),
        "Numérotation": (
            *(_text("Anomalie", "anomaly", ANOMALY_LABELS), _text("Série", "prefix")),
            *(_count("Année", "year"), number, issued, _text("N° lié", "related_number")),
            _count("Numéros manquants", "missing"),
        ),
        "Rapprochement": (
            *(_text("Écart", "kind", DISCREPANCY_LABELS), number, issued),
            *(_euro("Montant dû", "amount"), _euro("Encaissé", "received")),
            _euro("Différence", "difference"),
        ),
        "Recettes par mois": (month, *by_method, _euro("Total encaissé", "amount")),
        "2035": (
            *(_count("Année", "year"), _euro("Recettes", "receipts")),
            *(
                _euro("Remboursements", "refunds"),
                _euro("Recettes nettes (ligne AA)", "net_receipts"),
            ),
            *(_count("Nombre d'encaissements", "payments"), *by_method),
        ),
        "Micro-BNC": (
            *(month, _euro("Encaissé", "received"), _euro("Cumul de l'année", "year_to_date")),
            *(_euro("Seuil", "threshold"), _euro("Reste sous le seuil", "remaining")),
            Column("Seuil dépassé", "exceeded", None, lambda v: "Oui" if v else "Non"),
        ),
    }


def workbook(wh: Warehouse, year: int, practitioner: str | None = None) -> Export:
    """The accountant's workbook of `year`: one sheet per view, French headers and formats.

    Sheets (`sheet_layouts`): Journal, Factures, Paiements, Numérotation, Rapprochement,
    Recettes par mois, 2035, Micro-BNC. Amounts are numbers formatted in euros, dates real
    dates shown JJ/MM/AAAA, the header row frozen; every text cell is neutralised
    (`neutralise`). The Journal ends with a bold total row.
    """
    from openpyxl import Workbook

    start, end = year_period(wh, year)
    params = {
        "date_from": start,
        "date_to": end,
        "practitioners": wh.practitioner_filter(practitioner),
    }

    def metric(name: str) -> pd.DataFrame:
        return metrics.METRICS[name].run(wh, **params)

    frames = {
        "Journal": metric("livre_journal"),
        "Factures": wh.query(_INVOICES_SQL, params),
        "Paiements": wh.query(_PAYMENTS_SQL, params),
        "Numérotation": metric("invoice_numbering"),
        "Rapprochement": metric("reconciliation"),
        "Recettes par mois": wh.query(_MONTHS_SQL, params),
        "2035": metric("tax_2035"),
        "Micro-BNC": metric("micro_bnc"),
    }
    book = Workbook()
    book.remove(book.active)
    journal_rows = _records(frames["Journal"])
    totals = {
        "Journal": {"payment_id": f"Total {year}", "amount": sum(r["amount"] for r in journal_rows)}
    }
    for title, columns in sheet_layouts().items():
        rows = _records(frames[title])
        write_sheet(book.create_sheet(title), columns, rows, total=totals.get(title))
    out = io.BytesIO()
    book.save(out)
    name = f"recettes-{_suffix(year, practitioner)}.xlsx"
    return Export(name, out.getvalue(), XLSX_MEDIA_TYPE, len(journal_rows))


def write_sheet(
    sheet: Worksheet,
    columns: Sequence[Column],
    rows: Iterable[Mapping[str, Any]],
    *,
    total: Mapping[str, Any] | None = None,
) -> None:
    """Header row (bold, frozen, filtered), one row per record, an optional bold total row."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    widths = [len(c.header) for c in columns]
    sheet.append([c.header for c in columns])
    for cell in sheet[1]:
        cell.font = bold
    count = 0
    for row in [*rows, *([total] if total is not None else [])]:
        count += 1
        for index, column in enumerate(columns):
            value = row.get(column.key)
            if value is not None and column.convert is not None:
                value = column.convert(value)
            width = _write(sheet.cell(row=count + 1, column=index + 1), value, column)
            widths[index] = max(widths[index], width)
    if total is not None:
        for cell in sheet[count + 1]:
            cell.font = bold
    sheet.freeze_panes = "A2"
    last = count + 1 - (total is not None)  # the filter covers the header and the records
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{last}"
    for index, width in enumerate(widths):
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(width + 2, MAX_WIDTH)


def _write(cell: Any, value: Any, column: Column) -> int:
    """Write `value` into `cell` (text neutralised, typed as a string); its shown width."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None:
        return 0
    if isinstance(value, str):
        text = neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.value = text
        cell.data_type = "s"  # never "f": openpyxl would store a leading "=" as a formula
        return len(text)
    if isinstance(value, dt.date):
        cell.value = value
        cell.number_format = column.number_format or DATE_FORMAT
        return 14 if column.number_format == MONTH_FORMAT else 10
    cell.value = value if isinstance(value, Decimal | int | float) else str(value)
    if column.number_format:
        cell.number_format = column.number_format
    return len(_amount(value)) + 3 if isinstance(value, Decimal) else len(str(value))

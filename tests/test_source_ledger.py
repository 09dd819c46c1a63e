"""Ledger adapter: hand-kept French receipts ledgers, CSV and Excel, built in each test."""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msoffcrypto.format.ooxml import OOXMLFile
from openpyxl.utils.exceptions import IllegalCharacterError

from osteo_analytics import snapshots, workspace
from osteo_analytics.errors import InputError
from osteo_analytics.ingest import import_paths
from osteo_analytics.sources import SourceBatch, ledger
from tests.conftest import PASSPHRASE, by_method, osteo
from tests.test_synthetic import ledger_reading

Rows = Sequence[Sequence[Any]]
TITLE = "Livre des recettes 2024 – Dr Marie Martin"
HEADER = ["Date", "N° facture", "Patient", "Montant", "Mode de règlement", "Observations"]
RECEIPTS = [
    ["05/01/2024", "240001", "DUPONT Jean", "55,00", "CB", "lombalgie"],
    ["05/01/2024", "240002", "Marie MARTIN", "60,00 €", "Chèque", ""],
    ["06/01/2024", "", "LEFÈVRE Zoé", "65", "Espèces", ""],
    ["07/01/2024", "240003", "DUPONT Jean", "-55,00", "CB", "avoir"],
    ["08/01/2024", "240004", "Mme DURAND Léa", "1\u00a0050,00", "Virement", ""],
    ["15 janv. 2024", "240005", "DA COSTA Alex", "(10,00 €)", "Liquide", ""],
]
# A ledger as people keep it: title, blank, header, receipts, a monthly total, a total.
LEDGER: list[list[Any]] = [
    [TITLE],
    [],
    HEADER,
    *RECEIPTS,
    ["Total janvier", "", "", "1165,00", "", ""],
    [],
    ["TOTAL", "", "", "1165,00"],
]


def write_csv(
    path: Path,
    rows: Rows,
    *,
    encoding: str = "cp1252",
    delimiter: str = ";",
    newline: str = "\r\n",
) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=newline).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, sheets: dict[str, Rows], merge_title: bool = True) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
        if merge_title and rows and len(rows[0]) == 1 and isinstance(rows[0][0], str):
            sheet.merge_cells("A1:F1")
    book.save(path)
    return path


def encrypt(path: Path, password: str) -> Path:
    with path.open("rb") as plain:
        out = io.BytesIO()
        OOXMLFile(plain).encrypt(password, out)
    path.write_bytes(out.getvalue())
    return path


def read(*paths: Path, password: Callable[[Path], str] | None = None) -> SourceBatch:
    batch = ledger.read(list(paths), password=password)
    batch.assert_valid()  # schemas, and rows read = accepted + quarantined + dup + excluded
    return batch


def column(batch: SourceBatch, table: str, name: str) -> list[Any]:
    return list(batch.tables()[table].column(name).to_pylist())


def columns(batch: SourceBatch, table: str, names: str) -> list[tuple[Any, ...]]:
    """Each row's values of the columns `names` (separated by spaces) of `table`."""
    values = [column(batch, table, name) for name in names.split()]
    return list(zip(*values, strict=True))


def keyed(batch: SourceBatch, table: str, names: str) -> dict[Any, Any]:
    """`table` as {first of `names`: the next one, or a tuple of the next ones}."""
    rows = columns(batch, table, names)
    return {row[0]: row[1] if len(row) == 2 else row[1:] for row in rows}


def assert_reference_ledger(batch: SourceBatch) -> None:
    """What the LEDGER rows must give, whatever the file's encoding or layout."""
    (report,) = batch.files
    assert (report.rows_read, report.accepted, report.excluded) == (11, 6, 5)
    assert report.reasons == {"title_row": 1, "blank_row": 2, "subtotal_row": 1, "total_row": 1}
    assert batch.rejected == []
    assert set(columns(batch, "patients", "family_name first_name")) == {
        ("DUPONT", "Jean"),
        ("MARTIN", "Marie"),
        ("LEFÈVRE", "Zoé"),
        ("DURAND", "Léa"),
        ("DA COSTA", "Alex"),
    }
    assert column(batch, "patients", "sex").count("F") == 1
    invoices = keyed(batch, "invoices", "invoice_number status amount cancels_invoice_number")
    assert invoices == {
        "240001": ("cancelled", Decimal("55.00"), None),
        "240002": ("paid", Decimal("60.00"), None),
        "L-20240106-#1": ("paid", Decimal("65.00"), None),
        "240003": ("credit_note", Decimal("-55.00"), "240001"),
        "240004": ("paid", Decimal("1050.00"), None),
        "240005": ("credit_note", Decimal("-10.00"), None),
    }
    assert keyed(batch, "payments", "payment_id method") == {
        "240001/1": "cb",
        "240002/1": "cheque",
        "L-20240106-#1/1": "especes",
        "240003/1": "cb",
        "240004/1": "virement",
        "240005/1": "especes",
    }
    assert sum(column(batch, "payments", "amount")) == Decimal("1165.00")
    assert column(batch, "consultations", "consulted_on") == [
        date(2024, 1, 5),
        date(2024, 1, 5),
        date(2024, 1, 6),
        date(2024, 1, 8),
    ]
    assert set(column(batch, "consultations", "status")) == {"done"}
    assert column(batch, "practitioners", "display_name") == ["Marie Martin"]
    # CSV source_row: record number, header = row 3 here (title and blank above it)
    assert column(batch, "invoices", "source_row") == [4, 5, 6, 7, 8, 9]


# --- CSV variants ----------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8", "utf-8-sig", "utf-16"])
@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_csv_in_every_encoding_separator_and_line_ending(
    tmp_path: Path, encoding: str, delimiter: str, newline: str
) -> None:
    path = write_csv(
        tmp_path / "recettes.csv", LEDGER, encoding=encoding, delimiter=delimiter, newline=newline
    )
    assert ledger.detect(path)
    assert_reference_ledger(read(path))


@pytest.mark.parametrize(
    "header",
    [
        ["Date de séance", "Facture", "Nom Prénom", "Montant TTC", "Règlement", "Remarques"],
        ["Date d'encaissement", "N°", "Patient", "Honoraires", "Mode de paiement", "Motif"],
        ["DATE", "N° FACTURE", "PATIENT(E)", "RECETTE (€)", "PAIEMENT", "OBSERVATIONS"],
    ],
)
def test_usual_french_headers_need_no_mapping(tmp_path: Path, header: list[str]) -> None:
    rows = [[TITLE], [], header, *RECEIPTS, ["Total janvier"], [], ["TOTAL", "", "", "1165"]]
    assert_reference_ledger(read(write_csv(tmp_path / "r.csv", rows)))


def test_separate_name_columns_practitioner_and_act(tmp_path: Path) -> None:
    rows = [
        ["Date", "Nom", "Prénom", "Montant", "Paiement", "Praticien", "Acte"],
        ["02/01/2024", "Dupont", "Jean", "55", "CB", "Marie Martin", "Première consultation"],
        ["02/01/2024", "Mme Durand", "Léa", "55", "chq", "Paul Petit", "Urgence"],
        ["03/01/2024", "DUPONT", "jean", "50", "esp", "Marie Martin", "Suivi"],
        ["04/01/2024", "Morel", "", "70", "", "Marie Martin", "À domicile"],
        ["05/01/2024", "Morel", "", "45", "ANCV", "", "Séance"],
    ]
    batch = read(write_csv(tmp_path / "r.csv", rows, encoding="utf-8"))
    assert column(batch, "patients", "family_name") == ["Dupont", "Durand", "Morel"]
    assert column(batch, "patients", "sex") == [None, "F", None]
    assert column(batch, "consultations", "consultation_type") == [
        "first",
        "urgent",
        "follow_up",
        "home",
        "other",
    ]
    assert column(batch, "payments", "method") == ["cb", "cheque", "especes", "autre", "autre"]
    assert keyed(batch, "practitioners", "display_name role") == {
        "Marie Martin": "titular",
        "Paul Petit": "associate",
        "Praticien du cabinet": "associate",
    }
    assert column(batch, "invoices", "invoice_number")[:3] == [
        "L-20240102-#1",
        "L-20240102-#2",
        "L-20240103-#3",
    ]


def test_bad_rows_are_quarantined_with_their_rule(tmp_path: Path) -> None:
    rows = [
        HEADER,
        ["32/01/2024", "1", "DUPONT Jean", "55", "CB"],
        ["02/01/2024", "2", "DUPONT Jean", "cinquante", "CB"],
        ["02/01/2024", "3", "", "55", "CB"],
        ["02/01/2024", "4", "1234", "55", "CB"],
        ["02/01/2024", "5", "MARTIN Marie", "", "CB"],
        ["", "6", "MARTIN Marie", "55", "CB"],  # no date above it yet
        ["02/01/2024", "7", "MARTIN Marie", "55", "CB"],
        ["", "8", "PETIT Paul", "55", "CB"],  # the day is written once: 02/01
        ["03/01/2024", "7", "DUPONT Jean", "55", "CB"],  # number of another patient
        ["02/01/2024", "9", "X" * 500, "55", "CB"],
    ]
    batch = read(write_csv(tmp_path / "r.csv", rows))
    rules = {(r.source_row, r.rule) for r in batch.rejected}
    assert rules == {
        (2, "bad_date"),
        (3, "bad_amount"),
        (4, "missing_patient"),
        (5, "missing_patient"),
        (6, "missing_amount"),
        (7, "missing_date"),
        (10, "invoice_number_conflict"),
        (11, "bad_patient"),
    }
    assert all(r.source_file == "r.csv" for r in batch.rejected)
    (report,) = batch.files
    assert (report.accepted, report.quarantined) == (2, 8)
    assert column(batch, "invoices", "issued_on") == [date(2024, 1, 2)] * 2


def test_instalments_refunds_and_duplicates(tmp_path: Path) -> None:
    rows = [
        HEADER,
        ["02/01/2024", "100", "DUPONT Jean", "30", "CB"],
        ["02/01/2024", "100", "DUPONT Jean", "30", "CB"],  # typed twice: a duplicate
        ["02/01/2024", "101", "MARTIN Marie", "60", "CB"],
        ["02/01/2024", "102", "MARTIN Marie", "0", ""],  # free session, same visit
        ["20/02/2024", "100", "DUPONT Jean", "25", "Chèque"],  # second instalment
        ["03/01/2024", "101", "MARTIN Marie", "-60", "CB"],  # refunded in full
        ["03/01/2024", "", "PETIT Paul", "-20", "Esp"],  # a credit note on its own
    ]
    first = write_csv(tmp_path / "a.csv", rows)
    copy = shutil.copy(first, tmp_path / "b.csv")  # the same ledger given twice
    batch = read(first, Path(copy))
    a, b = batch.files
    assert (a.accepted, a.duplicates, b.duplicates) == (6, 1, 7)
    invoices = {
        n: (s, str(a)) for n, s, a in columns(batch, "invoices", "invoice_number status amount")
    }
    assert invoices == {
        "100": ("paid", "55.00"),
        "101": ("cancelled", "60.00"),
        "102": ("paid", "0.00"),
        "L-20240103-#1": ("credit_note", "-20.00"),
    }
    assert column(batch, "payments", "payment_id") == [
        "100/1",
        "100/2",
        "101/1",
        "101/2",
        "L-20240103-#1/1",
    ]
    assert len(column(batch, "consultations", "consultation_ref")) == 2  # Jean and Marie, 02/01
    refs = column(batch, "invoices", "consultation_ref")
    assert refs[1] == refs[2] and refs[3] is None


# --- workbooks -------------------------------------------------------------------------


def month_workbook(path: Path) -> Path:
    """One sheet per month, named three ways; merged title; totals with formulas."""
    return write_xlsx(
        path,
        {
            "Janvier 2024": [
                [TITLE],
                [],
                HEADER[:5],
                [date(2024, 1, 5), 240001, "DUPONT Jean", 55, "CB"],
                [datetime(2024, 1, 5, 10, 30), 240002, "MARTIN Marie", 60.5, "Carte bancaire"],
                [45299, "240003", '=HYPERLINK("x","y")', 55, "CB"],  # no cached value
                [45300, "240004", "PETIT Paul", "-55,00 €", "CB"],
                ["Total janvier", None, None, "=SUM(D4:D7)"],
            ],
            "févr. 24": [
                HEADER[:5],
                ["Report", None, None, 115.5],
                ["15/02/2024", 240005, "Jean DUPONT", 70, "Vir"],
                ["16 févr.", 240006, "Dupont, Jean", 70, "VRT"],
                [None, None, None, 140],  # an unlabelled total: the sum so far
            ],
            "03-2024": [HEADER[:5], [date(2024, 3, 1), 240007, "PETIT Paul", 45, "CB"]],
            "Feuil4": [],
            "Notes": [["Penser à déclarer la 2035"]],
        },
    )


def test_a_workbook_with_one_sheet_per_month(tmp_path: Path) -> None:
    path = month_workbook(tmp_path / "recettes.xlsx")
    assert ledger.detect(path)
    batch = read(path)
    reports = {r.path.name: r for r in batch.files}
    assert set(reports) == {
        "recettes.xlsx#Janvier 2024",
        "recettes.xlsx#févr. 24",
        "recettes.xlsx#03-2024",
        "recettes.xlsx#Notes",
    }
    jan = reports["recettes.xlsx#Janvier 2024"]
    assert jan.reasons == {"title_row": 1, "blank_row": 1, "subtotal_row": 1, "missing_patient": 1}
    assert (jan.rows_read, jan.accepted) == (7, 3)
    feb = reports["recettes.xlsx#févr. 24"]
    assert feb.reasons == {"running_total_row": 1, "total_row": 1}
    assert reports["recettes.xlsx#Notes"].reasons == {"sheet_without_header": 1}
    (bad,) = batch.rejected
    assert (bad.source_file, bad.source_row, bad.column) == (
        "recettes.xlsx#Janvier 2024",
        6,
        "Patient",
    )
    assert column(batch, "invoices", "source_row") == [4, 5, 7, 3, 4, 2]
    assert column(batch, "invoices", "issued_on") == [
        date(2024, 1, 5),
        date(2024, 1, 5),
        date(2024, 1, 9),  # serial 45300
        date(2024, 2, 15),
        date(2024, 2, 16),  # year from the sheet name
        date(2024, 3, 1),
    ]
    assert column(batch, "invoices", "amount")[1] == Decimal("60.50")
    assert column(batch, "practitioners", "display_name") == ["Marie Martin"]
    assert len(column(batch, "patients", "family_name")) == 3  # three spellings of Dupont


def test_a_single_sheet_workbook_is_labelled_by_its_file_name(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "livre.xlsx", {"2024": LEDGER})
    batch = read(path)
    assert {r.path.name for r in batch.files} == {"livre.xlsx"}
    assert set(column(batch, "invoices", "source_file")) == {"livre.xlsx"}
    assert batch.files[0].accepted == 6


def test_a_csv_named_xlsx_and_a_workbook_named_csv(tmp_path: Path) -> None:
    assert_reference_ledger(read(write_csv(tmp_path / "faux.xlsx", LEDGER)))
    real = write_xlsx(tmp_path / "book.xlsx", {"Recettes": LEDGER})
    renamed = real.rename(tmp_path / "book.csv")
    assert ledger.detect(renamed)
    assert read(renamed).files[0].accepted == 6


def test_a_password_protected_workbook_is_decrypted_in_memory(tmp_path: Path) -> None:
    path = encrypt(month_workbook(tmp_path / "secret.xlsx"), "s3cret mot")
    asked: list[Path] = []

    def password(p: Path) -> str:
        asked.append(p)
        return "s3cret mot"

    assert ledger.detect(path)  # cannot see the header, but only ledgers are encrypted
    batch = read(path, password=password)
    assert asked == [path]
    assert len(column(batch, "invoices", "invoice_number")) == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.xlsx"]  # nothing written


@pytest.mark.parametrize("password", [lambda p: "wrong", None])
def test_a_wrong_or_missing_excel_password_is_one_line(
    tmp_path: Path, password: Callable[[Path], str] | None
) -> None:
    path = encrypt(write_xlsx(tmp_path / "secret.xlsx", {"2024": LEDGER}), "right")
    with pytest.raises(InputError) as err:
        ledger.read([path], password=password)
    message = str(err.value)
    assert message.startswith("secret.xlsx : ") and "\n" not in message
    assert "mot de passe" in message and "right" not in message


@pytest.mark.parametrize(
    ("content", "name", "words"),
    [
        (b"", "vide.csv", "fichier vide"),
        (b"\r\n\r\n", "blancs.csv", "fichier vide"),
        (b"\x00\x01\x02binary\xff" * 50, "junk.csv", "contenu binaire"),
        (b"PK\x03\x04 not really a zip", "broken.xlsx", "endommagé"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "old.xls", "endommagé"),
        ("nom;prénom;né le\r\nDUPONT;Jean;01/01/1980\r\n".encode(), "patients.csv", "en-tête"),
        (b'a,b\r\n"unterminated' + b"x" * 200_000, "huge.csv", "en-tête"),
    ],
)
def test_unreadable_files_are_one_line_input_errors(
    tmp_path: Path, content: bytes, name: str, words: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert not ledger.detect(path)
    with pytest.raises(InputError) as err:
        ledger.read([path])
    assert str(err.value).startswith(f"{name} : ") and words in str(err.value)


def test_a_field_beyond_the_csv_limit_is_one_line_and_controls_are_dropped(
    tmp_path: Path,
) -> None:
    head = "Date;N° facture;Patient;Montant;Mode\r\n05/01/2024;1;DU\x1fPONT Jean;55;CB\r\n"
    path = tmp_path / "r.csv"
    path.write_text(head, encoding="utf-8")
    assert column(read(path), "patients", "family_name") == ["DUPONT"]
    path.write_text(head + "06/01/2024;2;" + "X" * 200_000 + ";55;CB\r\n", encoding="utf-8")
    assert ledger.detect(path)
    with pytest.raises(
        InputError, match=r"^r\.csv : CSV mal formé vers l'enregistrement 3 \(champ trop long"
    ):
        ledger.read([path])


def test_detect_folders_and_foreign_files(tmp_path: Path) -> None:
    folder = tmp_path / "compta"
    folder.mkdir()
    assert not ledger.detect(folder)
    (folder / "notes.txt").write_text("rien à voir", encoding="utf-8")
    assert not ledger.detect(folder) and not ledger.detect(tmp_path / "absent.csv")
    write_csv(folder / "recettes.csv", LEDGER)
    assert ledger.detect(folder)
    assert_reference_ledger(read(folder))  # notes.txt is skipped, not an error


def test_libreosteo_exports_are_not_ledgers(libreosteo_sample: Path) -> None:
    """They hold a date, an amount and names, among dozens of columns no ledger has."""
    for path in sorted(libreosteo_sample.iterdir()):
        assert not ledger.detect(path), path.name
    assert not ledger.detect(libreosteo_sample)


# --- one amount column per payment method ----------------------------------------------

# The livre de recettes of a practitioner who sorts each receipt by means of payment:
# Date | Patient | Chèque | Espèces | CB | Virement | Total, as (file row, cells).
METHODS_HEADER = ["Date", "Patient", "Chèque", "Espèces", "CB", "Virement", "Total"]
METHODS_TITLE = "Livre de recettes 2024 – Dr Marie Martin"
BY_METHOD: list[list[Any]] = [
    [METHODS_TITLE],  # 1
    [],  # 2
    METHODS_HEADER,  # 3
    ["02/01/2024", "DUPONT Jean", "", "", "55,00", "", "55,00"],  # 4: one method
    ["02/01/2024", "MARTIN Marie", "30,00", "30,00", "", "", "60,00"],  # 5: split in two
    ["", "LEFÈVRE Zoé", "", "20", "25", "20", "65"],  # 6: day written once, split in three
    ["03/01/2024", "PETIT Paul", "", "", "", "70", ""],  # 7: no Total typed: nothing to check
    ["03/01/2024", "DURAND Léa", "50,00", "", "10,00", "", "55,00"],  # 8: 60 is not 55
    ["04/01/2024", "MOREL Luc", "", "", "", "", ""],  # 9: no amount at all
    ["04/01/2024", "ROUX Ana", "", "", "0", "", "0"],  # 10: a free session
    ["Total du mois de janvier", "", "30,00", "50,00", "80,00", "90,00", "250,00"],  # 11
    [],  # 12
    ["05/02/2024", "BLANC Eve", "45", "", "", "", "45"],  # 13
    ["06/02/2024", "NOIR Léo", "20", "", "40", "", "60"],  # 14: CB comes first in its ids
    ["06/02/2024", "GRIS Ugo", "", "", "cinquante", "", ""],  # 15
    ["", "", "", "", "", "", "105"],  # 16: an unlabelled total of February
]
BY_METHOD_INVOICES = {
    "L-20240102-#1": Decimal("55.00"),
    "L-20240102-#2": Decimal("60.00"),
    "L-20240102-#3": Decimal("65.00"),
    "L-20240103-#4": Decimal("70.00"),
    "L-20240104-#5": Decimal("0.00"),
    "L-20240205-#6": Decimal("45.00"),
    "L-20240206-#7": Decimal("60.00"),
}
# payment id → (method, amount): one payment per filled method column, in the order
# cb, cheque, especes, virement whatever the order of the columns
BY_METHOD_PAYMENTS = {
    "L-20240102-#1/1": ("cb", Decimal("55.00")),
    "L-20240102-#2/1": ("cheque", Decimal("30.00")),
    "L-20240102-#2/2": ("especes", Decimal("30.00")),
    "L-20240102-#3/1": ("cb", Decimal("25.00")),
    "L-20240102-#3/2": ("especes", Decimal("20.00")),
    "L-20240102-#3/3": ("virement", Decimal("20.00")),
    "L-20240103-#4/1": ("virement", Decimal("70.00")),
    "L-20240205-#6/1": ("cheque", Decimal("45.00")),
    "L-20240206-#7/1": ("cb", Decimal("40.00")),
    "L-20240206-#7/2": ("cheque", Decimal("20.00")),
}


def by_method_xlsx(path: Path) -> Path:
    """BY_METHOD as Excel keeps it: real dates and numbers, SUM formulas in the subtotal."""
    rows: list[list[Any]] = []
    for cells in BY_METHOD:
        if len(cells) != 7 or cells is METHODS_HEADER:
            rows.append(cells)
            continue
        day = datetime.strptime(cells[0], "%d/%m/%Y").date() if cells[0][:1].isdigit() else None
        label = cells[0] if day is None and cells[0] else day
        money = [float(c.replace(",", ".")) if c[:1].isdigit() else (c or None) for c in cells[2:]]
        rows.append([label, cells[1] or None, *money])
    rows[10][2:] = [f"=SUM({c}4:{c}10)" for c in "CDEFG"]  # no cached value: its label says
    sheet = {"Recettes 2024": rows}
    return write_xlsx(path, sheet, merge_title=False)


# The same ledger as a CSV with other labels, another column order and '-' for nothing.
CSV_METHODS_HEADER = ["Date", "Nom Prénom", "Carte bancaire", "Chq", "Liquide", "Vir.", "TOTAL €"]
_CSV_ORDER = [0, 1, 4, 2, 3, 5, 6]  # BY_METHOD's columns in CSV_METHODS_HEADER's order


def by_method_csv(path: Path) -> Path:
    rows: list[list[Any]] = []
    for n, cells in enumerate(BY_METHOD, start=1):
        if cells is METHODS_HEADER:
            rows.append(CSV_METHODS_HEADER)
        elif len(cells) == 7:
            moved = [cells[i] for i in _CSV_ORDER]
            if n in (4, 5, 13, 14):
                moved[2:6] = [c or "-" for c in moved[2:6]]
            rows.append(moved)
        else:
            rows.append(cells)
    return write_csv(path, rows)


def payments_of(batch: SourceBatch) -> dict[str, tuple[str, Decimal]]:
    return keyed(batch, "payments", "payment_id method amount")


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_a_ledger_with_one_amount_column_per_method(tmp_path: Path, kind: str) -> None:
    if kind == "xlsx":
        path = by_method_xlsx(tmp_path / "recettes.xlsx")
        columns = "Chèque / Espèces / CB / Virement"
    else:
        path = by_method_csv(tmp_path / "recettes.csv")
        columns = "Carte bancaire / Chq / Liquide / Vir."
    assert ledger.detect(path)
    batch = read(path)
    (report,) = batch.files
    # nothing lost: 15 rows below... and above the header, every one accounted for
    assert (report.rows_read, report.accepted, report.quarantined, report.excluded) == (
        15,
        7,
        3,
        5,
    )
    assert report.reasons == {
        "title_row": 1,
        "blank_row": 2,
        "subtotal_row": 1,
        "total_row": 1,
        "total_mismatch": 1,
        "missing_amount": 1,
        "bad_amount": 1,
    }
    total = "TOTAL €" if kind == "csv" else "Total"
    rejected = {(r.source_row, r.column, r.rule) for r in batch.rejected}
    assert rejected == {
        (8, total, "total_mismatch"),
        (9, columns, "missing_amount"),
        (15, "Carte bancaire" if kind == "csv" else "CB", "bad_amount"),
    }
    assert (
        keyed(batch, "invoices", "invoice_number amount") == BY_METHOD_INVOICES
    )  # a split row is one invoice of the sum
    assert set(column(batch, "invoices", "status")) == {"paid"}
    assert payments_of(batch) == BY_METHOD_PAYMENTS
    # each payment points at the row it comes from
    by_row = Counter(column(batch, "payments", "source_row"))
    assert by_row == {4: 1, 5: 2, 6: 3, 7: 1, 13: 1, 14: 2}
    assert len(column(batch, "consultations", "consultation_ref")) == 7
    assert column(batch, "practitioners", "display_name") == ["Marie Martin"]


def test_by_method_payments_sum_per_method_and_ids_are_stable(tmp_path: Path) -> None:
    """Workbook and CSV (other order, other labels) give the same payments, ids included."""
    xlsx = read(by_method_xlsx(tmp_path / "a.xlsx"))
    csv_batch = read(by_method_csv(tmp_path / "b.csv"))
    assert payments_of(xlsx) == payments_of(csv_batch)
    by_method: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for paid_on, method, amount in columns(xlsx, "payments", "paid_on method amount"):
        by_method[(f"{paid_on:%Y-%m}", method)] += amount
    assert dict(by_method) == {
        ("2024-01", "cb"): Decimal("80.00"),
        ("2024-01", "cheque"): Decimal("30.00"),
        ("2024-01", "especes"): Decimal("50.00"),
        ("2024-01", "virement"): Decimal("90.00"),
        ("2024-02", "cb"): Decimal("40.00"),
        ("2024-02", "cheque"): Decimal("65.00"),
    }
    # the workbook and its CSV copy in one import: every CSV receipt is a duplicate
    both = read(tmp_path / "a.xlsx", tmp_path / "b.csv")
    assert [r.duplicates for r in both.files] == [0, 7]
    assert payments_of(both) == BY_METHOD_PAYMENTS


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        (
            ["Date", "Patient", "Cheque", "Especes", "Carte", "Virement", "Total"],
            ["02/01/2024", "DUPONT Jean", "30", "25", "", "", "55"],
            {"cheque": "30.00", "especes": "25.00"},
        ),
        (
            ["DATE", "PATIENT", "CHQ", "LIQUIDE", "CB", "VIR.", "TOTAL"],
            ["02/01/2024", "DUPONT Jean", "", "", "30", "25", "55"],
            {"cb": "30.00", "virement": "25.00"},
        ),
        (  # no Total column: nothing to check
            ["Date de séance", "Nom et prénom", "Chèques", "Espèces (€)", "Carte bleue", "Vir"],
            ["02/01/2024", "DUPONT Jean", "", "25", "30", ""],
            {"cb": "30.00", "especes": "25.00"},
        ),
        (  # an amount column stands for the Total
            ["Date", "N° facture", "Patient", "Chèque", "Espèces", "CB", "Virement", "Montant"],
            ["02/01/2024", "F-1", "DUPONT Jean", "30", "", "", "25", "55"],
            {"cheque": "30.00", "virement": "25.00"},
        ),
        (
            ["Date", "Nom", "Prénom", "Chèque", "CB", "Autre", "Total", "Observations"],
            ["02/01/2024", "DUPONT", "Jean", "", "30", "25", "55", "chèques-vacances"],
            {"cb": "30.00", "autre": "25.00"},
        ),
    ],
)
def test_method_column_labels_as_people_write_them(
    tmp_path: Path, header: list[str], row: list[str], expected: dict[str, str]
) -> None:
    rows = [["Recettes 2024"], [], header, row, ["Total janvier", *[""] * (len(header) - 1)]]
    path = write_csv(tmp_path / "r.csv", rows)
    assert ledger.detect(path)
    batch = read(path)
    assert batch.rejected == []
    assert batch.files[0].reasons == {"title_row": 1, "blank_row": 1, "subtotal_row": 1}
    assert column(batch, "invoices", "amount") == [Decimal("55.00")]
    assert column(batch, "patients", "family_name") == ["DUPONT"]
    assert {m: str(a) for m, a in columns(batch, "payments", "method amount")} == expected


def test_a_cheque_column_beside_a_payment_mode_is_not_an_amount(tmp_path: Path) -> None:
    """One method-named column next to 'Mode de règlement' holds cheque numbers, not euros."""
    rows = [
        ["Date", "Patient", "Montant", "Mode de règlement", "Chèque"],
        ["02/01/2024", "DUPONT Jean", "55", "Chèque", "1234567"],
        ["02/01/2024", "MARTIN Marie", "60", "CB", ""],
    ]
    batch = read(write_csv(tmp_path / "r.csv", rows))
    assert batch.rejected == []
    assert payments_of(batch) == {
        "L-20240102-#1/1": ("cheque", Decimal("55.00")),
        "L-20240102-#2/1": ("cb", Decimal("60.00")),
    }


def test_a_wrong_total_is_quarantined_never_corrected(tmp_path: Path) -> None:
    rows = [
        METHODS_HEADER,
        ["02/01/2024", "DUPONT Jean", "30", "", "20", "", "55"],  # 50 ≠ 55
        ["02/01/2024", "MARTIN Marie", "", "", "", "", "55"],  # a Total, no method
        ["02/01/2024", "PETIT Paul", "", "", "-", "", "—"],  # dashes only: nothing paid
        ["02/01/2024", "LEROY Ana", "", "55", "", "", "55,00 €"],
        ["02/01/2024", "ROUX Léo", "", "", "abc", "", "55"],
        ["02/01/2024", "BLANC Eve", "20", "", "35", "", "x"],
    ]
    batch = read(write_csv(tmp_path / "r.csv", rows))
    assert {(r.source_row, r.column, r.rule) for r in batch.rejected} == {
        (2, "Total", "total_mismatch"),
        (3, "Total", "total_mismatch"),
        (6, "CB", "bad_amount"),
        (7, "Total", "bad_amount"),
    }
    assert column(batch, "invoices", "amount") == [Decimal("0.00"), Decimal("55.00")]
    assert payments_of(batch) == {"L-20240102-#2/1": ("especes", Decimal("55.00"))}
    (report,) = batch.files
    assert (report.rows_read, report.accepted, report.quarantined) == (6, 2, 4)


def test_split_rows_share_an_invoice_number_with_instalments(tmp_path: Path) -> None:
    """A number repeated on later rows: the split row and the balance are one invoice."""
    rows = [
        ["Date", "N° facture", "Patient", "Chèque", "Espèces", "CB", "Total"],
        ["02/01/2024", "F-12", "DUPONT Jean", "20", "10", "", "30"],
        ["20/01/2024", "F-12", "DUPONT Jean", "", "", "30", "30"],
        ["21/01/2024", "F-13", "MARTIN Marie", "", "", "-60", "-60"],  # a refund
    ]
    batch = read(write_csv(tmp_path / "r.csv", rows))
    assert batch.rejected == []
    assert keyed(batch, "invoices", "invoice_number status amount") == {
        "F-12": ("paid", Decimal("60.00")),
        "F-13": ("credit_note", Decimal("-60.00")),
    }
    assert payments_of(batch) == {
        "F-12/1": ("cheque", Decimal("20.00")),
        "F-12/2": ("especes", Decimal("10.00")),
        "F-12/3": ("cb", Decimal("30.00")),
        "F-13/1": ("cb", Decimal("-60.00")),
    }
    assert column(batch, "consultations", "consulted_on") == [date(2024, 1, 2)]


# --- fuzzing ---------------------------------------------------------------------------

_CELL = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["=SUM(D2:D9)", '=HYPERLINK("http://x";"y")', "Total", "Sous-total", "€"]),
    st.sampled_from(["15/03/2024", "15 mars 2024", "(55,00)", "1\u202f234,50 €", "CB", "Chq"]),
    st.text(min_size=1, max_size=1).map(lambda c: c * 3000),
)
_ROW = st.lists(_CELL, max_size=8)


def _fuzzed_csv(rows: list[list[str]], encoding: str, delimiter: str) -> bytes:
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter).writerows([HEADER, *rows])
    return text.getvalue().encode(encoding, errors="replace")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(_ROW, max_size=12),
    encoding=st.sampled_from(["utf-8", "cp1252", "utf-16", "latin-1"]),
    delimiter=st.sampled_from([";", ",", "\t"]),
    junk=st.binary(max_size=64),
    cut=st.integers(min_value=0, max_value=4000),
    suffix=st.sampled_from([".csv", ".xlsx", ".txt"]),
)
def test_fuzzed_csv_never_raises_anything_but_input_error(
    rows: list[list[str]], encoding: str, delimiter: str, junk: bytes, cut: int, suffix: str
) -> None:
    data = _fuzzed_csv(rows, encoding, delimiter)
    data = data[: max(cut, len(data) // 2)] + junk  # truncated, then garbage
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"fuzz{suffix}"
        path.write_bytes(data)
        ledger.detect(path)
        try:
            read(path)
        except InputError as exc:
            assert "\n" not in str(exc)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.lists(
            st.one_of(
                _CELL,
                st.floats(allow_nan=False, allow_infinity=False),
                st.integers(-(10**12), 10**12),
                st.dates(),
                st.none(),
            ),
            max_size=7,
        ),
        max_size=10,
    ),
    password=st.booleans(),
)
def test_fuzzed_workbooks_never_raise_anything_but_input_error(
    rows: list[list[Any]], password: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.xlsx"
        try:
            write_xlsx(path, {"Janvier 2024": [HEADER, *rows]}, merge_title=False)
        except IllegalCharacterError:  # openpyxl refuses control characters: not our input
            return
        if password:
            encrypt(path, "pw")
        try:
            read(path, password=lambda p: "pw")
        except InputError as exc:
            assert "\n" not in str(exc)


_MONEY = st.one_of(
    st.sampled_from(["", "", "", "0", "-", "55", "30,00", "-20", "1 234,50 €", "abc", "—"]),
    st.decimals(min_value=-500, max_value=500, places=2).map(lambda d: str(d).replace(".", ",")),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["02/01/2024", "", "Total janvier", "x"]),
            st.sampled_from(["DUPONT Jean", "MARTIN Marie", "", "Sous-total"]),
            st.lists(_MONEY, min_size=5, max_size=5),
        ),
        max_size=12,
    )
)
def test_fuzzed_method_columns_balance_and_add_up(
    rows: list[tuple[str, str, list[str]]],
) -> None:
    """Whatever the cells: every row is accounted for, and a receipt is its payments."""
    with tempfile.TemporaryDirectory() as tmp:
        lines = [METHODS_HEADER, *([d, p, *money] for d, p, money in rows)]
        batch = read(write_csv(Path(tmp) / "r.csv", lines))  # balanced, or it raises
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for number, amount in columns(batch, "payments", "invoice_number amount"):
        paid[number] += amount
    for number, amount, status in columns(batch, "invoices", "invoice_number amount status"):
        if status != "cancelled":
            assert paid.get(number, Decimal(0)) == amount, number
    assert set(column(batch, "payments", "method")) <= {"cb", "cheque", "especes", "virement"}
    assert 0 not in column(batch, "payments", "amount")


# --- the synthetic practice, through the real pipeline ----------------------------------


@pytest.fixture(scope="module")
def synthetic_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from osteo_analytics.synthetic import synthesize

    # Not the session practice (one year): these tests need two workbooks and a year boundary.
    out = tmp_path_factory.mktemp("synth") / "out"
    synthesize(out, seed=11, years=2, practitioners=2, patients=250, formats=["ledger"])
    return out / "ledger"


@pytest.fixture(scope="module")
def imported_ledger(
    synthetic_ledger: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Both the workbooks and their CSV twins imported at once: the twins are duplicates."""
    ws = tmp_path_factory.mktemp("ledger-ws") / "ws"
    unlocked = workspace.init_workspace(ws, PASSPHRASE, work_factor=10).unlocked
    result = import_paths(unlocked, [synthetic_ledger], fmt="ledger")
    tables = snapshots.read_snapshot(unlocked.workspace.snapshots_dir, unlocked.identities)
    return {"result": result, "figures": _figures(tables)}


def _figures(tables: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Headline figures per month, by plain DuckDB sums over the snapshot tables."""
    con = duckdb.connect()
    for name, table in tables.items():
        con.register(name, table)
    sql = {
        "consultations_done": "SELECT strftime(consulted_on, '%Y-%m'), count(*) FROM"
        " consultations WHERE status = 'done' GROUP BY 1",
        "active_patients": "SELECT strftime(consulted_on, '%Y-%m'), count(DISTINCT"
        " patient_key) FROM consultations WHERE status = 'done' GROUP BY 1",
        "new_patients": "SELECT strftime(f, '%Y-%m'), count(*) FROM (SELECT min(consulted_on)"
        " AS f FROM consultations WHERE status = 'done' GROUP BY patient_key) GROUP BY 1",
        "revenue_invoiced": "SELECT strftime(issued_on, '%Y-%m'), sum(amount) FROM invoices"
        " WHERE status NOT IN ('cancelled', 'credit_note') GROUP BY 1",
        "revenue_received": "SELECT strftime(paid_on, '%Y-%m'), sum(amount) FROM payments"
        " GROUP BY 1",
        "consultations_cancelled": "SELECT strftime(consulted_on, '%Y-%m'), count(*) FROM"
        " consultations WHERE status = 'cancelled' GROUP BY 1",
        "consultations_no_show": "SELECT strftime(consulted_on, '%Y-%m'), count(*) FROM"
        " consultations WHERE status = 'no_show' GROUP BY 1",
        "unpaid_invoices": "SELECT strftime(issued_on, '%Y-%m'), count(*) FROM invoices i"
        " LEFT JOIN (SELECT invoice_number, sum(amount) AS paid FROM payments GROUP BY 1) p"
        " USING (invoice_number) WHERE status NOT IN ('cancelled', 'credit_note')"
        " AND i.amount > coalesce(p.paid, 0) GROUP BY 1",
        "unpaid_amount": "SELECT strftime(issued_on, '%Y-%m'), sum(i.amount - coalesce(p.paid, 0))"
        " FROM invoices i LEFT JOIN (SELECT invoice_number, sum(amount) AS paid FROM payments"
        " GROUP BY 1) p USING (invoice_number) WHERE status NOT IN ('cancelled', 'credit_note')"
        " AND i.amount > coalesce(p.paid, 0) GROUP BY 1",
    }
    figures: dict[str, dict[str, Any]] = {
        k: dict(con.execute(q).fetchall()) for k, q in sql.items()
    }
    by_method: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for month, method, amount in con.execute(
        "SELECT strftime(paid_on, '%Y-%m'), method, sum(amount) FROM payments GROUP BY 1, 2"
    ).fetchall():
        by_method[month][method] = amount
    figures["received_by_method"] = dict(by_method)
    figures["distinct_patients"] = {"": con.execute("SELECT count(*) FROM patients").fetchone()[0]}  # type: ignore[index]
    figures["practitioners"] = {"": con.execute("SELECT count(*) FROM practitioners").fetchone()[0]}  # type: ignore[index]
    return figures


def _truth(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "ground_truth.json").read_text(encoding="utf-8"))


def test_synthetic_ledger_imports_with_nothing_lost(imported_ledger: dict[str, Any]) -> None:
    files = imported_ledger["result"].files
    for report in files:
        report.assert_balanced()
        assert report.quarantined == 0, report
    csv_rows = sum(r.rows_read for r in files if r.format == "csv")
    assert sum(r.duplicates for r in files) == csv_rows  # the CSV twins repeat the workbooks
    reasons = Counter[str]()
    for report in files:
        reasons.update(report.reasons)
    assert set(reasons) == {"duplicate", "title_row", "subtotal_row"}


def test_synthetic_ledger_money_matches_the_ground_truth(
    imported_ledger: dict[str, Any], synthetic_ledger: Path
) -> None:
    truth, got = _truth(synthetic_ledger), imported_ledger["figures"]
    for month in truth["months"]:
        key = month["month"]
        assert str(got["revenue_received"].get(key, Decimal("0.00"))) == month["revenue_received"]
        methods = got["received_by_method"].get(key, {})
        for method, amount in month["received_by_method"].items():
            assert str(methods.get(method, Decimal("0.00"))) == amount, (key, method)
        assert got["new_patients"].get(key, 0) == month["new_patients"], key
    assert got["distinct_patients"][""] == truth["totals"]["distinct_patients"]


def test_synthetic_december_sheets_have_one_column_per_method(synthetic_ledger: Path) -> None:
    """Each workbook keeps December by method; read alone, it gives December's encaissé."""
    truth = {m["month"]: m for m in _truth(synthetic_ledger)["months"]}
    books = sorted(synthetic_ledger.glob("recettes-*.xlsx"))
    assert len(books) == 2
    for book in books:
        year = book.stem[-4:]
        sheet = openpyxl.load_workbook(book, read_only=True)[f"Décembre {year}"]
        header = next(sheet.iter_rows(min_row=2, max_row=2, values_only=True))
        methods = ["Chèque", "Espèces", "CB", "Virement"]
        assert list(header) == ["Date", "N° facture", "Patient", *methods, "Total", "Praticien"]
        batch = read(book)
        label = f"{book.name}#Décembre {year}"
        (report,) = [r for r in batch.files if r.path.name == label]
        assert report.quarantined == 0 and report.accepted > 100
        assert report.reasons == {"title_row": 1, "subtotal_row": 1}
        got: dict[str, Decimal] = defaultdict(Decimal)
        for source, method, amount in columns(batch, "payments", "source_file method amount"):
            if source == label:
                got[method] += amount
        expected = truth[f"{year}-12"]["received_by_method"]
        assert {m: _euros(got[m]) for m in expected} == expected


def test_synthetic_ledger_visits_and_invoices_follow_the_documented_rules(
    imported_ledger: dict[str, Any], synthetic_ledger: Path
) -> None:
    """The adapter's reading (module docstring), redone in plain Python over the CSV twins."""
    reading = ledger_reading(synthetic_ledger)["months"]
    got = imported_ledger["figures"]
    for key in ("consultations_done", "active_patients", "revenue_invoiced"):
        expected = {m["month"]: m[key] for m in reading if m[key] not in (0, "0.00")}
        found = {m: _euros(v) if key == "revenue_invoiced" else v for m, v in got[key].items()}
        assert {m: v for m, v in found.items() if v not in (0, "0.00")} == expected, key


def test_synthetic_ledger_visits_match_the_ground_truth(
    imported_ledger: dict[str, Any], synthetic_ledger: Path
) -> None:
    """Every figure of every month, and the totals, are what the import recovers."""
    truth, got = _truth(synthetic_ledger), imported_ledger["figures"]
    months = [_headline_month(got, m["month"]) for m in truth["months"]]
    assert months == truth["months"]
    totals: dict[str, Any] = {
        key: sum(m[key] for m in months)
        for key in (
            "consultations_done",
            "consultations_cancelled",
            "consultations_no_show",
            "new_patients",
            "unpaid_invoices",
        )
    }
    for key in ("revenue_invoiced", "revenue_received", "unpaid_amount"):
        totals[key] = _euros(sum(Decimal(m[key]) for m in months))
    totals["received_by_method"] = {
        method: _euros(sum(Decimal(m["received_by_method"][method]) for m in months))
        for method in ("cb", "cheque", "especes", "virement", "autre")
    }
    totals["distinct_patients"] = got["distinct_patients"][""]
    assert totals == truth["totals"]
    assert got["practitioners"] == {"": 2}  # the 'Praticien' column tells them apart


def _euros(value: Any) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


def _headline_month(got: dict[str, dict[str, Any]], key: str) -> dict[str, Any]:
    """One month of the DESIGN.md headline document from the snapshot's plain sums."""
    counts = (
        "consultations_done",
        "consultations_cancelled",
        "consultations_no_show",
        "new_patients",
        "active_patients",
    )
    methods = got["received_by_method"].get(key, {})
    return {
        "month": key,
        **{name: got[name].get(key, 0) for name in counts},
        "revenue_invoiced": _euros(got["revenue_invoiced"].get(key, 0)),
        "revenue_received": _euros(got["revenue_received"].get(key, 0)),
        "received_by_method": {
            m: _euros(methods.get(m, 0)) for m in ("cb", "cheque", "especes", "virement", "autre")
        },
        "unpaid_invoices": got["unpaid_invoices"].get(key, 0),
        "unpaid_amount": _euros(got["unpaid_amount"].get(key, 0)),
    }


# --- the real command line --------------------------------------------------------------


def test_osteo_import_format_ledger_reads_a_protected_workbook(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    env = {"OSTEO_PASSPHRASE": PASSPHRASE, "OSTEO_EXCEL_PASSWORD": "Sésame 2024"}
    assert osteo("init", workspace=ws, env=env).returncode == 0
    path = encrypt(month_workbook(tmp_path / "recettes.xlsx"), "Sésame 2024")
    done = osteo("import", str(path), "--format", "ledger", "--json", workspace=ws, env=env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["rows"]["invoices"] == 6 and summary["rows"]["payments"] == 6
    assert sum(f["quarantined"] for f in summary["files"]) == 1  # the =HYPERLINK patient
    wrong = osteo(
        "import",
        str(path),
        "--format",
        "ledger",
        workspace=ws,
        env={**env, "OSTEO_EXCEL_PASSWORD": "faux"},
    )
    assert wrong.returncode == 2
    assert "recettes.xlsx" in wrong.stderr and "Traceback" not in wrong.stderr
    assert "mot de passe incorrect" in wrong.stderr
    assert "vérifiez OSTEO_EXCEL_PASSWORD" in wrong.stderr  # the command line's advice
    assert "Sésame 2024" not in wrong.stderr + wrong.stdout


def test_osteo_import_and_metrics_of_a_ledger_by_payment_method(tmp_path: Path) -> None:
    """Read without a mapping (--format auto), then encaissé by method from the metrics."""
    ws = tmp_path / "ws"
    env = {"OSTEO_PASSPHRASE": PASSPHRASE}
    assert osteo("init", workspace=ws, env=env).returncode == 0
    workbook = by_method_xlsx(tmp_path / "recettes-2024.xlsx")
    done = osteo("import", str(workbook), "--json", workspace=ws, env=env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["rows"]["invoices"] == 7 and summary["rows"]["payments"] == 10
    (file,) = summary["files"]
    assert (file["format"], file["rows_read"], file["accepted"], file["quarantined"]) == (
        "xlsx",
        15,
        7,
        3,
    )
    assert file["reasons"]["total_mismatch"] == 1
    # its CSV copy: nothing new, and the wrong Total is explained in French
    copy = osteo(
        "import", str(by_method_csv(tmp_path / "recettes-2024.csv")), workspace=ws, env=env
    )
    assert copy.returncode == 0, copy.stderr
    assert "montants par mode de règlement ne font pas le total de la ligne : 1" in copy.stdout
    assert "Rien de nouveau" in copy.stdout and "DURAND" not in copy.stdout + copy.stderr
    metrics = osteo(
        "metrics", "--from", "2024-01-01", "--to", "2024-02-29", "--format", "json",
        workspace=ws, env=env,
    )  # fmt: skip
    assert metrics.returncode == 0, metrics.stderr
    months = {m["month"]: m for m in json.loads(metrics.stdout)["months"]}
    assert months["2024-01"]["received_by_method"] == by_method(
        cb="80.00", cheque="30.00", especes="50.00", virement="90.00"
    )
    assert months["2024-02"]["received_by_method"] == by_method(cb="40.00", cheque="65.00")
    assert [months[m]["revenue_received"] for m in ("2024-01", "2024-02")] == ["250.00", "105.00"]
    assert [months[m]["revenue_invoiced"] for m in ("2024-01", "2024-02")] == ["250.00", "105.00"]
    assert [months[m]["consultations_done"] for m in ("2024-01", "2024-02")] == [5, 2]


def test_one_invoice_paid_in_two_equal_halves_on_two_rows_keeps_both(tmp_path: Path) -> None:
    """Same number, day, patient and amount but another means: a second payment, no repeat."""
    half = ["02/01/2024", "F001", "DUPONT Jean", "30,00"]
    rows = [HEADER[:5], [*half, "Chèque"], [*half, "Espèces"]]
    batch = read(write_csv(tmp_path / "r.csv", rows))
    assert batch.rejected == [] and batch.files[0].duplicates == 0
    assert column(batch, "invoices", "amount") == [Decimal("60.00")]
    assert payments_of(batch) == {
        "F001/1": ("cheque", Decimal("30.00")),
        "F001/2": ("especes", Decimal("30.00")),
    }

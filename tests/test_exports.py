"""The accountant's exports: `osteo export journal|fec|xlsx` (issue 11, items 3 and 4).

The shared synthetic practice (one year, 2025, two practitioners) is imported into a copy
of the blank workspace; the files come from the real `osteo` command and are read back
with real readers (csv, pandas, openpyxl, python-calamine, the `age` CLI). Totals are
compared with `osteo metrics --format json` to the cent.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import subprocess
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from osteo_analytics import exports
from osteo_analytics.contracts.model import labels
from osteo_analytics.errors import InputError, UsageError
from osteo_analytics.ingest import import_paths
from osteo_analytics.settings import load_settings
from osteo_analytics.warehouse import open_warehouse
from tests.conftest import (
    PASSPHRASE,
    VISIT_COLUMNS,
    copy_workspace,
    osteo,
    osteo_json,
    osteo_ok,
    visit_mapping,
)

YEAR = "2025"
ENV = {"OSTEO_PASSPHRASE": PASSPHRASE}
# Valid SIRENs (Luhn key right); the first with its last digit changed is not.
SIREN_A, SIREN_B, SIREN_BAD = "732829320", "552100554", "732829321"
# Art. A47 A-1 LPF, II: the 18 general fields, then those of a BNC on a cash basis.
FEC_FIELDS = [
    "JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib",
    "CompAuxNum", "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit",
    "EcritureLet", "DateLet", "ValidDate", "Montantdevise", "Idevise",
    "DateRglt", "ModeRglt", "NatOp", "IdClient",
]  # fmt: skip
SHEETS = [
    "Journal", "Factures", "Paiements", "Numérotation", "Rapprochement",
    "Recettes par mois", "2035", "Micro-BNC",
]  # fmt: skip
HOSTILE = ['=HYPERLINK("http://x","y")', "+cmd|/c calc", "@SUM(A1)", "-2+3", "\t=1", "\r=2+2"]


@pytest.fixture(scope="module")
def ws(
    tmp_path_factory: pytest.TempPathFactory, blank_workspace: Path, practice: Path
) -> Iterator[Path]:
    """The shared practice imported; config.toml gives each practitioner a SIREN."""
    root = tmp_path_factory.mktemp("exports") / "ws"
    unlocked = copy_workspace(blank_workspace, root)
    import_paths(unlocked, [practice / "libreosteo"])
    config = f'[siren]\n"{ids(root)[0]}" = "{SIREN_A}"\n"{ids(root)[1]}" = "{SIREN_B}"\n'
    (root / "config.toml").write_text(config, encoding="utf-8")
    yield root


def ids(root: Path) -> list[str]:
    """The practitioner ids of the workspace, sorted."""
    with open_warehouse(root, identity=_identity(root)) as wh:
        return sorted(wh.query("SELECT practitioner_id FROM practitioners")["practitioner_id"])


def _identity(root: Path) -> list[str]:
    from osteo_analytics import workspace

    return workspace.Workspace(root).unlock(PASSPHRASE).identities


def received(root: Path, *options: str) -> Decimal:
    """`osteo metrics --format json`'s revenue_received of the year, with `options`."""
    document = osteo_json(
        "metrics", "--from", f"{YEAR}-01-01", "--to", f"{YEAR}-12-31", "--format", "json",
        *options, workspace=root, env=ENV,
    )  # fmt: skip
    return Decimal(document["totals"]["revenue_received"])


def export(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return osteo("export", *args, "--year", YEAR, workspace=root, env=ENV)


def euros(text: str) -> Decimal:
    """`'-1234,50'` → `Decimal('-1234.50')`; refuses any other shape."""
    assert re.fullmatch(r"-?[0-9]+,[0-9]{2}", text), text
    return Decimal(text.replace(",", "."))


# --- livre-journal ------------------------------------------------------------------------


def test_journal_totals_equal_the_metrics_to_the_cent(ws: Path, tmp_path: Path) -> None:
    result = export(ws, "journal", "--out", str(tmp_path), "--plaintext")
    assert result.returncode == 0, result.stderr
    # --plaintext writes the plain file and warns, in French, on stderr.
    assert "en clair" in result.stderr and "non chiffré" in result.stderr
    path = tmp_path / f"livre-journal-{YEAR}.csv"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw  # BOM for Excel, CRLF
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert lines[0] == [
        "Date",
        "N° de facture",
        "Patient (pseudonyme)",
        "Montant",
        "Mode de règlement",
    ]
    *body, grand = lines[1:]
    by_day: dict[str, Decimal] = defaultdict(Decimal)
    daily: dict[str, Decimal] = {}
    methods = set(labels("payments", "method").values())
    for day, number, patient, amount, method in body:
        dt.datetime.strptime(day, "%d/%m/%Y")
        if number == "Total du jour":
            assert day not in daily and (patient, method) == ("", "")
            daily[day] = euros(amount)
        else:
            assert day not in daily, "a receipt after its day's total"
            assert method in methods and patient.startswith("P-") and number
            by_day[day] += euros(amount)
    assert daily == by_day  # each day's total is the sum of that day's receipts
    total = received(ws)
    assert grand[:2] == ["", f"Total {YEAR}"] and euros(grand[3]) == total
    assert sum(by_day.values()) == sum(daily.values()) == total


# --- FEC ------------------------------------------------------------------------------------


def read_fec(path: Path) -> pd.DataFrame:
    """The FEC as its documentation says it is: tab, ISO-8859-15, CRLF, every field text."""
    return pd.read_csv(path, sep="\t", encoding="iso8859_15", dtype=str, keep_default_na=False)


@pytest.mark.parametrize("who", [None, 0, 1], ids=["cabinet", "first", "second"])
def test_fec_parses_balances_and_nets_to_the_receipts(
    ws: Path, tmp_path: Path, who: int | None
) -> None:
    practitioner = ["--practitioner", ids(ws)[who]] if who is not None else []
    siren = [SIREN_A, SIREN_B][who] if who is not None else SIREN_B
    siren_option = ["--siren", siren] if who is None else []  # else the config.toml table
    result = export(ws, "fec", "--out", str(tmp_path), "--plaintext", *practitioner, *siren_option)
    assert result.returncode == 0, result.stderr
    path = tmp_path / f"{siren}FEC{YEAR}1231.txt"  # the name art. A47 A-1 LPF sets
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    raw = path.read_bytes()
    assert raw.splitlines()[0].decode("ascii").split("\t") == FEC_FIELDS

    fec = read_fec(path)
    assert list(fec.columns) == FEC_FIELDS and len(fec) > 100
    for field in ("EcritureDate", "PieceDate", "ValidDate", "DateRglt"):
        assert fec[field].map(lambda d: bool(dt.datetime.strptime(d, "%Y%m%d"))).all()
    debit, credit = fec["Debit"].map(euros), fec["Credit"].map(euros)
    assert debit.sum() == credit.sum()  # balanced
    by_entry = pd.DataFrame({"n": fec["EcritureNum"], "d": debit, "c": credit}).groupby("n")
    assert (by_entry["d"].sum() == by_entry["c"].sum()).all()  # each entry balanced
    revenue = fec["CompteNum"] == "706000"
    assert credit[revenue].sum() - debit[revenue].sum() == received(ws, *practitioner)
    assert set(fec["CompteNum"]) <= {"706000", "512000", "530000"}
    assert set(fec["ModeRglt"]) <= set(labels("payments", "method").values())
    assert set(fec["NatOp"]) <= {"Honoraires", "Remboursement d'honoraires"}
    assert fec["IdClient"].str.fullmatch(r"P-[A-Z0-9]+").all()  # pseudonyms, never names
    assert (fec["JournalCode"] == "RE").all() and (fec["Idevise"] == "").all()


def test_fec_parses_with_duckdb(ws: Path, tmp_path: Path) -> None:
    import duckdb

    export(ws, "fec", "--out", str(tmp_path), "--plaintext", "--siren", SIREN_A)
    path = tmp_path / f"{SIREN_A}FEC{YEAR}1231.txt"
    utf8 = tmp_path / "fec-utf8.txt"  # DuckDB reads UTF-8: the test re-encodes, nothing else
    utf8.write_text(path.read_bytes().decode("iso8859_15"), encoding="utf-8")
    con = duckdb.connect()
    row = con.execute(
        "SELECT count(*), count(DISTINCT EcritureNum),"
        " sum(CAST(replace(Debit, ',', '.') AS DECIMAL(18, 2))),"
        " sum(CAST(replace(Credit, ',', '.') AS DECIMAL(18, 2))),"
        " min(strptime(EcritureDate, '%Y%m%d'))"
        " FROM read_csv($path, delim = '\t', header = true, all_varchar = true)",
        {"path": str(utf8)},
    ).fetchone()
    assert row is not None
    lines, entries, debit, credit, first = row
    assert lines == 2 * entries and debit == credit > 0 and first.year == int(YEAR)


def test_fec_siren_is_checked_and_required(ws: Path, tmp_path: Path) -> None:
    wrong = export(ws, "fec", "--out", str(tmp_path), "--siren", SIREN_BAD)
    assert wrong.returncode == 2
    assert wrong.stderr.count("\n") == 1 and "clé de contrôle" in wrong.stderr
    # Without --practitioner a cabinet of two SIRENs is two taxpayers: one FEC each.
    mixed = export(ws, "fec", "--out", str(tmp_path))
    assert mixed.returncode == 2 and "--practitioner" in mixed.stderr
    assert "Traceback" not in wrong.stderr + mixed.stderr
    assert list(tmp_path.iterdir()) == []


def test_fec_without_any_siren_says_how_to_give_one(
    blank_workspace: Path, libreosteo_sample: Path, tmp_path: Path
) -> None:
    unlocked = copy_workspace(blank_workspace, tmp_path / "ws")
    import_paths(unlocked, [libreosteo_sample])
    with open_warehouse(unlocked) as wh:
        year = str(wh.span[0].year) if wh.span else ""
    result = osteo(
        "export", "fec", "--year", year, "--out", str(tmp_path), workspace=tmp_path / "ws", env=ENV
    )
    assert result.returncode == 2
    assert "SIREN manquant" in result.stderr and "--siren" in result.stderr
    assert "config.toml" in result.stderr


def test_siren_luhn_key_and_settings() -> None:
    assert exports.check_siren("732 829 320") == SIREN_A
    for bad in (SIREN_BAD, "73282932", "7328293200", "73282932O", ""):
        with pytest.raises(UsageError):
            exports.check_siren(bad)
    assert exports.siren_of({"PR-A": SIREN_A, "PR-B": SIREN_A}, None) == SIREN_A
    assert exports.siren_of({"PR-A": SIREN_A, "PR-B": SIREN_B}, "PR-B") == SIREN_B
    assert exports.siren_of(SIREN_B, "PR-A") == SIREN_B  # one SIREN: everyone's


def test_the_siren_setting_is_a_string_or_a_table(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    assert load_settings(tmp_path)["siren"] == ""
    config.write_text(f'siren = "{SIREN_A}"\n', encoding="utf-8")
    assert load_settings(tmp_path)["siren"] == SIREN_A
    config.write_text(f'[siren]\nPR-A = "{SIREN_A}"\n', encoding="utf-8")
    assert load_settings(tmp_path)["siren"] == {"PR-A": SIREN_A}
    config.write_text(f"siren = {SIREN_A}\n", encoding="utf-8")
    with pytest.raises(InputError, match="siren"):
        load_settings(tmp_path)


# --- encryption, the workbook ---------------------------------------------------------------


def test_encrypted_workbook_decrypts_with_age_and_has_its_views(ws: Path, tmp_path: Path) -> None:
    result = export(ws, "xlsx", "--out", str(tmp_path / "compta.xlsx"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # encrypted: no warning
    assert [p.name for p in tmp_path.iterdir()] == ["compta.xlsx.age"]
    encrypted = tmp_path / "compta.xlsx.age"
    assert encrypted.read_bytes().startswith(b"age-encryption.org/v1\n")
    keyfile = tmp_path / "identity.txt"
    keyfile.write_text("\n".join(_identity(ws)) + "\n")
    keyfile.chmod(0o600)
    plain = subprocess.run(
        ["age", "-d", "-i", str(keyfile), str(encrypted)], capture_output=True, check=True
    ).stdout
    audit = json.loads((ws / "audit.log").read_text().splitlines()[-1])
    assert audit["action"] == "export" and audit["counts"]["plaintext"] == 0

    book = openpyxl.load_workbook(io.BytesIO(plain))
    assert book.sheetnames == SHEETS
    for sheet in book:
        assert sheet.freeze_panes == "A2", sheet.title
        assert all(c.font.b for c in sheet[1]) and all(isinstance(c.value, str) for c in sheet[1])
    journal = book["Journal"]
    assert [c.value for c in journal[1]][:5] == [
        "Date", "N° de paiement", "N° de facture", "Patient (pseudonyme)", "Montant",
    ]  # fmt: skip
    first = journal[2]
    assert isinstance(first[0].value, dt.datetime) and first[0].number_format == "dd/mm/yyyy"
    assert first[4].number_format == exports.EURO_FORMAT and "€" in first[4].number_format
    *receipts, total = list(journal.iter_rows(min_row=2, values_only=True))
    assert total[1] == f"Total {YEAR}"
    expected = received(ws)
    assert sum(Decimal(str(r[4])).quantize(Decimal("0.01")) for r in receipts) == expected
    assert Decimal(str(total[4])).quantize(Decimal("0.01")) == expected
    tax = book["2035"]
    assert tax["A2"].value == int(YEAR)
    assert Decimal(str(tax["D2"].value)).quantize(Decimal("0.01")) == expected
    assert book["Recettes par mois"].max_row == 13 and book["Micro-BNC"].max_row == 13


def _cells(data: bytes) -> Iterator[tuple[str, Any, str]]:
    """(sheet, value, openpyxl data type) of every non-empty cell of the workbook `data`."""
    for sheet in openpyxl.load_workbook(io.BytesIO(data)):
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is not None:
                    yield sheet.title, cell.value, cell.data_type


def _assert_no_formula(data: bytes, texts: list[str]) -> None:
    """No cell of `data` is a formula; each of `texts` reads back, neutralised, as a string."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert sheets and not any(
            b"<f>" in archive.read(n) or b"<f " in archive.read(n) for n in sheets
        )
    read = list(_cells(data))
    assert all(kind != "f" for _, _, kind in read)
    strings = {value for _, value, kind in read if kind == "s"}
    assert {"'" + t for t in texts} <= strings
    assert not any(s.startswith(exports.FORMULA_TRIGGERS) for s in strings)
    calamine = CalamineWorkbook.from_filelike(io.BytesIO(data))
    values = {
        v
        for name in calamine.sheet_names
        for row in calamine.get_sheet_by_name(name).to_python()
        for v in row
        if isinstance(v, str)
    }
    assert {"'" + t for t in texts} <= values
    assert not any(v.startswith(exports.FORMULA_TRIGGERS) for v in values)


def test_a_sheet_neutralises_every_hostile_text(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    columns = [exports.Column("Texte", "text"), exports.Column("Montant", "n", exports.EURO_FORMAT)]
    rows = [{"text": t, "n": Decimal("-2.50")} for t in HOSTILE]
    exports.write_sheet(book.active, columns, rows)
    out = io.BytesIO()
    book.save(out)
    _assert_no_formula(out.getvalue(), HOSTILE)
    amounts = [v for _, v, kind in _cells(out.getvalue()) if kind == "n"]
    assert amounts == [-2.5] * len(HOSTILE)  # a negative number stays a number


def test_hostile_invoice_numbers_reach_no_formula(blank_workspace: Path, tmp_path: Path) -> None:
    """Invoice numbers typed as formulas in a practitioner's sheet, imported by `osteo import`."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(list(VISIT_COLUMNS))
    for day, number in enumerate(HOSTILE, start=2):
        writer.writerow(
            [
                f"{day:02d}/03/{YEAR}",
                "10:00",
                "DUPONT",
                "Marie",
                "03/04/1981",
                number,
                "55,00",
                "CB",
            ]
        )
    sheet, mapping = tmp_path / "visites.csv", tmp_path / "mapping.yaml"
    sheet.write_text(out.getvalue(), encoding="utf-8")
    mapping.write_text(visit_mapping(), encoding="utf-8")
    root = tmp_path / "ws"
    copy_workspace(blank_workspace, root)
    osteo_ok("import", str(sheet), "--mapping", str(mapping), workspace=root, env=ENV)
    with open_warehouse(root, identity=_identity(root)) as wh:
        stored = sorted(wh.query("SELECT invoice_number FROM invoices")["invoice_number"])
    # The importer trims the tab and CR; what it keeps still starts like a formula.
    assert len(stored) == len(HOSTILE) and all(s.startswith(("=", "+", "-", "@")) for s in stored)

    folder = tmp_path / "out"
    folder.mkdir()
    for kind in ("xlsx", "journal"):
        options = ("--year", YEAR, "--out", str(folder), "--plaintext")
        osteo_ok("export", kind, *options, workspace=root, env=ENV)
    _assert_no_formula((folder / f"recettes-{YEAR}.xlsx").read_bytes(), stored)
    text = (folder / f"livre-journal-{YEAR}.csv").read_text(encoding="utf-8-sig")
    numbers = [line[1] for line in csv.reader(io.StringIO(text), delimiter=";")][1:]
    assert sorted(n for n in numbers if not n.startswith("Total")) == sorted(
        "'" + s for s in stored
    )


# --- usage ------------------------------------------------------------------------------------


def test_bad_usage_is_one_line_and_exit_2(ws: Path, tmp_path: Path) -> None:
    out = str(tmp_path)
    cases = [
        (["--year", YEAR, "--out", out, "--practitioner", "PR-NOPE"], "praticien inconnu"),
        (["--year", "2019", "--out", out], "aucune donnée en 2019"),
        (["--year", YEAR, "--out", str(tmp_path / "no" / "x.csv")], "n'existe pas"),
    ]
    for args, words in cases:
        result = osteo("export", "journal", *args, workspace=ws, env=ENV)
        assert result.returncode == 2, words
        assert result.stderr.count("\n") == 1 and words in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []

"""The LibreOsteo adapter against real LibreOsteo exports and their ground truth.

The sample (``tests/data/libreosteo-sample``) was written by LibreOsteo's own code;
``ground_truth.json`` was computed with SQL on the database behind it. Every figure is
recomputed here with DuckDB SQL over the stage-1 tables, money exact to the cent.
"""

from __future__ import annotations

import csv
import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from osteo_analytics.errors import InputError
from osteo_analytics.sources import SourceBatch, detect_format, read_libreosteo
from osteo_analytics.sources import _libreosteo_files as lf
from osteo_analytics.sources._libreosteo_rows import exam_status, payment_method
from osteo_analytics.sources.libreosteo import detect
from tests.conftest import LIBREOSTEO_SAMPLE

SAMPLE = LIBREOSTEO_SAMPLE
GT: dict[str, Any] = json.loads((SAMPLE / "ground_truth.json").read_text(encoding="utf-8"))
MONTHS = [m["month"] for m in GT["monthly"]]
CENT = Decimal("0.01")

FULL = [SAMPLE]  # the whole folder: every CSV and XLSX file
SERVED = [SAMPLE / "patients.csv", SAMPLE / "examinations.csv", SAMPLE / "invoices.xlsx"]
ALL_CSV = [SAMPLE / "patients.csv", SAMPLE / "examinations.csv", SAMPLE / "invoices.csv"]
ALL_XLSX = [SAMPLE / "patients.xlsx", SAMPLE / "examinations.xlsx", SAMPLE / "invoices.xlsx"]

# canonical codes back to LibreOsteo's, to compare with the ground truth's keys
TYPE_CODE = {"first": "1", "follow_up": "2", "return": "3", "urgent": "4"}
MODE_CODE = {"cb": "ecard", "especes": "cash", "cheque": "check"}
STATUS_TYPE = {
    "issued": "1/invoice",
    "paid": "2/invoice",
    "cancelled": "3/invoice",
    "credit_note": "2/creditnote",
}


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


@pytest.fixture(scope="module")
def batches() -> dict[str, SourceBatch]:
    return {
        "full": read_libreosteo(FULL),
        "served": read_libreosteo(SERVED),
        "csv": read_libreosteo(ALL_CSV),
        "xlsx": read_libreosteo(ALL_XLSX),
    }


def connect(batch: SourceBatch) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name, table in batch.tables().items():
        con.register(name, table)
    return con


def by_month(con: duckdb.DuckDBPyConnection, sql: str, zero: Any = 0) -> dict[str, Any]:
    """Run SQL returning (month, value) and fill months without rows with ``zero``."""
    found = dict(con.execute(sql).fetchall())
    return {m: found.get(m, zero) for m in MONTHS}


def by_month_key(con: duckdb.DuckDBPyConnection, sql: str, keys: list[str], zero: Any = 0):
    """Run SQL returning (month, key, value): {month: {key: value}} with every key."""
    out = {m: dict.fromkeys(keys, zero) for m in MONTHS}
    for month, key, value in con.execute(sql).fetchall():
        out[month][key] = value
    return out


def expected(metric: str, cast: Any = int) -> dict[str, Any]:
    return {m["month"]: _cast(m[metric], cast) for m in GT["monthly"]}


def _cast(value: Any, cast: Any) -> Any:
    if isinstance(value, dict):
        return {k: cast(v) for k, v in value.items()}
    return cast(value)


# --- activity ---------------------------------------------------------------------------

MONTH = "strftime(consulted_on, '%Y-%m')"


@pytest.mark.parametrize("variant", ["full", "xlsx"])
def test_examinations_by_month_type_therapist(batches, variant):
    con = connect(batches[variant])
    assert by_month(con, f"SELECT {MONTH}, count(*) FROM consultations GROUP BY 1") == expected(
        "examinations"
    )
    types = by_month_key(
        con,
        f"SELECT {MONTH}, consultation_type, count(*) FROM consultations GROUP BY 1, 2",
        list(TYPE_CODE),
    )
    assert {
        m: {TYPE_CODE[k]: v for k, v in counts.items()} for m, counts in types.items()
    } == expected("examinations_by_type")
    therapists = list(GT["totals"]["examinations_by_therapeut"])
    sql = f"SELECT {MONTH}, practitioner_name, count(*) FROM consultations GROUP BY 1, 2"
    assert by_month_key(con, sql, therapists) == expected("examinations_by_therapeut")


def test_examination_status(batches):
    """LibreOsteo status 1 / 2 are told by the linked invoices; 0 and 3 both have none.

    In progress (0) and not invoiced (3) sessions are both `done` without an invoice in
    the canonical model, so only their sum can be compared. The sample's status-3
    reasons are free, shortened or goodwill sessions: no cancellation, no no-show.
    """
    con = connect(batches["full"])
    sql = f"""
        WITH linked AS (
            SELECT c.consulted_on, count(i.invoice_number) AS n,
                   bool_or(i.status = 'issued') AS unpaid
            FROM consultations c LEFT JOIN invoices i USING (consultation_ref)
            GROUP BY c.consultation_ref, c.consulted_on)
        SELECT {MONTH}, CASE WHEN n = 0 THEN '0+3' WHEN unpaid THEN '1' ELSE '2' END, count(*)
        FROM linked GROUP BY 1, 2"""
    got = by_month_key(con, sql, ["0+3", "1", "2"])
    want = {
        m: {"0+3": s["0"] + s["3"], "1": s["1"], "2": s["2"]}
        for m, s in expected("examinations_by_status").items()
    }
    assert got == want
    assert con.execute("SELECT DISTINCT status FROM consultations").fetchall() == [("done",)]


@pytest.mark.parametrize("variant", ["full", "served", "csv"])
def test_patients_seen_minors_and_first_visits(batches, variant):
    con = connect(batches[variant])
    patient = "lower(patient_family_name), lower(patient_first_name), patient_birth_date"
    sql = f"SELECT {MONTH}, count(DISTINCT ({patient})) FROM consultations GROUP BY 1"
    assert by_month(con, sql) == expected("distinct_patients_seen")
    sql = f"""SELECT {MONTH}, count(*) FROM consultations
              WHERE consulted_on < patient_birth_date + INTERVAL 18 YEAR GROUP BY 1"""
    assert by_month(con, sql) == expected("examinations_of_minors")
    sql = f"""SELECT strftime(first, '%Y-%m'), count(*) FROM (
                  SELECT min(consulted_on) AS first FROM consultations GROUP BY {patient})
              GROUP BY 1"""
    assert by_month(con, sql) == expected("new_patients_by_first_examination")
    totals = GT["totals"]
    assert con.execute("SELECT count(*) FROM patients").fetchone() == (totals["patients"],)
    sql = f"""SELECT count(DISTINCT ({patient})) FROM consultations
              WHERE consulted_on < patient_birth_date + INTERVAL 18 YEAR"""
    minors = totals["distinct_patients_minor_at_some_examination"]
    assert con.execute(sql).fetchone() == (minors,)
    sql = """SELECT count(*) FROM patients p WHERE NOT EXISTS (
                 SELECT 1 FROM consultations c
                 WHERE lower(c.patient_family_name) = lower(p.family_name)
                   AND lower(c.patient_first_name) = lower(p.first_name)
                   AND c.patient_birth_date = p.birth_date)"""
    assert con.execute(sql).fetchone() == (totals["patients_without_examination"],)
    low, high = totals["examination_date_range_local"]
    sql = "SELECT strftime(min(consulted_on + start_time), '%Y-%m-%d %H:%M:%S'), "
    sql += "strftime(max(consulted_on + start_time), '%Y-%m-%d %H:%M:%S') FROM consultations"
    assert con.execute(sql).fetchone() == (low, high)


def test_new_patients_by_creation_date(batches):
    con = connect(batches["full"])
    sql = "SELECT strftime(registered_on, '%Y-%m'), count(*) FROM patients GROUP BY 1"
    assert by_month(con, sql) == expected("new_patients")
    # patients.csv has no creation date: the figure needs patients.xlsx
    assert connect(batches["served"]).execute(
        "SELECT count(registered_on) FROM patients"
    ).fetchone() == (0,)


# --- invoices and payments ---------------------------------------------------------------

ISSUED = "strftime(issued_on, '%Y-%m')"
LIVE = "status IN ('issued', 'paid')"  # type invoice, not cancelled


@pytest.mark.parametrize("variant", ["full", "served", "csv", "xlsx"])
def test_invoice_figures(batches, variant):
    con = connect(batches[variant])

    def monthly(where: str, what: str = "count(*)", zero: Any = 0) -> dict[str, Any]:
        return by_month(
            con, f"SELECT {ISSUED}, {what} FROM invoices WHERE {where} GROUP BY 1", zero
        )

    total = "sum(amount)"
    assert monthly(LIVE) == expected("invoice_count_net")
    assert monthly(LIVE, total, Decimal(0)) == expected("invoice_amount_net", money)
    assert monthly("status = 'paid'", total, Decimal(0)) == expected("paid_amount", money)
    assert monthly("status = 'issued'") == expected("unpaid_invoices")
    assert monthly("status = 'issued'", total, Decimal(0)) == expected("unpaid_amount", money)
    assert monthly("status = 'cancelled'") == expected("canceled_invoices")
    assert monthly("status = 'credit_note'") == expected("credit_notes")
    assert monthly("true") == expected("invoice_rows_all")
    # LibreOsteo's own list total: every row, credit notes included, minus replaced ones
    ledger = """invoice_number NOT IN (SELECT replaces_invoice_number FROM invoices
                                       WHERE replaces_invoice_number IS NOT NULL)"""
    assert monthly(ledger) == expected("ledger_rows")
    assert monthly(ledger, total, Decimal(0)) == expected("ledger_amount", money)

    totals = GT["totals"]
    one = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
    assert one("SELECT sum(amount) FROM invoices WHERE status = 'cancelled'") == money(
        totals["canceled_amount"]
    )
    assert one("SELECT sum(amount) FROM invoices WHERE status = 'credit_note'") == money(
        totals["credit_notes_amount"]
    )
    assert (
        one("SELECT count(replaces_invoice_number) FROM invoices")
        == (totals["replacement_invoices"])
    )
    counts = dict(con.execute("SELECT status, count(*) FROM invoices GROUP BY 1").fetchall())
    assert {STATUS_TYPE[k]: v for k, v in counts.items()} == totals["invoice_status_counts"]
    sql = "SELECT min(CAST(invoice_number AS INTEGER)), max(CAST(invoice_number AS INTEGER))"
    assert con.execute(sql + " FROM invoices").fetchone() == (
        totals["invoice_number_min"],
        totals["invoice_number_max"],
    )
    low, high = (d[:10] for d in totals["invoice_date_range_local"])
    sql = "SELECT strftime(min(issued_on), '%Y-%m-%d'), strftime(max(issued_on), '%Y-%m-%d')"
    assert con.execute(sql + " FROM invoices").fetchone() == (low, high)


def test_cancellation_chains(batches):
    """Each canceled invoice points to its credit note or replacement (canceled_invoices_detail)."""
    for variant in ("full", "csv"):
        con = connect(batches[variant])
        for detail in GT["canceled_invoices_detail"]:
            column = (
                "cancels_invoice_number"
                if detail["canceled_by_type"] == "creditnote"
                else "replaces_invoice_number"
            )
            sql = f"SELECT invoice_number, amount, issued_on FROM invoices WHERE {column} = ?"
            number, amount, issued = con.execute(sql, [detail["number"]]).fetchone()
            assert number == detail["canceled_by_number"]
            assert amount == money(detail["canceled_by_amount"])
            assert str(issued) == detail["canceled_by_date_local"][:10]


@pytest.mark.parametrize("variant", ["full", "served", "csv"])
def test_payments(batches, variant):
    """Encaissé: late Paiment rows, payments at closing, refunds of cancelled invoices."""
    con = connect(batches[variant])
    late = f"""SELECT strftime(p.paid_on, '%Y-%m') AS month, p.method, p.amount FROM payments p
               JOIN invoices i USING (invoice_number)
               WHERE p.paid_on > i.issued_on AND i.{LIVE}"""
    assert by_month(con, f"SELECT month, count(*) FROM ({late}) GROUP BY 1") == expected(
        "paiments_count"
    )
    sql = f"SELECT month, sum(amount) FROM ({late}) GROUP BY 1"
    assert by_month(con, sql, Decimal(0)) == expected("paiments_amount", money)
    modes = by_month_key(
        con,
        f"SELECT month, method, sum(amount) FROM ({late}) GROUP BY 1, 2",
        list(MODE_CODE),
        Decimal(0),
    )
    assert {m: {MODE_CODE[k]: v for k, v in d.items()} for m, d in modes.items()} == expected(
        "paiments_amount_by_mode", money
    )
    # every live invoice under the means it was really paid with, or 'unpaid'
    sql = f"""
        SELECT {ISSUED}, coalesce(last(p.method ORDER BY p.paid_on), 'unpaid'), sum(i.amount)
        FROM invoices i LEFT JOIN payments p USING (invoice_number)
        WHERE i.{LIVE} GROUP BY i.invoice_number, i.issued_on"""
    sql = f"SELECT month, mode, sum(amount) FROM ({sql}) AS t(month, mode, amount) GROUP BY 1, 2"
    effective = by_month_key(con, sql, [*MODE_CODE, "unpaid"], Decimal(0))
    assert {
        m: {MODE_CODE.get(k, k): v for k, v in d.items()} for m, d in effective.items()
    } == expected("invoice_amount_net_by_effective_mode", money)
    # received in total = the ground truth's paid amount: no session counted twice
    received = con.execute("SELECT sum(amount) FROM payments").fetchone()[0]
    assert received == money(GT["totals"]["paid_amount"])
    orphan = "SELECT count(*) FROM payments WHERE invoice_number NOT IN "
    orphan += "(SELECT invoice_number FROM invoices)"
    assert con.execute(orphan).fetchone() == (0,)
    # each cancelled invoice was paid at closing, then refunded by its credit note or on
    # the day of its replacement: the month it was paid keeps the money
    sql = """SELECT i.invoice_number, p.paid_on, p.amount FROM payments p
             JOIN invoices i USING (invoice_number)
             WHERE i.status IN ('cancelled', 'credit_note') ORDER BY 1, 2"""
    refunds = {(n, str(d), a) for n, d, a in con.execute(sql).fetchall()}
    want = set()
    for detail in GT["canceled_invoices_detail"]:
        amount = money(detail["amount"])
        refund_day = detail["canceled_by_date_local"][:10]
        want.add((detail["number"], detail["date_local"][:10], amount))
        if detail["canceled_by_type"] == "creditnote":
            want.add((detail["canceled_by_number"], refund_day, -amount))
        else:
            want.add((detail["number"], refund_day, -amount))
    assert refunds == want
    ids = con.execute("SELECT count(DISTINCT payment_id) = count(*) FROM payments").fetchone()
    assert ids == (True,)


# --- links, accounting, privacy -----------------------------------------------------------


def test_every_invoice_linked_with_examinations_xlsx(batches):
    con = connect(batches["full"])
    assert con.execute(
        "SELECT count(*) FROM invoices WHERE consultation_ref IS NULL"
    ).fetchone() == (0,)
    sql = """SELECT count(*) FROM invoices i JOIN consultations c USING (consultation_ref)
             WHERE i.patient_birth_date IS DISTINCT FROM c.patient_birth_date"""
    assert con.execute(sql).fetchone() == (0,)


def test_served_csv_links_same_day_invoices(batches):
    """Without examinations.xlsx, invoices find their session by patient name and local day.

    Only 24029, re-issued a week after its session (credit-note mode), stays unlinked;
    credit notes and replacements follow the invoice they cancel or replace.
    """
    con = connect(batches["served"])
    unlinked = con.execute(
        "SELECT invoice_number FROM invoices WHERE consultation_ref IS NULL ORDER BY 1"
    ).fetchall()
    assert unlinked == [("24029",)]
    types = dict(
        con.execute("SELECT consultation_type, count(*) FROM consultations GROUP BY 1").fetchall()
    )
    assert types == {"follow_up": 55, "other": 195}  # only the "Suite :" prefix survives in CSV


def test_practitioners(batches):
    for batch in batches.values():
        rows = sorted(batch.practitioners.select(["display_name", "role"]).to_pylist(), key=str)
        assert rows == [
            {"display_name": "Gaëlle Tanguy", "role": "titular"},
            {"display_name": "Yann Morvan", "role": "replacement"},
        ]


def test_file_reports_balance(batches):
    full = batches["full"]
    assert {r.path.name: r.rows_read for r in full.files} == GT["files_row_counts"]
    for batch in batches.values():
        assert batch.rejected == []
        for report in batch.files:
            report.assert_balanced()
    # both formats given: the XLSX copy wins, the CSV copy counts as duplicates
    dup = {r.path.name: (r.accepted, r.duplicates) for r in full.files}
    assert dup["patients.xlsx"] == (40, 0) and dup["patients.csv"] == (0, 40)
    assert dup["invoices.csv"] == (0, 244)


def test_csv_and_xlsx_read_the_same_records(batches):
    csv_b, xlsx_b = batches["csv"], batches["xlsx"]
    cols = ["family_name", "first_name", "birth_name", "birth_date", "sex", "postcode"]
    assert csv_b.patients.select(cols).to_pylist() == xlsx_b.patients.select(cols).to_pylist()
    cols = ["patient_family_name", "patient_first_name", "patient_birth_date"]
    cols += ["practitioner_name", "consulted_on", "start_time", "motif_category"]
    assert csv_b.consultations.select(cols) == xlsx_b.consultations.select(cols)
    cols = ["invoice_number", "issued_on", "amount", "status", "patient_birth_date"]
    cols += ["replaces_invoice_number", "cancels_invoice_number", "practitioner_name"]
    assert csv_b.invoices.select(cols) == xlsx_b.invoices.select(cols)
    assert csv_b.payments.drop_columns(["source_file", "source_row"]) == (
        xlsx_b.payments.drop_columns(["source_file", "source_row"])
    )


def _forbidden_values() -> set[str]:
    """Every clinical, contact and address value of the sample CSV files."""
    drop = {
        "patients.csv": [
            "address_street", "address_complement", "address_city", "email", "phone",
            "mobile_phone", "job", "hobbies", "important_info", "current_treatment",
            "surgical_history", "medical_history", "family_history", "trauma_history",
            "medical_reports",
        ],
        "examinations.csv": [
            "reason", "reason_description", "orl", "visceral", "pulmo", "uro_gyneco",
            "periphery", "general_state", "medical_examination", "diagnosis", "treatments",
            "conclusion",
        ],
    }  # fmt: skip
    values = set()
    for name, columns in drop.items():
        with (SAMPLE / name).open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                values.update(row[c] for c in columns if len(row[c]) >= 6)
    return values


def test_no_clinical_text_contact_or_address_in_any_table(batches):
    forbidden = _forbidden_values()
    assert len(forbidden) > 100
    assert "Syndrome du canal carpien" in "".join(forbidden)
    for sample in [
        "Syndrome du canal carpien",
        "discopathie L5-S1",
        "brigitte_martin@hotmail.fr",
        "06 53 87 02 72",
        "mail des Landes",
        "Exercices d'étirement",
        "Dysfonction sacro-iliaque droite",
        "Séance offerte",
        "gaelle.tanguy@osteo-tilleuls.fr",
        "359912345",
        "90345678900021",
    ]:
        forbidden.add(sample)  # XLSX-only and professional values too
    for variant, batch in batches.items():
        for name, table in batch.tables().items():
            for column in table.column_names:
                if table.schema.field(column).type != "string":
                    continue
                for cell in table.column(column).to_pylist():
                    if cell is None:
                        continue
                    leaks = [v for v in forbidden if v in cell]
                    assert not leaks, f"{variant}.{name}.{column} holds source text"


def test_detect():
    assert detect(SAMPLE) and detect(SAMPLE / "invoices.xlsx") and detect(SAMPLE / "patients.csv")
    assert not detect(SAMPLE / "ground_truth.json")
    assert not detect(SAMPLE / "README.md")
    assert detect_format(SAMPLE / "examinations.xlsx") == "libreosteo"


# --- damaged and foreign files -------------------------------------------------------------


def _damaged(tmp_path: Path, kind: str) -> Path:
    if kind == "truncated csv":
        data = (SAMPLE / "examinations.csv").read_bytes()
        return _write(tmp_path / "examinations.csv", data[: len(data) // 2])
    if kind == "truncated inside a quoted field":
        data = (SAMPLE / "invoices.csv").read_bytes()
        return _write(tmp_path / "invoices.csv", data[: data.index(b"\nGa\xc3\xablle") + 1])
    if kind == "truncated xlsx":
        data = (SAMPLE / "invoices.xlsx").read_bytes()
        return _write(tmp_path / "invoices.xlsx", data[: len(data) // 2])
    if kind == "binary junk csv":
        return _write(tmp_path / "patients.csv", bytes(range(256)) * 8)
    if kind == "binary junk xlsx":
        return _write(tmp_path / "patients.xlsx", b"PK\x03\x04" + bytes(range(256)) * 8)
    if kind == "password-protected xlsx":
        return _write(tmp_path / "invoices.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))
    if kind == "xlsx that is csv":
        return _write(tmp_path / "patients.xlsx", (SAMPLE / "patients.csv").read_bytes())
    if kind == "csv that is xlsx":
        return _write(tmp_path / "patients.csv", (SAMPLE / "patients.xlsx").read_bytes())
    if kind == "empty":
        return _write(tmp_path / "examinations.csv", b"")
    if kind == "latin-1":
        text = (SAMPLE / "patients.csv").read_text(encoding="utf-8")
        return _write(tmp_path / "patients.csv", text.encode("latin-1", "replace"))
    if kind == "foreign csv":
        return _write(tmp_path / "export.csv", b"date;montant;client\r\n2024-01-02;55,00;X\r\n")
    if kind == "foreign xlsx":
        book = openpyxl.Workbook()
        book.active.append(["Date", "Total", "Client"])
        book.save(tmp_path / "ledger.xlsx")
        return tmp_path / "ledger.xlsx"
    if kind == "invoices without amount":
        with (SAMPLE / "invoices.csv").open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        header = rows[0]
        keep = [i for i, h in enumerate(header) if h != "montant"]
        path = tmp_path / "invoices.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\r\n")
            writer.writerows([[r[i] for i in keep] for r in rows])
        return path
    raise AssertionError(kind)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


DAMAGED = [
    "truncated csv",
    "truncated inside a quoted field",
    "truncated xlsx",
    "binary junk csv",
    "binary junk xlsx",
    "password-protected xlsx",
    "xlsx that is csv",
    "csv that is xlsx",
    "empty",
    "latin-1",
    "foreign csv",
    "foreign xlsx",
    "invoices without amount",
]


@pytest.mark.parametrize("kind", DAMAGED)
def test_damaged_file_is_one_line_input_error(tmp_path, kind):
    path = _damaged(tmp_path, kind)
    with pytest.raises(InputError) as info:
        read_libreosteo([path])
    message = str(info.value)
    assert path.name in message and "\n" not in message
    assert str(tmp_path) not in message
    for value in ("Martin", "Tanguy", "55.0", "Brigitte"):
        assert value not in message
    if kind.startswith("foreign") or "junk" in kind:
        assert not detect(path)


def test_damaged_known_file_in_folder_is_reported(tmp_path):
    folder = tmp_path / "export"
    shutil.copytree(SAMPLE, folder)
    _write(folder / "notes.csv", b"not,a,libreosteo\r\nfile,at,all\r\n")  # skipped
    assert read_libreosteo([folder]).consultations.num_rows == 250
    data = (folder / "examinations.xlsx").read_bytes()
    _write(folder / "examinations.xlsx", data[:1000])
    with pytest.raises(InputError, match=r"examinations\.xlsx"):
        read_libreosteo([folder])


def test_missing_paths(tmp_path):
    with pytest.raises(InputError, match="aucun export LibreOsteo donné"):
        read_libreosteo([])
    with pytest.raises(InputError, match="nothing : fichier ou dossier introuvable"):
        read_libreosteo([tmp_path / "nothing"])
    with pytest.raises(InputError, match=r"aucun export LibreOsteo \(\.csv ou \.xlsx\)"):
        read_libreosteo([tmp_path])


def test_unparseable_rows_are_quarantined_without_values(tmp_path):
    with (SAMPLE / "invoices.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    rows[1][header.index("montant")] = "soixante"  # record 2
    rows[2][header.index("date")] = "26/02/2025"  # record 3
    rows[3][header.index("Prénom du patient")] = "Inconnu"  # record 4: no such patient
    rows[4] = [""] * len(header)  # record 5: blank
    rows[5] = rows[5][:10]  # record 6: cut short
    path = tmp_path / "invoices.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows(rows)
    batch = read_libreosteo([SAMPLE / "patients.csv", SAMPLE / "examinations.csv", path])
    report = next(r for r in batch.files if r.path == path)
    report.assert_balanced()
    assert (report.rows_read, report.accepted) == (244, 239)
    assert (report.quarantined, report.excluded) == (4, 1)
    got = {(r.source_row, r.column, r.rule) for r in batch.rejected}
    assert got == {
        (2, "montant", "bad_amount"),
        (3, "date", "bad_date"),
        (4, "*", "unknown_patient"),
        (6, "*", "wrong_field_count"),
    }
    assert all(r.source_file == "invoices.csv" for r in batch.rejected)


# --- cell rules ------------------------------------------------------------------------------


def test_unparseable_xlsx_cells_are_quarantined(tmp_path):
    book = openpyxl.load_workbook(SAMPLE / "examinations.xlsx")
    sheet = book.active
    header = [c.value for c in sheet[1]]
    sheet.cell(row=3, column=header.index("date") + 1).value = "hier"
    sheet.cell(row=4, column=header.index("type") + 1).value = "urgent"
    sheet.cell(row=5, column=header.index("invoices_list") + 1).value = "[{oops"
    book.save(tmp_path / "examinations.xlsx")
    batch = read_libreosteo([SAMPLE / "patients.xlsx", tmp_path / "examinations.xlsx"])
    report = batch.files[1]
    assert (report.rows_read, report.accepted, report.quarantined) == (250, 247, 3)
    assert report.reasons == {"bad_date": 1, "bad_code": 1, "bad_json": 1}
    assert {(r.source_row, r.column, r.rule) for r in batch.rejected} == {
        (3, "date", "bad_date"),
        (4, "type", "bad_code"),
        (5, "invoices_list", "bad_json"),
    }


def test_examination_date_is_the_last_date_column(tmp_path, batches):
    """A writer that labels last_invoice.date plainly "date" must not shift sessions."""
    book = openpyxl.load_workbook(SAMPLE / "examinations.xlsx")
    sheet = book.active
    assert sheet["H1"].value == "last_invoice.date"
    sheet["H1"].value = "date"
    book.save(tmp_path / "examinations.xlsx")
    batch = read_libreosteo([SAMPLE / "patients.xlsx", tmp_path / "examinations.xlsx"])
    cols = ["consultation_ref", "consulted_on", "start_time", "status", "consultation_type"]
    assert batch.consultations.select(cols) == batches["xlsx"].consultations.select(cols)


@pytest.mark.parametrize(
    ("code", "reason", "status"),
    [
        (3, "Séance offerte (contrôle)", "done"),
        (3, "Séance écourtée, non facturée", "done"),
        (3, "Geste commercial", "done"),
        (3, "RDV annulé par le patient", "cancelled"),
        (3, "Patient absent", "no_show"),
        (3, "Rendez-vous non honoré", "no_show"),
        (3, "Lapin", "no_show"),
        (3, None, "done"),
        (2, "Patient absent", "done"),  # the reason only matters for status 3
        (0, None, "done"),  # in progress: the session has started
    ],
)
def test_examination_status_rules(code, reason, status):
    assert exam_status(code, reason) == status


@pytest.mark.parametrize(
    ("code", "label", "method"),
    [
        ("cash", "Espèces", "especes"),
        ("check", "Chèque", "cheque"),
        ("ecard", "Carte Bancaire", "cb"),
        ("transfer", "Virement", "virement"),
        ("vir", None, "virement"),
        ("x1", "Virement bancaire", "virement"),
        ("notpaid", "n/a", "autre"),
        ("ancv", "Chèques vacances", "autre"),
        (None, None, "autre"),
    ],
)
def test_payment_methods(code, label, method):
    assert payment_method(code, label) == method


def test_drf_excel_apostrophe_is_stripped_once():
    assert lf.text("'- Exercices", True) == "- Exercices"
    assert lf.text("'+33 6 32 10 69 25", True) == "+33 6 32 10 69 25"
    assert lf.text("'=SUM(A1)", True) == "=SUM(A1)"
    assert lf.text("''=x", True) == "''=x"  # drf-excel never prefixes a leading "'"
    assert lf.text("'O'Neil", True) == "'O'Neil"  # not drf-excel's: kept
    assert lf.text("'-x", False) == "'-x"  # CSV is never sanitized


def test_datetimes_are_paris_wall_clock():
    assert str(lf.local_datetime("2024-07-18T10:30:00+02:00")) == "2024-07-18 10:30:00"
    assert str(lf.local_datetime("2024-03-21T14:00:00+01:00")) == "2024-03-21 14:00:00"
    assert str(lf.local_datetime("2024-12-31T23:30:00+00:00")) == "2025-01-01 00:30:00"
    assert str(lf.local_datetime(45372.625)) == "2024-03-21 15:00:00"  # bare Excel serial
    with pytest.raises(lf.BadValue):
        lf.local_datetime("21/03/2024 14:00")


@given(st.decimals(min_value=-100_000, max_value=100_000, places=2))
def test_amounts_are_exact(value):
    assert lf.amount(float(value)) == value  # XLSX numeric cell
    assert lf.amount(repr(float(value))) == value  # CSV '55.0'


@pytest.mark.parametrize("text", ["", "abc", "nan", "inf", "1e99", True])
def test_bad_amounts(text):
    with pytest.raises(lf.BadValue, match="bad_amount"):
        lf.amount(text)


def test_ten_thousand_rows_read_whole(tmp_path):
    """10k examinations + 9.8k invoices (CSV) are all read and linked.

    Speed is measured by `make bench` (ratios against a baseline in the same process),
    never by a stopwatch in the test suite, which a loaded machine makes flaky.
    """
    with (SAMPLE / "examinations.csv").open(encoding="utf-8", newline="") as fh:
        exam_rows = list(csv.reader(fh))
    with (SAMPLE / "invoices.csv").open(encoding="utf-8", newline="") as fh:
        invoice_rows = list(csv.reader(fh))
    eh, ih = exam_rows[0], invoice_rows[0]
    exams, invoices = [eh], [ih]
    for k in range(40):  # 40 copies of the sample, each shifted by k years
        for row in exam_rows[1:]:
            row = list(row)
            row[eh.index("date")] = (
                str(int(row[eh.index("date")][:4]) + k) + row[eh.index("date")][4:]
            )
            exams.append(row)
        for row in invoice_rows[1:]:
            row = list(row)
            row[ih.index("Numéro")] = f"{k}-{row[ih.index('Numéro')]}"
            row[ih.index("id")] = f"{k}{row[ih.index('id')]:0>4}"
            invoices.append(row)
    for name, rows in (("examinations.csv", exams), ("invoices.csv", invoices)):
        with (tmp_path / name).open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\r\n").writerows(rows)
    shutil.copy(SAMPLE / "patients.xlsx", tmp_path)
    batch = read_libreosteo([tmp_path])
    assert batch.consultations.num_rows == 10_000
    assert batch.invoices.num_rows == 244 * 40
    assert batch.rejected == []

"""The LibreOsteo adapter against real LibreOsteo exports and their ground truth.

The sample (``tests/data/libreosteo-sample``) was written by LibreOsteo's own code;
``ground_truth.json`` was computed with SQL on the database behind it. Every figure is
recomputed here with DuckDB SQL over the stage-1 tables, money exact to the cent.
"""

from __future__ import annotations

import csv
import datetime as dt
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

from osteo_analytics import vault, workspace
from osteo_analytics.errors import InputError
from osteo_analytics.sources import SourceBatch, detect_format, read_libreosteo
from osteo_analytics.sources.libreosteo import detect
from osteo_analytics.sources.libreosteo import files as lf
from osteo_analytics.sources.libreosteo.rows import exam_status, payment_method
from tests.conftest import LIBREOSTEO_SAMPLE, PASSPHRASE, osteo

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


def test_an_export_re_encoded_to_windows_1252_reads_like_the_original(tmp_path):
    """Once refused (LibreOsteo writes UTF-8); every adapter now decodes Windows-1252."""
    text = (SAMPLE / "patients.csv").read_text(encoding="utf-8")
    path = _write(tmp_path / "patients.csv", text.encode("cp1252"))
    assert read_libreosteo([path]).patients == read_libreosteo([SAMPLE / "patients.csv"]).patients


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


# --- namesakes (homonymous patients) ---------------------------------------------------------
# A hand-made export in the sample's format. Invoices name their patient by family, birth and
# first name and address only; namesakes are told apart by those fields, by the credit note a
# corrective invoice follows, or by the session of the day; what stays ambiguous is quarantined.

# patient: family, birth name, first name, birth date, street, complement, postcode, city
NAMESAKES = {
    "A1": ("Martin", "", "Julie", "1980-01-10", "3, rue des Lices", "", "35000", "Rennes"),
    "A2": ("Martin", "", "Julie", "1975-05-05", "8 rue de la Poterie", "", "35500", "Vitré"),
    "B1": ("Le Gall", "", "Jean-Pierre", "1950-01-01", "10 rue Hoche", "", "35000", "Rennes"),
    "B2": ("Le Gall", "", "Jean-Pierre", "1990-02-02", "22 rue Châtillon", "", "35000", "Rennes"),
    "C1": ("Morvan", "", "Yves", "1960-06-06", "4 allée des Ormes", "Bât. B", "35000", "Rennes"),
    "C2": ("Morvan", "", "Yves", "1988-08-08", "4 allée des Ormes", "Bât. B", "35000", "Rennes"),
    "C3": ("Morvan", "", "Yves", "2001-01-01", "7 quai Duguay-Trouin", "", "29200", "Brest"),
    "D1": ("Le Bihan", "Kerouac", "Marie", "1955-03-03", "9 rue d'Antrain", "", "35700", "Rennes"),
    "D2": ("Le Bihan", "", "Marie", "1985-04-04", "9 rue d'Antrain", "", "35700", "Rennes"),
}  # fmt: skip
# sessions: patient, start (March 2024, Paris winter time)
SESSIONS = [
    ("A1", "04 10:30"), ("A2", "04 11:15"),  # same day: only the address separates them
    ("B1", "04 14:00"), ("B2", "04 14:00"),  # same city, same hour: only the street
    ("C1", "05 09:00"),  # C1 and C2 share name and address: only the day of their sessions
    ("D1", "05 10:30"), ("D2", "05 10:30"),  # same address: the birth name
    ("C2", "06 14:00"), ("C3", "06 09:00"),
    ("C1", "08 10:30"),  # the day C2's invoice is corrected
    ("C1", "12 09:00"), ("C2", "12 09:45"),  # back to back: each invoice closes one session
    ("C1", "13 14:00"), ("C2", "13 14:00"),  # same hour: only examinations.xlsx can tell
    ("C2", "14 09:00"), ("C1", "15 10:30"),  # replacement invoice, issued on C1's day
]  # fmt: skip
# invoices: number, patient (the snapshot is their file, or RESPELLED), time, amount, type,
# status, cancelled by (number), replaces (number)
INVOICES = [
    ("24001", "A1", "04 11:15", "55.0", "invoice", 2, None, None),
    ("24002", "A2", "04 12:00", "55.0", "invoice", 2, None, None),
    ("24003", "B2", "04 14:45", "55.0", "invoice", 2, None, None),
    ("24004", "B1", "04 14:45", "55.0", "invoice", 2, None, None),
    ("24005", "C1", "05 09:45", "55.0", "invoice", 2, None, None),
    ("24006", "D1", "05 11:15", "55.0", "invoice", 2, None, None),
    ("24007", "D2", "05 11:15", "55.0", "invoice", 2, None, None),
    ("24008", "C2", "06 14:45", "55.0", "invoice", 3, "24010", None),
    ("24009", "C3", "06 09:45", "55.0", "invoice", 2, None, None),
    ("24010", "C2", "08 19:30", "-55.0", "creditnote", 2, None, None),
    ("24011", "C2", "08 19:33", "45.0", "invoice", 2, None, None),  # corrective, no session
    ("24012", "C1", "08 11:15", "55.0", "invoice", 2, None, None),
    ("24013", "C1", "11 16:00", "55.0", "invoice", 2, None, None),  # no session: ambiguous
    ("24014", "C1", "12 09:45", "55.0", "invoice", 2, None, None),
    ("24015", "C2", "12 10:30", "55.0", "invoice", 2, None, None),
    ("24016", "C1", "13 14:45", "55.0", "invoice", 2, None, None),
    ("24017", "C2", "13 14:45", "55.0", "invoice", 2, None, None),
    ("24018", "C2", "14 09:45", "55.0", "invoice", 3, "24019", None),
    ("24019", "C2", "15 19:30", "50.0", "invoice", 2, None, "24018"),
]
# How an invoice may spell what the patient file says: case, accents, punctuation, spacing.
RESPELLED = {"B2": ("LE GALL", "", "JEAN PIERRE", "", "22, Rue  CHATILLON", "", "35000", "RENNES")}
AMBIGUOUS_IN_CSV = {"24013", "24016", "24017"}
SESSION_DAY = {"24011": "06", "24019": "14"}  # re-issued and replacement: the session's day


def _csv_rows(name: str) -> list[list[str]]:
    with (SAMPLE / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def _write_csv(path: Path, rows: list[list[Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows(rows)


def _at(when: str) -> str:
    return f"2024-03-{when}:00+01:00"


def _column(header: list[str], label: str, occurrence: int = 0) -> int:
    return [i for i, h in enumerate(header) if h == label][occurrence]


def _namesakes_export(folder: Path, *, xlsx: bool = False) -> Path:
    """patients.csv, examinations.csv (or .xlsx) and invoices.csv of the namesakes above."""
    folder.mkdir()
    rows = _csv_rows("patients.csv")
    header, template = rows[0], rows[1]
    patients = [header]
    for family, birth_name, first, born, street, complement, zipcode, city in NAMESAKES.values():
        row = dict(zip(header, template, strict=True))
        row.update(family_name=family, original_name=birth_name, first_name=first)
        row.update(birth_date=born, address_street=street, address_complement=complement)
        row.update(address_zipcode=zipcode, address_city=city)
        patients.append(list(row.values()))
    _write_csv(folder / "patients.csv", patients)

    rows = _csv_rows("invoices.csv")
    header = rows[0]
    template = next(r for r in rows[1:] if r[header.index("code mode de paiement")] == "ecard")
    ids = {number: str(n) for n, (number, *_) in enumerate(INVOICES, start=1)}
    where = {
        "family": _column(header, "Nom d'usage du patient"),
        "birth_name": _column(header, "Nom du patient"),
        "first": _column(header, "Prénom du patient"),
        "street": _column(header, "Rue"),
        "complement": _column(header, "Complément d'adresse", 1),
        "zipcode": _column(header, "Code postal", 1),
        "city": _column(header, "Ville", 1),
    }
    invoices = [header]
    for number, who, when, amount, kind, status, cancelled_by, replaces in INVOICES:
        row = [
            "" if h.startswith("paiments_list.") else value
            for h, value in zip(header, template, strict=True)
        ]
        snapshot = RESPELLED.get(who, NAMESAKES[who])
        family, birth_name, first, _, street, complement, zipcode, city = snapshot
        for field, value in zip(
            where, (family, birth_name, first, street, complement, zipcode, city), strict=True
        ):
            row[where[field]] = value
        row[header.index("Numéro")], row[header.index("id")] = number, ids[number]
        row[header.index("date")], row[header.index("montant")] = _at(when), amount
        row[header.index("type")] = kind
        row[header.index("Etat (1=En attente de paiement,2=Payé)")] = str(status)
        row[header.index("Annulée par")] = ids[cancelled_by] if cancelled_by else ""
        row[header.index("Remplacée par")] = replaces or ""
        invoices.append(row)
    _write_csv(folder / "invoices.csv", invoices)

    own: dict[tuple[str, str], list[str]] = {}  # (patient, day) -> ids of its invoices
    for number, who, when, _, kind, *_ in INVOICES:
        if kind == "invoice":  # a credit note is linked through the invoice it cancels
            own.setdefault((who, SESSION_DAY.get(number, when[:2])), []).append(ids[number])
    if xlsx:
        _write_examinations_xlsx(folder / "examinations.xlsx", own)
        return folder
    rows = _csv_rows("examinations.csv")
    header, template = rows[0], rows[1]
    exams = [header]
    for who, when in SESSIONS:
        family, _, first, born, *_ = NAMESAKES[who]
        row = dict(zip(header, template, strict=True))
        row["patient_detail.first_name"], row["patient_detail.family_name"] = first, family
        row["patient_detail.birth_date"], row["date"] = born, _at(when)
        exams.append(list(row.values()))
    _write_csv(folder / "examinations.csv", exams)
    return folder


def _write_examinations_xlsx(path: Path, own: dict[tuple[str, str], list[str]]) -> None:
    """examinations.xlsx: the sample's layout, each session linked to its invoices (Facture)."""
    sample = openpyxl.load_workbook(SAMPLE / "examinations.xlsx").active
    header = [c.value for c in sample[1]]
    template = [c.value for c in sample[2]]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Report"
    sheet.append(header)
    invoice_block = range(_column(header, "invoice_number"), _column(header, "Nom d’utilisateur"))
    for n, (who, when) in enumerate(SESSIONS, start=1):
        family, _, first, born, *_ = NAMESAKES[who]
        row = [None if i in invoice_block else v for i, v in enumerate(template)]
        row[_column(header, "ID")] = n
        row[_column(header, "Nom de famille", -1)] = family
        row[_column(header, "Prénom", -1)] = first
        row[_column(header, "Date de naissance")] = dt.datetime.fromisoformat(born)
        row[_column(header, "date", -1)] = dt.datetime.fromisoformat(_at(when)[:19])
        row[_column(header, "État", -1)], row[_column(header, "type")] = 2, 2
        row[_column(header, "Facture")] = ", ".join(own.get((who, when[:2]), [])) or None
        sheet.append(row)
    book.save(path)


def _birth_by_invoice(batch: SourceBatch) -> dict[str, str]:
    rows = batch.invoices.select(["invoice_number", "patient_birth_date"]).to_pylist()
    return {r["invoice_number"]: str(r["patient_birth_date"]) for r in rows}


def _expected_births(skip: set[str]) -> dict[str, str]:
    return {number: NAMESAKES[who][3] for number, who, *_ in INVOICES if number not in skip}


def test_namesakes_are_told_apart_by_address_credit_note_and_session(tmp_path):
    """CSV only: the address, the birth name, the credit note just before, the session."""
    batch = read_libreosteo([_namesakes_export(tmp_path / "export")])
    assert _birth_by_invoice(batch) == _expected_births(AMBIGUOUS_IN_CSV)
    for report in batch.files:
        report.assert_balanced()
    # a linked invoice belongs to its patient's session of the day, if any
    con = connect(batch)
    sql = """SELECT i.invoice_number, c.patient_birth_date = i.patient_birth_date
             FROM invoices i LEFT JOIN consultations c USING (consultation_ref)
             WHERE i.status <> 'credit_note' ORDER BY 1"""
    linked = dict(con.execute(sql).fetchall())
    assert linked.pop("24011") is None  # the corrective invoice: no session that day
    assert set(linked.values()) == {True}


def test_what_stays_ambiguous_is_quarantined_with_the_number_of_candidates(tmp_path):
    batch = read_libreosteo([_namesakes_export(tmp_path / "export")])
    rows = {r["Numéro"]: n for n, r in enumerate(_invoice_dicts(tmp_path / "export"), start=2)}
    rejected = {(r.source_file, r.source_row, r.column, r.rule) for r in batch.rejected}
    assert rejected == {
        ("invoices.csv", rows[n], "*", "ambiguous_patient") for n in AMBIGUOUS_IN_CSV
    }
    # Morvan Yves: three patients, two at the invoice's address: two candidates, no names
    reasons = {r.reason for r in batch.rejected}
    assert len(reasons) == 1
    (reason,) = reasons
    assert reason.startswith("patient ambigu : 2 patients portent ces nom et prénom")
    for value in ("Morvan", "Yves", "Ormes", "Rennes", "1960", "1988"):
        assert value not in reason
    report = next(r for r in batch.files if r.path.name == "invoices.csv")
    assert report.reasons == {"ambiguous_patient": 3}


def _invoice_dicts(folder: Path) -> list[dict[str, str]]:
    with (folder / "invoices.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_examinations_xlsx_tells_apart_namesakes_seen_at_the_same_hour(tmp_path):
    batch = read_libreosteo([_namesakes_export(tmp_path / "export", xlsx=True)])
    assert _birth_by_invoice(batch) == _expected_births({"24013"})
    assert [r.rule for r in batch.rejected] == ["ambiguous_patient"]  # 24013: no session
    con = connect(batch)
    sql = """SELECT count(*) FROM invoices i JOIN consultations c USING (consultation_ref)
             WHERE i.patient_birth_date = c.patient_birth_date"""
    assert con.execute(sql).fetchone() == (len(INVOICES) - 1,)


def _numbers(batch: SourceBatch, folder: Path) -> set[str]:
    """Invoice numbers of the rows the batch rejected."""
    rows = {n: r["Numéro"] for n, r in enumerate(_invoice_dicts(folder), start=2)}
    return {rows[r.source_row] for r in batch.rejected}


def test_without_patient_files_only_sessions_and_credit_notes_tell(tmp_path):
    """examinations.csv and invoices.csv alone: no address, no birth name to compare."""
    folder = _namesakes_export(tmp_path / "export")
    batch = read_libreosteo([folder / "examinations.csv", folder / "invoices.csv"])
    births, expected = _birth_by_invoice(batch), _expected_births(set())
    # A1/A2, C1/C2 back to back, the corrective invoice and the replacement still link
    for number in ("24001", "24002", "24005", "24008", "24011", "24014", "24015", "24019"):
        assert births[number] == expected[number]
    # B1 and B2 at the same hour, D1 and D2 too: nothing left to tell them apart
    assert _numbers(batch, folder) == AMBIGUOUS_IN_CSV | {"24003", "24004", "24006", "24007"}
    assert {r.rule for r in batch.rejected} == {"ambiguous_patient"}


def test_an_ambiguous_invoice_reaches_the_encrypted_quarantine_with_its_reason(tmp_path):
    export = _namesakes_export(tmp_path / "export")
    ws = tmp_path / "ws"
    workspace.init_workspace(ws, PASSPHRASE, work_factor=10)
    result = osteo("import", str(export), workspace=ws, env={"OSTEO_PASSPHRASE": PASSPHRASE})
    assert result.returncode == 0, result.stderr
    assert "facture au nom de plusieurs patients homonymes : 3" in result.stdout
    assert "Morvan" not in result.stdout + result.stderr
    unlocked = workspace.Workspace(ws).unlock(PASSPHRASE)
    (folder,) = unlocked.workspace.quarantine_dir.iterdir()
    plain = vault.decrypt((folder / "unparsed.json.age").read_bytes(), unlocked.identities)
    records = json.loads(plain)
    assert sorted(r["source_row"] for r in records) == sorted(
        n for n, r in enumerate(_invoice_dicts(export), start=2) if r["Numéro"] in AMBIGUOUS_IN_CSV
    )
    assert {r["rule"] for r in records} == {"ambiguous_patient"}
    assert all(r["reason"].startswith("patient ambigu : 2 patients") for r in records)
    assert b"Morvan" not in plain


# --- the synthetic practice, namesakes included -----------------------------------------------

MONEY_KEYS = ("revenue_invoiced", "revenue_received", "received_by_method")
MONEY_KEYS += ("unpaid_invoices", "unpaid_amount")
METHODS = ("cb", "cheque", "especes", "virement", "autre")


@pytest.fixture(scope="module")
def synthetic_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-year practice of 150 patients with its namesakes (see synthetic.people)."""
    from osteo_analytics.synthetic import synthesize

    out = tmp_path_factory.mktemp("synth") / "out"
    synthesize(out, seed=7, years=1, patients=150, formats=("libreosteo",))
    return out / "libreosteo"


def _stage1_months(batch: SourceBatch, months: list[str]) -> dict[str, dict[str, Any]]:
    """The ground truth's monthly figures, recomputed with SQL on the adapter's tables."""
    con = connect(batch)
    out: dict[str, dict[str, Any]] = {
        m: {
            "revenue_invoiced": "0.00",
            "revenue_received": "0.00",
            "received_by_method": dict.fromkeys(METHODS, "0.00"),
            "unpaid_invoices": 0,
            "unpaid_amount": "0.00",
            "consultations_done": 0,
            "consultations_cancelled": 0,
            "consultations_no_show": 0,
            "new_patients": 0,
            "active_patients": 0,
        }
        for m in months
    }  # fmt: skip
    live = "status IN ('issued', 'paid')"
    for month, value in con.execute(
        f"SELECT strftime(issued_on, '%Y-%m'), sum(amount) FROM invoices WHERE {live} GROUP BY 1"
    ).fetchall():
        out[month]["revenue_invoiced"] = str(value)
    sql = "SELECT strftime(paid_on, '%Y-%m'), method, sum(amount) FROM payments GROUP BY 1, 2"
    for month, method, value in con.execute(sql).fetchall():
        out[month]["received_by_method"][method] = str(value)
    for figures in out.values():
        total = sum(Decimal(v) for v in figures["received_by_method"].values())
        figures["revenue_received"] = str(total.quantize(CENT))
    sql = f"""WITH got AS (SELECT invoice_number, sum(amount) AS paid FROM payments GROUP BY 1),
                   due AS (SELECT strftime(issued_on, '%Y-%m') AS month,
                                  amount - coalesce(paid, 0) AS due
                           FROM invoices LEFT JOIN got USING (invoice_number) WHERE {live})
              SELECT month, count(*), sum(due) FROM due WHERE due > 0 GROUP BY 1"""
    for month, count, value in con.execute(sql).fetchall():
        out[month]["unpaid_invoices"], out[month]["unpaid_amount"] = count, str(value)
    sql = (
        "SELECT strftime(consulted_on, '%Y-%m'), status, count(*) FROM consultations GROUP BY 1, 2"
    )
    for month, status, count in con.execute(sql).fetchall():
        out[month][f"consultations_{status}"] = count
    patient = "(lower(patient_family_name), lower(patient_first_name), patient_birth_date)"
    done = f"SELECT {MONTH} AS month, {patient} AS who FROM consultations WHERE status = 'done'"
    sql = f"SELECT month, count(DISTINCT who) FROM ({done}) GROUP BY 1"
    for month, count in con.execute(sql).fetchall():
        out[month]["active_patients"] = count
    for (month,) in con.execute(f"SELECT min(month) FROM ({done}) GROUP BY who").fetchall():
        out[month]["new_patients"] += 1
    return out


@pytest.mark.parametrize(
    "files",
    [
        ["."],
        ["patients.csv", "examinations.csv", "invoices.csv"],
        ["patients.csv", "examinations.csv", "invoices.xlsx"],
    ],
    ids=["full", "csv", "served"],
)
def test_synthetic_namesakes_are_all_linked_and_the_truth_reproduced(synthetic_export, files):
    """Zero quarantined rows, every invoice on its true patient, the truth month by month.

    The CSV files alone have no session status: only the money figures can be compared.
    """
    truth = json.loads((synthetic_export / "ground_truth.json").read_text(encoding="utf-8"))
    batch = read_libreosteo([synthetic_export / f for f in files])
    assert batch.rejected == []
    for report in batch.files:
        report.assert_balanced()
        assert report.quarantined == 0
    full = read_libreosteo([synthetic_export])
    assert _birth_by_invoice(batch) == _birth_by_invoice(full)  # the xlsx link is exact
    got = _stage1_months(batch, [m["month"] for m in truth["months"]])
    keys = [k for k in truth["months"][0] if k != "month"] if files == ["."] else MONEY_KEYS
    for month in truth["months"]:
        assert {k: got[month["month"]][k] for k in keys} == {k: month[k] for k in keys}

"""`osteo metrics` and `osteo sql` through the real command line, on the LibreOsteo sample."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from osteo_analytics import ingest, workspace
from osteo_analytics.formatting import euros
from tests.conftest import PASSPHRASE, osteo

ENV = {"OSTEO_PASSPHRASE": PASSPHRASE}
METHODS = ["cb", "cheque", "especes", "virement", "autre"]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory, libreosteo_sample: Path) -> Path:
    """The sample imported into a workspace with a cheap scrypt, so each command unlocks fast."""
    root = tmp_path_factory.mktemp("cli") / "ws"
    unlocked = workspace.init_workspace(root, PASSPHRASE, work_factor=10).unlocked
    ingest.import_paths(unlocked, [libreosteo_sample])
    return root


def _one_line_error(stderr: str) -> None:
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert stderr.startswith("Erreur : ")


def test_metrics_json_is_the_headline_document(ws: Path) -> None:
    result = osteo("metrics", "--format", "json", workspace=ws, env=ENV)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert list(document) == ["from", "to", "months", "totals"]
    assert (document["from"], document["to"]) == ("2024-03-01", "2025-02-28")
    assert len(document["months"]) == 12
    for month in document["months"]:
        assert list(month) == [
            "month",
            "consultations_done",
            "consultations_cancelled",
            "consultations_no_show",
            "new_patients",
            "active_patients",
            "revenue_invoiced",
            "revenue_received",
            "received_by_method",
            "unpaid_invoices",
            "unpaid_amount",
        ]
        assert list(month["received_by_method"]) == METHODS
    totals = document["totals"]
    assert totals["revenue_invoiced"] == "12710.00"
    assert totals["revenue_received"] == "12447.50"
    assert totals["received_by_method"] == {
        "cb": "6955.00",
        "cheque": "3660.00",
        "especes": "1832.50",
        "virement": "0.00",
        "autre": "0.00",
    }
    assert (totals["unpaid_invoices"], totals["unpaid_amount"]) == (5, "262.50")
    assert totals["consultations_done"] == 250 and totals["distinct_patients"] == 38
    assert "active_patients" not in totals


def test_metrics_period_options(ws: Path) -> None:
    result = osteo(
        "metrics", "--from", "2024-06-01", "--to", "2024-08-31", "--format", "json",
        workspace=ws, env=ENV,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert [m["month"] for m in document["months"]] == ["2024-06", "2024-07", "2024-08"]
    # an invoice of July paid in September is still due on 31 August
    assert document["months"][2]["unpaid_invoices"] == 2
    assert document["totals"]["revenue_invoiced"] == "4142.50"


def test_metrics_csv_one_line_per_month(ws: Path) -> None:
    result = osteo("metrics", "--format", "csv", workspace=ws, env=ENV)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 12
    assert rows[0]["month"] == "2024-03"
    assert list(rows[0])[-7:] == [
        *(f"received_{m}" for m in METHODS),
        "unpaid_invoices",
        "unpaid_amount",
    ]
    assert sum(Decimal(r["revenue_invoiced"]) for r in rows) == Decimal("12710.00")


def test_metrics_table_is_french(ws: Path) -> None:
    result = osteo("metrics", workspace=ws, env=ENV)
    assert result.returncode == 0, result.stderr
    assert "mars 2024" in result.stdout and "février 2025" in result.stdout
    assert euros(Decimal("12710.00")) in result.stdout  # 12 710,00 €
    assert "Facturé" in result.stdout and "Encaissé" in result.stdout


def test_metrics_table_names_methods_with_the_contract_labels(ws: Path) -> None:
    """One French label per payment method, the contract's, on the practitioner's screen."""
    from osteo_analytics.contracts.model import labels

    result = osteo("metrics", workspace=ws, env=ENV)
    assert result.returncode == 0, result.stderr
    header = next(line for line in result.stdout.splitlines() if "encaissé" in line)
    names = [cell.strip() for cell in header.strip("┃│ ").split("┃")]
    method_labels = labels("payments", "method")
    assert names[3:8] == [method_labels[m] for m in METHODS]
    assert names[3] == "Carte bancaire"  # not "Carte" (a carte Vitale? a gift card?)


def test_metrics_empty_period_is_bad_usage(ws: Path) -> None:
    result = osteo("metrics", "--from", "2025-01-01", "--to", "2024-01-01", workspace=ws, env=ENV)
    assert result.returncode == 2
    _one_line_error(result.stderr)


def test_metrics_wrong_passphrase_is_one_line(ws: Path) -> None:
    result = osteo("metrics", workspace=ws, env={"OSTEO_PASSPHRASE": "pas la bonne phrase"})
    assert result.returncode == 1
    _one_line_error(result.stderr)


def test_sql_command_json_and_csv(ws: Path) -> None:
    result = osteo(
        "sql", "-c", "SELECT count(*) AS n FROM consultations", "--format", "json",
        workspace=ws, env=ENV,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"n": 250}]
    aging = osteo(
        "sql", "-c", "SELECT bucket, due FROM unpaid_aging", "--format", "csv",
        workspace=ws, env=ENV,
    )  # fmt: skip
    assert aging.returncode == 0, aging.stderr
    assert aging.stdout.splitlines()[0] == "bucket,due"
    assert len(aging.stdout.splitlines()) == 5
    money = osteo(
        "sql", "-c", "SELECT sum(amount) AS s FROM payments", "--format", "json",
        workspace=ws, env=ENV,
    )  # fmt: skip
    assert json.loads(money.stdout) == [{"s": "12447.50"}]  # exact decimal, as a string


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM read_csv('{sample}/patients.csv')",
        "COPY payments TO '{tmp}/out.csv'",
        "SET memory_limit = '64GB'",
        "INSTALL httpfs",
        "SELEC 1",
    ],
)
def test_sql_errors_are_one_line_and_exit_2(
    ws: Path, libreosteo_sample: Path, tmp_path: Path, statement: str
) -> None:
    query = statement.format(sample=libreosteo_sample, tmp=tmp_path)
    result = osteo("sql", "-c", query, workspace=ws, env=ENV)
    assert result.returncode == 2
    _one_line_error(result.stderr)
    assert not list(tmp_path.iterdir())


def test_sql_prompt_reads_until_semicolon_and_survives_errors(ws: Path) -> None:
    session = (
        "SELECT count(*)\n  AS n FROM invoices;\n"
        "SELECT * FROM nowhere;\n"
        ".tables\n"
        "SELECT 2 AS two;\n"
        ".quit\n"
        "SELECT 3 AS three;\n"
    )
    result = osteo("sql", "--format", "csv", workspace=ws, env=ENV, input=session)
    assert result.returncode == 0, result.stderr
    assert "n\n244\n" in result.stdout
    assert "two\n2\n" in result.stdout
    assert "three" not in result.stdout
    assert "revenue_by_method" in result.stdout  # .tables
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Erreur")]
    assert len(errors) == 1 and "nowhere" in errors[0]


def test_sql_prompt_ends_at_end_of_input(ws: Path) -> None:
    result = osteo("sql", workspace=ws, env=ENV, input="SELECT 1 AS one;\n")
    assert result.returncode == 0, result.stderr
    assert "one" in result.stdout


# --- osteo sql is read-only --------------------------------------------------------------

# Counts of everything a statement could create or change, printed before and after.
FINGERPRINT = (
    "SELECT (SELECT count(*) FROM duckdb_tables()) AS tables,"
    " (SELECT count(*) FROM duckdb_views()) AS views,"
    " (SELECT count(*) FROM duckdb_functions() WHERE NOT internal) AS macros,"
    " (SELECT count(*) FROM duckdb_sequences()) AS sequences,"
    " (SELECT count(*) FROM duckdb_types() WHERE NOT internal) AS types,"
    " (SELECT count(*) FROM duckdb_databases()) AS databases,"
    " (SELECT count(*) FROM payments) AS payments,"
    " (SELECT sum(amount) FROM store.invoices) AS invoiced,"
    " current_setting('threads') AS threads;"
)
REFUSED = [
    "CREATE TABLE made AS SELECT 1",
    "CREATE TEMP TABLE scratch AS SELECT * FROM payments",
    "CREATE VIEW seen AS SELECT 1",
    "CREATE OR REPLACE VIEW payments AS SELECT 1 AS amount",
    "CREATE MACRO twice(x) AS x * 2",
    "CREATE SEQUENCE numbers",
    "CREATE TYPE mood AS ENUM ('ok')",
    "INSERT INTO store.payments SELECT * FROM store.payments",
    "UPDATE store.invoices SET amount = 0",
    "DELETE FROM store.payments",
    "TRUNCATE store.payments",
    "DROP VIEW payments",
    "ALTER TABLE store.invoices ADD COLUMN extra INTEGER",
    "SET threads = 1",
    "RESET threads",
    "PRAGMA threads = 1",
    "PRAGMA enable_profiling",
    "ATTACH ':memory:' AS other",
    "COPY store.payments TO 'payments.csv'",
    "EXPORT DATABASE 'export'",
    "INSTALL httpfs",
    "LOAD json",
    "CHECKPOINT",
    "CALL pragma_version()",
    "BEGIN TRANSACTION",
    "PREPARE again AS SELECT 1",
    "PIVOT payments ON method",  # without an IN list PIVOT creates an enum type first
    "UPDATE EXTENSIONS",
    # what a keyword filter would miss
    "/* harmless */ cReAtE tAbLe sneaky AS SELECT 1",
    "SELECT 1 AS one; CREATE TABLE second AS SELECT 2",
    "EXPLAIN ANALYZE CREATE TABLE planned AS SELECT 1",
    "EXPLAIN (FORMAT json, ANALYZE) DELETE FROM store.payments",
    "SELECT * FROM checkpoint()",
    'SELECT * FROM main."FORCE_CHECKPOINT"()',
    "SET VARIABLE n = (SELECT count(*) FROM checkpoint())",
]


def test_sql_prompt_refuses_whatever_creates_or_changes_something(ws: Path) -> None:
    session = "".join(
        [FINGERPRINT + "\n", *(statement + ";\n" for statement in REFUSED), FINGERPRINT + "\n"]
    )
    result = osteo("sql", "--format", "csv", workspace=ws, env=ENV, input=session)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    errors = result.stderr.splitlines()
    assert len(errors) == len(REFUSED), result.stderr
    assert all(e.startswith("Erreur : SQL en lecture seule : ") for e in errors), errors
    before, after = result.stdout.split("tables,views,")[1:]
    assert before == after  # nothing was created, changed or dropped
    assert "one\n1\n" not in result.stdout  # a refused batch runs none of its statements


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE made AS SELECT 1",
        "SELECT count(*) AS n FROM payments; DROP VIEW payments",
        "-- a comment first\nINSERT INTO store.payments SELECT * FROM store.payments",
        "EXPLAIN ANALYZE CREATE TABLE planned AS SELECT 1",
    ],
)
def test_sql_command_refuses_writes_with_one_line_and_exit_2(ws: Path, statement: str) -> None:
    result = osteo("sql", "-c", statement, workspace=ws, env=ENV)
    assert result.returncode == 2
    _one_line_error(result.stderr)
    assert "lecture seule" in result.stderr
    assert result.stdout == ""


def test_sql_reads_describes_explains_and_sets_variables(ws: Path) -> None:
    session = (
        "WITH paid AS (SELECT amount FROM payments) SELECT count(*) AS paid_rows FROM paid;\n"
        "FROM invoices SELECT count(*) AS invoice_rows;\n"
        "DESCRIBE payments;\n"
        "SHOW TABLES;\n"
        "SUMMARIZE SELECT amount FROM payments;\n"
        "EXPLAIN SELECT * FROM consultations;\n"
        "EXPLAIN ANALYZE SELECT count(*) FROM consultations;\n"
        "PIVOT payments ON method IN ('cb', 'cheque') USING count(*);\n"
        "SET VARIABLE grain = 'year';\n"
        "SELECT getvariable('grain') AS grain;\n"
        "RESET VARIABLE grain;\n"
        "SELECT getvariable('grain') IS NULL AS reset_done;\n"
    )
    result = osteo("sql", "--format", "csv", workspace=ws, env=ENV, input=session)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert "paid_rows\n" in out and "invoice_rows\n244\n" in out
    assert "column_name,column_type" in out  # DESCRIBE and SUMMARIZE
    assert "\npayments\n" in out  # SHOW TABLES
    assert "physical_plan" in out and "analyzed_plan" in out
    assert "grain\nyear\n" in out and "reset_done\ntrue\n" in out.lower()


# --- partial credit notes through the command line ---------------------------------------


@pytest.fixture(scope="module")
def partial_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/test_metrics.py's practice with partial credit notes, as a real snapshot."""
    from tests.test_metrics import partial_workspace

    root = tmp_path_factory.mktemp("partial-cli") / "ws"
    partial_workspace(root)
    return root


def test_metrics_json_nets_partial_credit_notes_in_their_month(partial_ws: Path) -> None:
    result = osteo("metrics", "--format", "json", workspace=partial_ws, env=ENV)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert (document["from"], document["to"]) == ("2025-01-01", "2025-02-28")
    assert [
        (m["month"], m["revenue_invoiced"], m["unpaid_invoices"], m["unpaid_amount"])
        for m in document["months"]
    ] == [("2025-01", "140.00", 1, "60.00"), ("2025-02", "25.00", 0, "0.00")]
    totals = document["totals"]
    assert (totals["revenue_invoiced"], totals["revenue_received"]) == ("165.00", "105.00")
    assert (totals["unpaid_invoices"], totals["unpaid_amount"]) == (1, "60.00")
    february = osteo(
        "metrics", "--from", "2025-02-01", "--to", "2025-02-28", "--format", "json",
        workspace=partial_ws, env=ENV,
    )  # fmt: skip
    assert february.returncode == 0, february.stderr
    assert json.loads(february.stdout)["totals"]["revenue_invoiced"] == "25.00"


def test_sql_live_invoices_view(partial_ws: Path) -> None:
    result = osteo(
        "sql", "-c", "SELECT kind, count(*) AS n, sum(amount) AS amount FROM live_invoices "
        "GROUP BY kind ORDER BY kind", "--format", "json",
        workspace=partial_ws, env=ENV,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"kind": "invoice", "n": 3, "amount": "210.00"},
        {"kind": "partial_credit_note", "n": 3, "amount": "-45.00"},
    ]
    tables = osteo("sql", "--format", "csv", workspace=partial_ws, env=ENV, input=".tables\n")
    assert "live_invoices" in tables.stdout.split()

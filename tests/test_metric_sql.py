"""The shared definitions of the metric SQL (`metrics/sql/_macros.sql`), and that they are
the only ones.

Each rule the metrics rely on (the period calendar, the in-period test, what a visit is,
what counts as encaissé and as facturé, what is unpaid) is written once in `_macros.sql`; a
scan of the metric files fails when one of them writes its own again. The definitions are
run in the hardened warehouse (locked configuration, no external access) over the
hand-made practice of tests/test_metrics.py, whose every figure is known.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from osteo_analytics import warehouse
from osteo_analytics.warehouse import Warehouse, metric_names, metric_sql, open_warehouse
from tests.conftest import PASSPHRASE, osteo
from tests.test_metrics import hand_workspace, records

D = dt.date

# (rule, what a metric file must not write, the shared definition to use instead, a line
# of a metric file that wrote the rule itself before it was shared: the pattern catches it)
RULES = [
    (
        "period calendar",
        r"generate_series|\brange\s*\(",
        "period_calendar",
        "FROM range(year(CAST($date_from AS DATE)), year(CAST($date_to AS DATE)) + 1) AS t(y)",
    ),
    (
        "period of a day",
        r"date_trunc\s*\(",
        "period_of",
        "SELECT CAST(date_trunc('month', consulted_on) AS DATE) AS month,",
    ),
    (
        "in-period test",
        r"CAST\s*\(\s*\$date_(from|to)\b|[<>=]\s*\$date_(from|to)\b|\$date_(from|to)\s*[<>=]",
        "in_period",
        "WHERE paid_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)",
    ),
    ("visit", r"status\s*=\s*'done'", "visits", "WHERE status = 'done'"),
    (
        "encaissé",
        r"\b(FROM|JOIN)\s+payments\b",
        "receipts",
        "LEFT JOIN payments AS p USING (invoice_number)",
    ),
    (
        "facturé",
        r"status\s+IN\s*\(\s*'issued'\s*,\s*'paid'\s*\)",
        "live_invoices",
        "WHERE status IN ('issued', 'paid')",
    ),
    ("unpaid", r"\bdue\s*>\s*0", "unpaid", "AND due > 0"),
    (
        "practitioner filter",
        r"list_contains|\$practitioners\s+IS\b|\bANY\s*\(\s*\$practitioners",
        "for_practitioners",
        "AND ($practitioners IS NULL OR list_contains($practitioners, practitioner_id))",
    ),
]


def _code(sql: str) -> str:
    """The SQL without its comments, which may name a rule without writing it."""
    return re.sub(r"--[^\n]*", "", sql)


@pytest.mark.parametrize("name", metric_names())
def test_no_metric_file_writes_a_shared_rule_again(name: str) -> None:
    code = _code(metric_sql(name).sql)
    for rule, pattern, shared, _ in RULES:
        found = re.search(pattern, code, flags=re.IGNORECASE)
        assert found is None, (
            f"{name}.sql writes its own {rule} rule ({found.group(0)!r}): "
            f"use {shared} of {warehouse.SHARED_FILE}"
        )


@pytest.mark.parametrize(
    ("rule", "pattern", "shared", "old_copy"), RULES, ids=[r[2] for r in RULES]
)
def test_each_rule_is_defined_once_and_its_pattern_catches_a_copy(
    rule: str, pattern: str, shared: str, old_copy: str
) -> None:
    assert re.search(pattern, old_copy, flags=re.IGNORECASE), f"{rule}: the scan misses a copy"
    created = re.findall(
        r"^CREATE (?:MACRO|VIEW) (\w+)", warehouse.shared_sql(), flags=re.MULTILINE
    )
    assert created.count(shared) == 1, (
        f"{rule}: {shared} is not defined once in {warehouse.SHARED_FILE}"
    )


# --- the definitions, run in the hardened warehouse ---------------------------------------


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The hand-made practice, a warehouse of its own: tests here change its variables."""
    unlocked = hand_workspace(tmp_path_factory.mktemp("hand-sql") / "ws")
    with open_warehouse(unlocked) as wh:
        yield wh


def _rows(wh: Warehouse, sql: str) -> list[tuple[Any, ...]]:
    return wh.con.execute(sql).fetchall()


def test_shared_definitions_are_there_once_the_warehouse_is_locked(hand: Warehouse) -> None:
    with pytest.raises(duckdb.Error):
        hand.con.execute("SET enable_external_access = true")
    assert _rows(hand, "SELECT current_setting('lock_configuration')") == [(True,)]
    names = _rows(
        hand,
        "SELECT view_name FROM duckdb_views() WHERE NOT internal"
        " UNION ALL SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'",
    )
    assert (
        {"live_invoices", "receipts", "data_span"}
        <= set(warehouse.SHARED_VIEWS)
        <= {r[0] for r in names}
    )
    macros = {r[0] for r in _rows(hand, "SELECT function_name FROM duckdb_functions()")}
    created = re.findall(r"^CREATE MACRO (\w+)", warehouse.shared_sql(), flags=re.MULTILINE)
    assert {"period_calendar", "in_period", "visits", "unpaid"} <= set(created) <= macros


@pytest.mark.parametrize(
    ("grain", "expected"),
    [
        ("day", [D(2024, 12, 30), D(2024, 12, 31), D(2025, 1, 1), D(2025, 1, 2)]),
        ("week", [D(2024, 12, 30)]),  # the ISO week holding both days starts on Monday
        ("month", [D(2024, 12, 1), D(2025, 1, 1)]),
        ("year", [D(2024, 1, 1), D(2025, 1, 1)]),
    ],
)
def test_period_calendar_lists_every_period_met(
    hand: Warehouse, grain: str, expected: list[dt.date]
) -> None:
    rows = _rows(
        hand,
        f"SELECT period_start FROM period_calendar('{grain}', DATE '2024-12-30', "
        "DATE '2025-01-02') ORDER BY 1",
    )
    assert [r[0] for r in rows] == expected


def test_null_bounds_are_the_whole_history(hand: Warehouse) -> None:
    assert _rows(hand, "SELECT first_day, last_day FROM data_span") == [hand.span]
    assert hand.span == (D(2004, 5, 1), D(2025, 2, 28))
    months = _rows(
        hand, "SELECT count(*), min(period_start) FROM period_calendar('month', NULL, NULL)"
    )
    assert months == [(250, D(2004, 5, 1))]  # May 2004 .. February 2025
    assert _rows(
        hand,
        "SELECT in_period(DATE '1900-01-01', NULL, DATE '2025-01-01'),"
        " in_period(DATE '2025-01-01', DATE '2025-01-01', DATE '2025-01-01'),"
        " in_period(DATE '2025-01-02', NULL, DATE '2025-01-01'),"
        " in_period(NULL, NULL, NULL)",
    ) == [(True, True, False, None)]


def test_a_metric_view_with_null_period_variables_covers_the_whole_history(
    hand: Warehouse,
) -> None:
    names = [n for n in metric_names() if "date_from" in metric_sql(n).params]
    defaults = {n: hand.query(f"SELECT * FROM {n}") for n in names}
    hand.con.execute("SET VARIABLE date_from = NULL")
    hand.con.execute("SET VARIABLE date_to = NULL")
    try:
        for name in names:
            frame = hand.query(f"SELECT * FROM {name}")
            assert frame.equals(defaults[name]), name
    finally:
        hand.con.execute("SET VARIABLE date_from = $day", {"day": hand.span[0]})
        hand.con.execute("SET VARIABLE date_to = $day", {"day": hand.span[1]})
    assert len(defaults["revenue"]) == 250  # every month of the span, not none


def test_visits_are_the_done_consultations(hand: Warehouse) -> None:
    assert _rows(
        hand,
        "SELECT count(*), count(DISTINCT patient_key), bool_and(status = 'done')"
        " FROM visits(DATE '2024-12-01', DATE '2025-02-28')",
    ) == [(5, 3, True)]  # C-1, C-2, C-4, C-5, C-7; not the no-show nor the cancelled one
    assert _rows(hand, "SELECT count(*) FROM appointments(NULL, NULL)") == [(8,)]


def test_receipts_are_every_payment_by_payment_day_with_its_invoice(hand: Warehouse) -> None:
    rows = records(hand.query("SELECT * FROM receipts ORDER BY paid_on, payment_id"))
    assert [r["payment_id"] for r in rows] == [
        "04001/1", "24001/1", "24003/1", "25002/1", "25001/1", "25003/1", "25002/2", "23999/1",
    ]  # fmt: skip
    assert sum(r["amount"] for r in rows) == Decimal("235.00")  # the refund counts negative
    refund = next(r for r in rows if r["payment_id"] == "25003/1")
    assert (refund["amount"], refund["method"], refund["issued_on"]) == (
        Decimal("-55.00"), "especes", D(2025, 1, 8),
    )  # fmt: skip
    split = next(r for r in rows if r["payment_id"] == "25002/2")
    assert (split["practitioner_id"], split["consultation_id"]) == ("PR-BBBBBBBBBBBBBBBB", "C-5")
    orphan = next(r for r in rows if r["payment_id"] == "23999/1")
    assert orphan["patient_key"] is None and orphan["practitioner_id"] is None


def test_the_per_period_figures_agree_with_the_rows_they_count(hand: Warehouse) -> None:
    received = _rows(
        hand,
        "SELECT period_start, amount, items, receipts, refunds, especes"
        " FROM receipts_by_period('month', DATE '2025-01-01', DATE '2025-01-31')",
    )
    # 25001/1 55 especes, its refund -55 especes, 25002/1 30 cb
    assert received == [
        (D(2025, 1, 1), Decimal("30.00"), 3, Decimal("85.00"), Decimal("-55.00"), Decimal(0))
    ]
    invoiced = _rows(
        hand,
        "SELECT period_start, amount, items"
        " FROM revenue_by_period('facture', 'year', DATE '2024-12-15', DATE '2025-02-28')"
        " ORDER BY 1",
    )
    # 2024-12-15 .. 2024-12-31: nothing issued; 2025: 25002 (70) and 25005 (80) stand
    assert invoiced == [(D(2024, 1, 1), Decimal(0), 0), (D(2025, 1, 1), Decimal("150.00"), 2)]
    unpaid = _rows(hand, "SELECT invoice_number, due, age_days, bucket FROM unpaid(NULL, NULL)")
    assert unpaid == [("25005", Decimal("80.00"), 25, "0-30")]  # on the span's last day


def test_osteo_sql_reads_the_shared_views_after_the_lock(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    hand_workspace(root)
    env = {"OSTEO_PASSPHRASE": PASSPHRASE}
    result = osteo(
        "sql", "-c",
        "SET VARIABLE date_from = NULL; SELECT method, sum(amount) AS amount FROM receipts"
        " WHERE in_period(paid_on, getvariable('date_from'), DATE '2024-12-31')"
        " GROUP BY ALL ORDER BY ALL",
        "--format", "json", workspace=root, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"method": "cb", "amount": "55.00"},
        {"method": "cheque", "amount": "50.00"},
        {"method": "especes", "amount": "40.00"},
    ]
    tables = osteo("sql", "--format", "csv", workspace=root, env=env, input=".tables\n")
    assert {"live_invoices", "receipts", "data_span"} <= set(tables.stdout.split())

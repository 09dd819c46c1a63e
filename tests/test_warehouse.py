"""The warehouse: decrypted in memory, then no way out (files, settings, extensions)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from osteo_analytics import metrics, snapshots, workspace
from osteo_analytics.errors import DecryptionError, Hint, SnapshotError
from osteo_analytics.warehouse import BASE_VIEWS, Warehouse, metric_names, open_warehouse
from tests.conftest import PASSPHRASE, ROOT
from tests.test_metrics import ADULT, OLD, hand_tables, hand_workspace

MARKER = "SECRET-MARKER-7f3a"


@pytest.fixture(scope="module")
def unlocked(tmp_path_factory: pytest.TempPathFactory) -> workspace.Unlocked:
    return hand_workspace(tmp_path_factory.mktemp("wh") / "ws")


@pytest.fixture(scope="module")
def wh(unlocked: workspace.Unlocked) -> Any:
    with open_warehouse(unlocked) as warehouse:
        yield warehouse


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real files a query must not be able to read, and a folder it must not write to."""
    folder = tmp_path_factory.mktemp("outside")
    (folder / "data.csv").write_text(f"secret\n{MARKER}\n", encoding="utf-8")
    (folder / "data.json").write_text(f'{{"secret": "{MARKER}"}}', encoding="utf-8")
    pq.write_table(pa.table({"secret": [MARKER]}), folder / "data.parquet")
    duckdb.connect(str(folder / "other.duckdb")).close()
    return folder


ESCAPES = [
    "SELECT * FROM read_csv('{d}/data.csv')",
    "SELECT * FROM '{d}/data.csv'",
    "SELECT * FROM read_parquet('{d}/data.parquet')",
    "SELECT * FROM read_json('{d}/data.json')",
    "SELECT * FROM read_text('{d}/data.csv')",
    "SELECT * FROM glob('{d}/*')",
    "COPY (SELECT * FROM payments) TO '{d}/out.csv'",
    "COPY payments TO '{d}/out.parquet' (FORMAT parquet)",
    "EXPORT DATABASE '{d}/export'",
    "ATTACH '{d}/other.duckdb' AS other",
    "ATTACH '{d}/new.duckdb' AS fresh",
    "SET enable_external_access = true",
    "RESET enable_external_access",
    "SET lock_configuration = false",
    "SET memory_limit = '64GB'",
    "SET temp_directory = '{d}/spill'",
    "PRAGMA threads = 1",
    "PRAGMA memory_limit = '64GB'",
    "SET allow_unsigned_extensions = true",
    "INSTALL httpfs",
    "LOAD httpfs",
    "INSTALL json",
    "LOAD '{d}/evil.duckdb_extension'",
]


@pytest.mark.parametrize("statement", ESCAPES)
def test_a_query_can_neither_read_nor_write_a_file_nor_change_a_setting(
    wh: Warehouse, outside: Path, statement: str
) -> None:
    before = sorted(p.name for p in outside.iterdir())
    with pytest.raises(duckdb.Error) as caught:
        wh.query(statement.format(d=outside))
    assert MARKER not in str(caught.value)
    assert sorted(p.name for p in outside.iterdir()) == before


def test_the_warehouse_is_locked_in_memory_without_spilling(wh: Warehouse) -> None:
    settings = dict(
        wh.con.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN "
            "('temp_directory', 'enable_external_access', 'lock_configuration')"
        ).fetchall()
    )
    assert settings == {
        "temp_directory": "",
        "enable_external_access": "false",
        "lock_configuration": "true",
    }
    databases = wh.con.execute("SELECT database_name, path FROM duckdb_databases()").fetchall()
    assert ("memory", None) in databases
    assert all(path is None for _, path in databases)


def test_queries_still_work_after_locking(wh: Warehouse) -> None:
    # Temporary tables and variables are plain memory: allowed.
    wh.query("CREATE TEMP TABLE mine AS SELECT count(*) AS n FROM consultations")
    assert wh.query("SELECT n FROM mine")["n"][0] == 8
    wh.query("SET VARIABLE within_days = 40")
    try:
        rate = wh.query("SELECT returned FROM return_rate WHERE month = DATE '2024-12-01'")
        assert rate["returned"][0] == 1
    finally:
        wh.query("SET VARIABLE within_days = 90")


def test_the_memory_limit_comes_from_the_settings(tmp_path: Path) -> None:
    unlocked = hand_workspace(tmp_path / "ws")
    with (tmp_path / "ws" / "config.toml").open("a", encoding="utf-8") as config:
        config.write('memory_limit = "300MB"\n')
    reference = duckdb.connect(config={"memory_limit": "300MB"})
    expected = reference.execute("SELECT current_setting('memory_limit')").fetchall()
    with open_warehouse(unlocked) as warehouse:
        got = warehouse.con.execute("SELECT current_setting('memory_limit')").fetchall()
    assert got == expected


def test_views_of_the_datasets_and_of_every_metric(wh: Warehouse) -> None:
    names = set(wh.query("SELECT view_name FROM duckdb_views() WHERE NOT internal")["view_name"])
    assert {*BASE_VIEWS, "patient_history", *metric_names()} <= names
    counts = {
        view: int(wh.query(f"SELECT count(*) AS n FROM {view}")["n"][0]) for view in BASE_VIEWS
    }
    assert counts == {name: table.num_rows for name, table in hand_tables().items()}


def test_years_loads_only_those_partitions(unlocked: workspace.Unlocked) -> None:
    with open_warehouse(unlocked, years=[2025]) as part:
        assert part.years == (2025,)
        consultations = part.query("SELECT DISTINCT year(consulted_on) AS y FROM consultations")
        assert list(consultations["y"]) == [2025]
        assert part.query("SELECT count(*) AS n FROM payments")["n"][0] == 5
        # patients and practitioners are always complete
        assert part.query("SELECT count(*) AS n FROM patients")["n"][0] == 4
        assert part.query("SELECT count(*) AS n FROM practitioners")["n"][0] == 2
        # the history still sees 2004 and 2024: the adult first came in December 2024
        history = part.query("SELECT * FROM patient_history ORDER BY patient_key")
        first = dict(zip(history["patient_key"], history["first_done_on"], strict=True))
        assert first[ADULT] == dt.date(2024, 12, 2) and first[OLD] == dt.date(2004, 5, 10)
        january = metrics.new_patients(part, dt.date(2025, 1, 1), dt.date(2025, 1, 31))
        assert list(january["new_patients"]) == [1]
        assert list(metrics.retention(part, dt.date(2025, 6, 30))["patient_key"]) == [OLD]
        assert part.span == (dt.date(2025, 1, 1), dt.date(2025, 2, 28))


def test_identity_opens_a_workspace_folder_without_passphrase(
    unlocked: workspace.Unlocked,
) -> None:
    root = unlocked.workspace.root
    with open_warehouse(root, identity=unlocked.identities) as warehouse:
        assert warehouse.query("SELECT count(*) AS n FROM invoices")["n"][0] == 8
    from osteo_analytics import vault

    stranger = vault.Secrets.generate().identities()
    with pytest.raises(DecryptionError):
        open_warehouse(root, identity=stranger)


def test_a_folder_and_the_passphrase_from_the_environment(
    unlocked: workspace.Unlocked, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OSTEO_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("OSTEO_WORKSPACE", str(unlocked.workspace.root))
    with open_warehouse() as warehouse:
        current = snapshots.current_snapshot(unlocked.workspace.snapshots_dir)
        assert warehouse.snapshot == current


def test_no_snapshot_is_a_clear_error(tmp_path: Path) -> None:
    unlocked = workspace.init_workspace(tmp_path / "ws", PASSPHRASE, work_factor=10).unlocked
    with pytest.raises(SnapshotError, match="aucun instantané") as caught:
        open_warehouse(unlocked)
    assert caught.value.hint is Hint.IMPORT_FIRST  # the command line advises `osteo import`


def test_importing_the_package_stays_cheap_and_exports_open_warehouse() -> None:
    code = (
        "import sys, osteo_analytics\n"
        "assert 'duckdb' not in sys.modules and 'pandas' not in sys.modules\n"
        "assert osteo_analytics.open_warehouse.__module__ == 'osteo_analytics.warehouse'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)

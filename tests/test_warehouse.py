"""The warehouse: decrypted in memory, then no way out (files, settings, extensions)."""

from __future__ import annotations

import _ctypes
import datetime as dt
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from osteo_analytics import keys, metrics, snapshots, workspace
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


# --- no way out --------------------------------------------------------------------------
#
# Every escape runs twice on the same files. First on the warehouse, where it must fail
# with the hardening's own error and leave the folder as it was. Then on a control, a
# plain DuckDB without that hardening, where it must succeed and do what it tried to do
# (read the marker, write the file, install the extension, change the setting). Where
# nothing can make it succeed, the control must fail with DuckDB's own, different error.
# So each case shows that the hardening is what stops the statement.

# The hardening's own errors: external access off, configuration locked.
FILES = (duckdb.PermissionException, "file system operations are disabled by configuration")
EXTENSIONS = (
    duckdb.PermissionException,
    "Loading external extensions is disabled through configuration",
)
LOCKED = (duckdb.InvalidInputException, "the configuration has been locked")
# DuckDB's error for WHILE_RUNNING statements on a running database.
RUNNING = r"setting while database is running|external access while database is running"
# The control's dlopen() ran the file's library, then found no DuckDB entry point in it:
# foreign code was loaded into the process.
DLOPENED = r"did not contain the expected entrypoint function '(httpfs|evil)_duckdb_cpp_init'"

Proof = Callable[[duckdb.DuckDBPyConnection, Path, list[Any]], None]


def reads_marker(con: duckdb.DuckDBPyConnection, folder: Path, rows: list[Any]) -> None:
    assert MARKER in str(rows)


def lists_the_folder(con: duckdb.DuckDBPyConnection, folder: Path, rows: list[Any]) -> None:
    assert (str(folder / "data.csv"),) in rows


def creates(name: str) -> Proof:
    def proof(con: duckdb.DuckDBPyConnection, folder: Path, rows: list[Any]) -> None:
        assert (folder / name).is_file(), f"{name} was not written"

    return proof


def loads_marker_into(table: str) -> Proof:
    def proof(con: duckdb.DuckDBPyConnection, folder: Path, rows: list[Any]) -> None:
        assert MARKER in str(con.execute(f"SELECT * FROM {table}").fetchall())

    return proof


def installs(name: str) -> Proof:
    def proof(con: duckdb.DuckDBPyConnection, folder: Path, rows: list[Any]) -> None:
        assert extension_file(folder / "extensions", name).is_file(), f"{name} not installed"

    return proof


def changes(setting: str) -> Proof:
    def proof(con: duckdb.DuckDBPyConnection, folder: Path, rows: list[Any]) -> None:
        fresh = control(folder)  # what the setting was before the statement
        try:
            before = fresh.execute("SELECT current_setting(?)", [setting]).fetchall()
        finally:
            fresh.close()
        after = con.execute("SELECT current_setting(?)", [setting]).fetchall()
        assert after != before, f"{setting} did not change"

    return proof


def unlocks(con: duckdb.DuckDBPyConnection, folder: Path, rows: list[Any]) -> None:
    # A locked control refuses it too: the statement only works where the lock is not on.
    con.execute("SET memory_limit = '1GB'")
    con.execute("SET lock_configuration = true")
    with pytest.raises(duckdb.InvalidInputException, match=LOCKED[1]):
        con.execute("SET lock_configuration = false")


@dataclass(frozen=True)
class Escape:
    statement: str
    refused: tuple[type[duckdb.Error], str]  # on the warehouse: error class, message fragment
    control: Proof | str  # on the control: what it achieved, or DuckDB's own error (regex)
    setup: str = ""  # run on the control first


# Sources a SELECT reads the marker from.
READ = [
    "read_csv('{d}/data.csv')",
    "'{d}/data.csv'",
    "read_parquet('{d}/data.parquet')",
    "read_json('{d}/data.json')",
    "read_text('{d}/data.csv')",
    "read_blob('{d}/data.csv')",
]
# Settings a statement would loosen, with a looser value: the lock refuses, the control changes.
LOOSER = {
    "memory_limit": "'64GB'",
    "temp_directory": "'{d}/spill'",
    "allowed_directories": "['{d}']",
    "allowed_paths": "['{d}/data.csv']",
    "extension_directory": "'{d}/else'",
    "secret_directory": "'{d}/else'",
    "custom_extension_repository": "'{d}/else'",
    "autoinstall_known_extensions": "true",
    "autoload_known_extensions": "true",
}
# DuckDB refuses these on any running database; on the warehouse the lock answers first.
WHILE_RUNNING = [
    "SET enable_external_access = true",
    "RESET enable_external_access",
    "SET allow_unsigned_extensions = true",
    "SET allow_community_extensions = true",
]

ESCAPES = [
    # read a file
    *(Escape(f"SELECT * FROM {source}", FILES, reads_marker) for source in READ),
    Escape("SELECT * FROM glob('{d}/*')", FILES, lists_the_folder),
    Escape("COPY store.payments FROM '{d}/payments.csv'", FILES, loads_marker_into("payments")),
    Escape("ATTACH '{d}/other.duckdb' AS other", FILES, loads_marker_into("other.secret")),
    Escape("IMPORT DATABASE '{d}/exported'", FILES, loads_marker_into("imported")),
    # write a file
    Escape("COPY (SELECT * FROM payments) TO '{d}/out.csv'", FILES, creates("out.csv")),
    Escape("COPY payments TO '{d}/out.parquet' (FORMAT parquet)", FILES, creates("out.parquet")),
    Escape("EXPORT DATABASE '{d}/export'", FILES, creates("export/schema.sql")),
    Escape("ATTACH '{d}/new.duckdb' AS fresh", FILES, creates("new.duckdb")),
    Escape(
        "CREATE PERSISTENT SECRET kept (TYPE http)", FILES, creates("secrets/kept.duckdb_secret")
    ),
    # install or load an extension (from the test's local repository and files)
    *(Escape(f"INSTALL {name}", FILES, installs(name)) for name in ("httpfs", "json")),
    Escape("INSTALL httpfs FROM '{d}/repository'", FILES, installs("httpfs")),
    Escape("LOAD httpfs", EXTENSIONS, DLOPENED, setup="INSTALL httpfs"),
    Escape("LOAD '{d}/evil.duckdb_extension'", EXTENSIONS, DLOPENED),
    # change the configuration
    Escape("SET lock_configuration = false", LOCKED, unlocks),
    *(Escape(f"SET {name} = {value}", LOCKED, changes(name)) for name, value in LOOSER.items()),
    Escape("PRAGMA memory_limit = '64GB'", LOCKED, changes("memory_limit")),
    Escape("PRAGMA threads = 1", LOCKED, changes("threads")),
    *(Escape(statement, LOCKED, RUNNING) for statement in WHILE_RUNNING),
]


def extension_file(directory: Path, name: str) -> Path:
    """Where DuckDB keeps extension `name` in an extension directory or a local repository."""
    platform = duckdb.execute("PRAGMA platform").fetchall()[0][0]
    return directory / f"v{duckdb.__version__}" / platform / f"{name}.duckdb_extension"


def write_extension(path: Path) -> None:
    """An unsigned extension DuckDB accepts: a real shared library plus the metadata footer.

    The footer is eight 32-byte fields in reverse order (magic "4", platform, DuckDB
    version, extension version, ABI type, three unused) then a 256-byte signature, empty.
    """
    platform = duckdb.execute("PRAGMA platform").fetchall()[0][0]
    fields = ["4", platform, f"v{duckdb.__version__}", "v0.0.1", "CPP", "", "", ""]
    footer = b"".join(f.encode().ljust(32, b"\0") for f in reversed(fields)) + bytes(256)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(Path(_ctypes.__file__).read_bytes() + footer)


def control(folder: Path) -> duckdb.DuckDBPyConnection:
    """A plain DuckDB, none of the warehouse's hardening, with tables of the same names.

    Its extension folders are the test's own (never ~/.duckdb) and extensions come from the
    test's local repository: this machine has no network. `allow_unsigned_extensions`
    stands in for a signed extension, which the test cannot make.
    """
    con = duckdb.connect(
        config={
            "extension_directory": str(folder / "extensions"),
            "custom_extension_repository": str(folder / "repository"),
            "secret_directory": str(folder / "secrets"),
            "allow_unsigned_extensions": True,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
    )
    con.execute("CREATE SCHEMA store")
    con.execute("CREATE TABLE store.payments (payment_id VARCHAR, amount DECIMAL(12, 2))")
    con.execute("CREATE VIEW payments AS SELECT * FROM store.payments")
    return con


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """Real files a query must not reach, a folder it must not write to, local extensions."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "data.csv").write_text(f"secret\n{MARKER}\n", encoding="utf-8")
    (folder / "payments.csv").write_text(f"payment_id,amount\n{MARKER},1.00\n", encoding="utf-8")
    (folder / "data.json").write_text(f'{{"secret": "{MARKER}"}}', encoding="utf-8")
    pq.write_table(pa.table({"secret": [MARKER]}), folder / "data.parquet")
    with duckdb.connect(str(folder / "other.duckdb")) as other:
        other.execute(f"CREATE TABLE secret AS SELECT '{MARKER}' AS secret")
    with duckdb.connect() as source:
        source.execute(f"CREATE TABLE imported AS SELECT '{MARKER}' AS secret")
        source.execute(f"EXPORT DATABASE '{folder}/exported'")
    write_extension(extension_file(folder / "repository", "httpfs"))
    write_extension(extension_file(folder / "repository", "json"))
    write_extension(folder / "evil.duckdb_extension")
    return folder


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("escape", ESCAPES, ids=lambda e: e.statement)
def test_a_query_can_neither_read_nor_write_a_file_nor_change_a_setting(
    wh: Warehouse, outside: Path, escape: Escape
) -> None:
    statement = escape.statement.format(d=outside)
    before = _tree(outside)
    error, fragment = escape.refused
    with pytest.raises(error, match=re.escape(fragment)) as caught:
        wh.query(statement)
    assert MARKER not in str(caught.value)
    assert _tree(outside) == before

    con = control(outside)
    try:
        if escape.setup:
            con.execute(escape.setup)
        if isinstance(escape.control, str):
            with pytest.raises(duckdb.Error, match=escape.control):
                con.execute(statement)
        else:
            rows = con.execute(statement).fetchall()
            escape.control(con, outside, rows)
    finally:
        con.close()


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

    stranger = keys.Secrets.generate().identities()
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

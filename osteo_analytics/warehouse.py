"""The warehouse: the current snapshot decrypted in memory into a hardened DuckDB.

`open_warehouse()` decrypts the snapshot's Parquet files in memory (never a temporary
file), copies them into an in-memory DuckDB whose spilling is off (`temp_directory=''`),
then switches off every way out before anyone can run a query:
`enable_external_access=false` (no file, no network, no extension install or load) and
`lock_configuration=true` (no SET or PRAGMA can undo it). What is left is plain SQL over
tables in memory. `check_read_only()` narrows that to reading, for `osteo sql`: DuckDB's
parser types each statement and only queries, EXPLAIN and SET VARIABLE pass.

Layout inside DuckDB:

- `store.<dataset>`: the five canonical datasets as real tables (copied from Arrow, so
  nothing refers back to Python memory once loaded);
- `store.practitioner_history`: per patient and practitioner, first/last done consultation
  and first/last appointment over the WHOLE snapshot, even when `years=` loads only some
  partitions (new patients and retention need the full history, per practitioner too);
  `store.patient_history`: the same per patient (first/last done consultation, last
  appointment, and the practitioner of the first appointment), made from it;
- `store.credited_invoices`: when `years=` loads only some partitions, the invoices of the
  other years that a loaded credit note names (`cancels_invoice_number`), so that a partial
  credit note of January still reduces facturé when its December invoice is not loaded;
  empty on a full load;
- views `patients`, `consultations`, `invoices`, `payments`, `practitioners`,
  `patient_history`, `practitioner_history`: what metric SQL and power users read;
- the shared definitions of `osteo_analytics/metrics/sql/_macros.sql`, written once for every
  metric: the views `live_invoices` (what counts as facturé) and `receipts` (what counts
  as encaissé), the table `data_span` (the default period), the period calendar and
  in-period test, the visits, and the per-period figures several metrics share
  (docs/metrics.md);
- one view per metric file (`osteo_analytics/metrics/sql/<name>.sql`), its `$name` parameters read
  from DuckDB variables (`getvariable('name')`) set to the defaults of `Warehouse.defaults()`;
  `SET VARIABLE grain = 'week'` changes them (variables are not configuration).
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from osteo_analytics import snapshots
from osteo_analytics.errors import Hint, ReadOnlyError, SnapshotError, UsageError
from osteo_analytics.settings import SETTINGS as _SETTINGS
from osteo_analytics.settings import load_settings, resolve_workspace

if TYPE_CHECKING:
    from osteo_analytics.workspace import Unlocked, Workspace

ENV_PASSPHRASE = "OSTEO_PASSPHRASE"
BASE_VIEWS = ("patients", "consultations", "invoices", "payments", "practitioners")
# Per-patient aggregates over the whole snapshot, built when the warehouse opens.
HISTORY_VIEWS = ("patient_history", "practitioner_history")
# Views (and the one-row table data_span) of sql/_macros.sql that power users read;
# its macros are not listed.
SHARED_VIEWS = ("live_invoices", "receipts", "data_span")
SHARED_FILE = "_macros.sql"
# `$name` placeholders of a metric file; names are lower-case by convention, so a regular
# expression's `$'` or `$)` is never mistaken for one.
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
_HEADER = re.compile(r"^--\s*([a-z_]+)\s*:\s*(.*)$")
GRAINS = ("day", "week", "month", "year")
BASES = ("encaisse", "facture")


# --- metric SQL files -------------------------------------------------------------------


@dataclass(frozen=True)
class MetricSQL:
    """One metric file: its SQL, the parameters it binds and its header fields."""

    name: str
    sql: str
    params: tuple[str, ...]
    header: Mapping[str, str]

    @property
    def title(self) -> str:
        return self.header.get("title", self.name)

    @property
    def basis(self) -> str:
        return self.header.get("basis", "")


def metric_names() -> list[str]:
    """Every metric, one per `sql/<name>.sql` file (helpers starting with `_` excluded)."""
    folder = resources.files("osteo_analytics.metrics") / "sql"
    return sorted(
        p.name[: -len(".sql")]
        for p in folder.iterdir()
        if p.name.endswith(".sql") and not p.name.startswith("_")
    )


@cache
def metric_sql(name: str) -> MetricSQL:
    """Read `sql/<name>.sql` and its header comment (`-- key: value` lines at the top)."""
    if not re.fullmatch(r"[a-z0-9_]+", name) or name not in metric_names():
        raise UsageError(f"métrique inconnue « {name} » (voir docs/metrics.md)")
    text = (resources.files("osteo_analytics.metrics") / "sql" / f"{name}.sql").read_text("utf-8")
    header: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        match = _HEADER.match(line)
        if match:
            header[match.group(1)] = match.group(2).strip()
    params = tuple(dict.fromkeys(_PARAM.findall(text)))
    return MetricSQL(name, text.strip().rstrip(";"), params, header)


def shared_sql() -> str:
    """The statements of `sql/_macros.sql`: views and macros the metric files share."""
    return (resources.files("osteo_analytics.metrics") / "sql" / SHARED_FILE).read_text("utf-8")


# --- working days ----------------------------------------------------------------------


def working_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Jours ouvrés in [start, end]: Monday to Friday, minus French public holidays.

    Metropolitan France's calendar (the `holidays` package); Alsace-Moselle's two extra days
    and the overseas départements' own holidays are not removed.
    """
    import holidays

    if end < start:
        return []
    public = holidays.country_holidays("FR", years=range(start.year, end.year + 1))
    days = (start + dt.timedelta(n) for n in range((end - start).days + 1))
    return [d for d in days if d.weekday() < 5 and d not in public]


# --- the warehouse ---------------------------------------------------------------------


@dataclass
class Warehouse:
    """An unlocked, hardened in-memory DuckDB over one snapshot. Close it when done.

    `span` is the first and last day of the months the loaded data covers (consultation,
    invoice and payment dates), the default period of every metric; None when empty.
    `today` is the local day of the practice's time zone (setting `timezone`) when opened.
    """

    con: duckdb.DuckDBPyConnection
    snapshot: str
    settings: dict[str, Any]
    years: tuple[int, ...] | None
    span: tuple[dt.date, dt.date] | None
    today: dt.date = field(default_factory=dt.date.today)
    _practitioner_ids: frozenset[str] | None = field(default=None, init=False, repr=False)

    # -- queries --

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Run one statement; DECIMAL columns come back as `decimal.Decimal`, never float.

        Integer columns with nulls hold Python ints and None rather than turning into
        floats; missing text is pandas' missing value.
        """
        return self.arrow(sql, params).to_pandas(integer_object_nulls=True)

    def arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """Run one statement and read the whole result as an Arrow table."""
        relation = self.con.sql(sql, params=dict(params) if params else None)
        if relation is None:  # a statement without result (CREATE, SET VARIABLE...)
            return pa.table({})
        return relation.to_arrow_table()

    def check_read_only(self, sql: str) -> None:
        """ReadOnlyError unless `sql` only reads (see `check_read_only`); nothing is run."""
        check_read_only(self.con, sql)

    def defaults(self, *, calendar: bool = True) -> dict[str, Any]:
        """Default value of every metric parameter: the whole span, months, encaissé basis.

        `calendar=False` leaves out `working_days` (a list of days, computed only when a
        metric needs it). `practitioners` is None: the whole cabinet.
        """
        start, end = self.span or (self.today.replace(day=1), self.today)
        thresholds = self.settings["micro_bnc_threshold"]
        values: dict[str, Any] = {
            "date_from": start,
            "date_to": end,
            "grain": "month",
            "basis": "encaisse",
            "practitioners": None,
            "as_of": self.today,
            "within_days": 90,
            "retention_years": int(self.settings["retention_years"]),
            "minor_age": int(self.settings["retention_minor_age"]),
            "threshold_years": [int(y) for y in thresholds],
            "threshold_amounts": [str(a) for a in thresholds.values()],
        }
        if calendar:
            values["working_days"] = working_days(start, end)
        return values

    def metric(self, name: str, **params: Any) -> pd.DataFrame:
        """Run metric `name` with `params` over the defaults (only the ones it uses are bound).

        `None` means the default. Unless given, `working_days` are those of the period asked
        for, so the calendar always matches `date_from`/`date_to`. `practitioners` is one
        practitioner_id, several, or None for the whole cabinet (`practitioner_filter`).
        """
        spec = metric_sql(name)
        unknown = set(params) - set(spec.params)
        if unknown:
            raise UsageError(f"{name} : paramètre inconnu {', '.join(sorted(unknown))}")
        given = {k: v for k, v in params.items() if v is not None}
        values = {**self.defaults(calendar=False), **given}
        _check_params(values)
        values["practitioners"] = self.practitioner_filter(values["practitioners"])
        if "working_days" in spec.params and "working_days" not in values:
            values["working_days"] = working_days(values["date_from"], values["date_to"])
        return self.query(spec.sql, {p: values[p] for p in spec.params})

    def practitioner_filter(self, practitioners: Sequence[str] | str | None) -> list[str] | None:
        """The `practitioners` parameter as the SQL binds it: None (the whole cabinet) or a
        sorted list of known practitioner_id values; one id stands for a list of one.

        UsageError for an empty list, something else than ids, or an id the snapshot does
        not know (the message names the id given, a pseudonymous code, and nothing else).
        """
        if practitioners is None:
            return None
        if isinstance(practitioners, str):
            wanted = [practitioners]
        elif isinstance(practitioners, Iterable):
            wanted = list(practitioners)
        else:
            wanted = [practitioners]  # refused below: not an id
        if not wanted:
            raise UsageError("praticiens : donnez au moins un identifiant, ou aucun filtre")
        if not all(isinstance(p, str) for p in wanted):
            raise UsageError("praticiens : des identifiants (texte) sont attendus")
        if self._practitioner_ids is None:
            rows = self.con.execute(
                "SELECT practitioner_id FROM practitioners"
                " UNION SELECT practitioner_id FROM practitioner_history"
            ).fetchall()
            self._practitioner_ids = frozenset(r[0] for r in rows if r[0] is not None)
        unknown = sorted(set(wanted) - self._practitioner_ids)
        if unknown:
            names = ", ".join(f"« {p} »" for p in unknown)
            raise UsageError(f"praticien inconnu : {names}", hint=Hint.LIST_PRACTITIONERS)
        return sorted(set(wanted))

    # -- lifecycle --

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_params(values: Mapping[str, Any]) -> None:
    """Refuse values the SQL would misread, with a message that says what is allowed."""
    if values["grain"] not in GRAINS:
        raise UsageError(f"grain « {values['grain']} » : choisissez parmi {', '.join(GRAINS)}")
    if values["basis"] not in BASES:
        raise UsageError(f"base « {values['basis']} » : choisissez parmi {', '.join(BASES)}")
    for key in ("date_from", "date_to", "as_of"):
        if not isinstance(values[key], dt.date) or isinstance(values[key], dt.datetime):
            raise UsageError(f"{key} : une date (datetime.date) est attendue")
    if values["date_from"] > values["date_to"]:
        raise UsageError("période vide : la date de début est après la date de fin")


# --- opening ---------------------------------------------------------------------------


def _resolve(
    workspace: Workspace | Unlocked | str | Path | None,
    identity: str | Sequence[str] | None,
) -> tuple[Path | None, Path, list[str]]:
    """(workspace root or None, snapshots folder, identities) from what the caller gave."""
    from osteo_analytics.workspace import Unlocked, Workspace

    if isinstance(workspace, Unlocked):
        root = workspace.workspace.root
        ids = workspace.identities if identity is None else _identities(identity)
        return root, workspace.workspace.snapshots_dir, ids
    ws = workspace if isinstance(workspace, Workspace) else Workspace(resolve_workspace(workspace))
    if identity is not None:
        return ws.root, ws.snapshots_dir, _identities(identity)
    passphrase = os.environ.get(ENV_PASSPHRASE) or getpass.getpass("Phrase de passe : ")
    return ws.root, ws.snapshots_dir, ws.unlock(passphrase).identities


def _identities(identity: str | Sequence[str]) -> list[str]:
    return [identity] if isinstance(identity, str) else list(identity)


def open_warehouse(
    workspace: Workspace | Unlocked | str | Path | None = None,
    *,
    identity: str | Sequence[str] | None = None,
    years: Sequence[int] | None = None,
) -> Warehouse:
    """Decrypt the current snapshot in memory and return the hardened warehouse over it.

    `workspace`: an `Unlocked` workspace (its secrets are used), a `Workspace`, a folder, or
    None for `--workspace`'s default (OSTEO_WORKSPACE, else the per-user folder). Unless
    it is `Unlocked` or `identity` is given, the passphrase comes from OSTEO_PASSPHRASE or
    a hidden prompt (which works in a notebook too).
    `identity`: age identities (`AGE-SECRET-KEY-1...` strings) that decrypt the snapshot,
    for a caller that holds keys without a passphrase (an accountant's bundle key).
    `years`: load only these years of consultations, invoices and payments (patients and
    practitioners are always complete; `patient_history` always covers every year).
    """
    root, snapshots_dir, identities = _resolve(workspace, identity)
    settings = load_settings(root) if root is not None else {s.name: s.default for s in _SETTINGS}
    name = snapshots.current_snapshot(snapshots_dir)
    if name is None:
        raise SnapshotError(
            "aucun instantané : rien n'a encore été importé", hint=Hint.IMPORT_FIRST
        )
    wanted = sorted(set(years)) if years is not None else None
    tables = snapshots.read_snapshot(snapshots_dir, identities, name=name, years=wanted)
    unloaded = None if wanted is None else _Unloaded(snapshots_dir, identities, name, wanted)
    return load_warehouse(tables, name=name, settings=settings, years=wanted, unloaded=unloaded)


def load_warehouse(
    tables: dict[str, pa.Table],
    *,
    name: str,
    settings: Mapping[str, Any],
    years: Sequence[int] | None = None,
    span: tuple[dt.date, dt.date] | None = None,
    unloaded: _Unloaded | None = None,
) -> Warehouse:
    """The hardened in-memory warehouse over decrypted `tables` (one per dataset of
    `snapshots.DATASETS`; taken from the dict as they are copied in).

    `span` fixes the default period (an accountant's bundle: the shared period) instead of
    the months the data covers. `unloaded` reads the years a partial load left out.
    """
    con = duckdb.connect(
        ":memory:",
        config={
            "temp_directory": "",  # nothing spills to disk, whatever the query
            "memory_limit": str(settings["memory_limit"]),
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        },
    )
    try:
        # Before loading: no file access from here on, even while we build the tables.
        con.execute("SET enable_external_access = false")
        con.execute("CREATE SCHEMA store")
        for dataset in snapshots.DATASETS:
            statement = f"CREATE TABLE store.{dataset} AS SELECT * FROM _incoming"
            _insert(con, statement, tables.pop(dataset))
        _build_history(con, unloaded)
        _build_credited_invoices(con, unloaded)
        for view in (*BASE_VIEWS, *HISTORY_VIEWS):
            con.execute(f"CREATE VIEW {view} AS SELECT * FROM store.{view}")
        today = dt.datetime.now(ZoneInfo(settings["timezone"])).date()
        warehouse = Warehouse(
            con, name, dict(settings), tuple(years) if years else None, None, today=today
        )
        con.execute(shared_sql())  # several statements: DuckDB runs them in order
        warehouse.span = span or _span(con)
        _create_metric_views(warehouse)
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return warehouse


# Per patient and practitioner; the per-year aggregates of a partial load merge the same way.
_HISTORY = """
    SELECT patient_key, practitioner_id,
           min(consulted_on) FILTER (WHERE status = 'done') AS first_done_on,
           max(consulted_on) FILTER (WHERE status = 'done') AS last_done_on,
           min(consulted_on) AS first_consulted_on,
           max(consulted_on) AS last_consulted_on
    FROM {source} GROUP BY patient_key, practitioner_id
"""
_MERGED_HISTORY = """
    SELECT patient_key, practitioner_id,
           min(first_done_on) AS first_done_on, max(last_done_on) AS last_done_on,
           min(first_consulted_on) AS first_consulted_on,
           max(last_consulted_on) AS last_consulted_on
    FROM store.practitioner_history GROUP BY patient_key, practitioner_id
"""
_PATIENT_HISTORY = """
    SELECT patient_key, min(first_done_on) AS first_done_on, max(last_done_on) AS last_done_on,
           max(last_consulted_on) AS last_consulted_on,
           arg_min(practitioner_id, (first_consulted_on, practitioner_id))
               AS first_practitioner_id
    FROM store.practitioner_history GROUP BY patient_key
"""


@dataclass(frozen=True)
class _Unloaded:
    """The partitions of the snapshot that `years` leaves out, read one year at a time."""

    snapshots_dir: Path
    identities: Sequence[str]
    name: str
    years: Sequence[int]

    def partitions(self, dataset: str, *, newest_first: bool = False) -> Iterator[pa.Table]:
        manifest = snapshots.read_manifest(self.snapshots_dir / self.name, self.identities)
        others = sorted(set(manifest.years(dataset)) - set(self.years), reverse=newest_first)
        for year in others:
            yield snapshots.read_snapshot(
                self.snapshots_dir,
                self.identities,
                name=self.name,
                datasets=[dataset],
                years=[year],
            )[dataset]


def _insert(con: duckdb.DuckDBPyConnection, statement: str, rows: pa.Table) -> None:
    """Run `statement`, which reads `_incoming`, over an Arrow table (copied into DuckDB
    tables, so the reference to Python memory is dropped after)."""
    con.register("_incoming", rows)
    try:
        con.execute(statement)
    finally:
        con.unregister("_incoming")


def _build_history(con: duckdb.DuckDBPyConnection, unloaded: _Unloaded | None) -> None:
    """store.practitioner_history and store.patient_history over every year, reading the
    unloaded partitions one at a time.

    A partial load would otherwise count a returning patient as new (to the cabinet or to a
    practitioner) and date a last visit too early; only the aggregate of each other year is
    kept, so memory stays bounded.
    """
    table = "store.practitioner_history"
    con.execute(f"CREATE TABLE {table} AS " + _HISTORY.format(source="store.consultations"))
    if unloaded is not None:
        for part in unloaded.partitions("consultations"):
            _insert(con, f"INSERT INTO {table} " + _HISTORY.format(source="_incoming"), part)
        con.execute(f"CREATE OR REPLACE TABLE {table} AS " + _MERGED_HISTORY)
    con.execute("CREATE TABLE store.patient_history AS " + _PATIENT_HISTORY)


def _build_credited_invoices(con: duckdb.DuckDBPyConnection, unloaded: _Unloaded | None) -> None:
    """store.credited_invoices: unloaded invoices that loaded credit notes name.

    Whether a credit note is partial depends on its invoice's status and amount
    (metrics/sql/_macros.sql), and the invoice may be in a year `years` leaves out. Only
    the invoices named are kept from each other year, read one at a time.
    """
    con.execute("CREATE TABLE store.credited_invoices AS FROM store.invoices LIMIT 0")
    if unloaded is None:
        return
    missing = {
        row[0]
        for row in con.execute(
            "SELECT DISTINCT cancels_invoice_number FROM store.invoices"
            " WHERE status = 'credit_note' AND cancels_invoice_number IS NOT NULL"
            " AND cancels_invoice_number NOT IN (SELECT invoice_number FROM store.invoices)"
        ).fetchall()
    }
    if not missing:
        return
    for part in unloaded.partitions("invoices", newest_first=True):
        found = part.filter(pc.is_in(part.column("invoice_number"), pa.array(sorted(missing))))
        if found.num_rows:
            _insert(con, "INSERT INTO store.credited_invoices SELECT * FROM _incoming", found)
            missing -= set(found.column("invoice_number").to_pylist())
        if not missing:
            return


def _span(con: duckdb.DuckDBPyConnection) -> tuple[dt.date, dt.date] | None:
    """First day of the first month .. last day of the last month with any dated row."""
    start, end = con.execute("SELECT first_day, last_day FROM data_span").fetchall()[0]
    return (start, end) if start is not None else None


def _create_metric_views(warehouse: Warehouse) -> None:
    """One view per metric, reading variables set to the defaults (after the shared SQL)."""
    con = warehouse.con
    for key, value in warehouse.defaults().items():
        # Identifiers come from our own table of defaults, values are bound.
        con.execute(f"SET VARIABLE {key} = $value", {"value": value})
    for name in metric_names():
        spec = metric_sql(name)
        body = _PARAM.sub(lambda m: f"getvariable('{m.group(1)}')", spec.sql)
        con.execute(f"CREATE VIEW {name} AS {body}")


def view_names() -> list[str]:
    """Names of the views a power user can query (base datasets, history, shared, metrics)."""
    return [*BASE_VIEWS, *HISTORY_VIEWS, *SHARED_VIEWS, *metric_names()]


# --- read-only SQL ---------------------------------------------------------------------

# What `osteo sql` runs, by DuckDB's own statement type. SELECT covers WITH, FROM-first
# queries, VALUES, DESCRIBE, SHOW, SUMMARIZE and PIVOT with an IN list; EXPLAIN is checked
# on the statement it explains (EXPLAIN ANALYZE runs it). SET is only SET/RESET VARIABLE.
READ_ONLY_STATEMENTS = ("SELECT", "WITH", "DESCRIBE", "SHOW", "SUMMARIZE", "EXPLAIN")
# Table functions a SELECT may call that change the database or the session.
_STATE_FUNCTIONS = frozenset(
    {
        "checkpoint",
        "force_checkpoint",
        "truncate_duckdb_logs",
        "enable_logging",
        "disable_logging",
        "enable_profiling",
        "disable_profiling",
        "add_grammar_extension",
        "remove_grammar_extension",
        "create_external_resource",
        "destroy_external_resource",
        "register_external_resource",
        "deregister_external_resource",
        "register_external_resource_type",
    }
)
_ALLOWED_LABEL = ", ".join(READ_ONLY_STATEMENTS) + " et SET VARIABLE"


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """ReadOnlyError unless every statement of `sql` only reads; nothing is run.

    DuckDB's own parser splits `sql` into statements and types each one, and its
    tokenizer reads the words, so comments, casing and several statements in one string
    cannot hide a write. Allowed: SELECT (with WITH, DESCRIBE, SHOW, SUMMARIZE...),
    EXPLAIN of such a query, and SET/RESET VARIABLE (the metric views' parameters). A
    syntax error is DuckDB's own `duckdb.Error`.
    """
    for statement in con.extract_statements(sql):
        try:
            kind = statement.type
        except ValueError:  # a type the Python binding cannot name (UPDATE EXTENSIONS)
            kind = None
        _check_statement(con, kind, statement.query)


def _check_statement(con: duckdb.DuckDBPyConnection, kind: Any, query: str) -> None:
    tokens = _tokens(query)
    first = tokens[0][0].upper() if tokens and tokens[0][1] == "keyword" else "?"
    if kind == duckdb.StatementType.EXPLAIN:
        inner = _explained(query, tokens)
        try:
            statements = con.extract_statements(inner) if inner else []
        except duckdb.Error:
            statements = []
        if len(statements) != 1:
            raise ReadOnlyError(_refusal("EXPLAIN"))
        check_read_only(con, inner)
    elif kind == duckdb.StatementType.SET:
        if [text.upper() for text, _, _ in tokens[:2]] not in (
            ["SET", "VARIABLE"],
            ["RESET", "VARIABLE"],
        ):
            raise ReadOnlyError(_refusal(first))
    elif kind != duckdb.StatementType.SELECT:
        raise ReadOnlyError(_refusal(first))
    for (text, token, _), (after, _, _) in pairwise(tokens):
        name = text.strip('"').lower()
        if after == "(" and token in ("identifier", "keyword") and name in _STATE_FUNCTIONS:
            raise ReadOnlyError(_refusal(f"{name}()"))


def _tokens(query: str) -> list[tuple[str, str, int]]:
    """(text, token type, offset) of each token of `query`, comments left out."""
    found = duckdb.tokenize(query)
    ends = [offset for offset, _ in found[1:]] + [len(query)]
    return [
        (query[offset:end].strip(), kind.name, offset)
        for (offset, kind), end in zip(found, ends, strict=True)
        if kind.name != "comment"
    ]


def _explained(query: str, tokens: list[tuple[str, str, int]]) -> str:
    """The statement an EXPLAIN explains: what follows EXPLAIN, ANALYZE and (options)."""
    i = 1
    if i < len(tokens) and tokens[i][0].upper() in ("ANALYZE", "ANALYSE"):
        i += 1
    if i < len(tokens) and tokens[i][0] == "(":
        depth = 0
        for j in range(i, len(tokens)):
            depth += {"(": 1, ")": -1}.get(tokens[j][0], 0)
            if depth == 0:
                i = j + 1
                break
        else:
            return ""
    return query[tokens[i][2] :] if i < len(tokens) else ""


def _refusal(what: str) -> str:
    return f"SQL en lecture seule : {what} refusé ; permis : {_ALLOWED_LABEL}"

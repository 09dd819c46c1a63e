"""Data contracts: load them, and check a table against one (the public API).

The contract files (``data_contracts/*.odcs.yaml``, ODCS v3.1) are read by
`osteo_analytics.contract_model`, re-exported here. `check` runs every rule of one contract
over a DuckDB table (by name) or an Arrow table, as generated set-based DuckDB SQL
(`osteo_analytics.contract_sql`), and returns a `CheckReport`: failing rows as
(row_number, column, rule), never the value, so that a report can be printed, logged or
stored next to a quarantine without leaking patient data.

Table-level problems (a required column missing, a column of the wrong type, a removed PII
column still present, an unknown column) are failures in the report, not exceptions: the
caller decides what to do with a bad table. Exceptions are kept for broken contracts
(ContractError) and unusable input (InputError).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypeAlias

import duckdb
import pyarrow as pa

from osteo_analytics.contracts import sql
from osteo_analytics.contracts.model import (
    CONTRACTS_DIR,
    STRATEGIES,
    Column,
    Contract,
    Rule,
    load_contracts,
    validate_contract_file,
)
from osteo_analytics.errors import ContractError, InputError

__all__ = [
    "CONTRACTS_DIR",
    "LINEAGE_COLUMNS",
    "STRATEGIES",
    "CheckReport",
    "Column",
    "Contract",
    "RowFailure",
    "Rule",
    "RuleResult",
    "TableFailure",
    "check",
    "load_contracts",
    "validate_contract_file",
]

ROW_NUMBER_COLUMN = "source_row"  # adapters number rows as in the file (header = row 1)
LINEAGE_COLUMNS = (ROW_NUMBER_COLUMN, "source_file")  # may be in a checked table, never stored
_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}

TableInput: TypeAlias = pa.Table | str


@dataclass(frozen=True)
class RowFailure:
    """One row failing one rule. Deliberately has no field for the value."""

    row_number: int
    column: str
    rule: str


@dataclass(frozen=True)
class TableFailure:
    """A problem with the table's shape: missing_column, wrong_type, dropped_column_present
    or unexpected_column. `detail` names types or strategies, never data."""

    column: str
    rule: str
    detail: str


@dataclass(frozen=True)
class RuleResult:
    """Outcome of one row-level rule: how many rows failed, or why it was not checked."""

    column: str
    rule: str
    checked: bool
    failed_rows: int = 0
    note: str = ""


@dataclass
class CheckReport:
    """What `check` found. JSON-serializable through `to_dict` / `to_json`."""

    dataset: str
    contract_version: str
    row_count: int
    row_number_basis: str  # "source_row" or "position" (1-based position in the table)
    table_failures: list[TableFailure] = field(default_factory=list)
    rules: list[RuleResult] = field(default_factory=list)
    failures: list[RowFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the table has the right shape and no checked rule failed.

        Rules that could not be checked (see `not_checked`) do not make a report fail.
        """
        return not self.table_failures and not self.failures

    def counts(self) -> dict[tuple[str, str], int]:
        """(column, rule) → number of failing rows, for every rule that was checked."""
        return {(r.column, r.rule): r.failed_rows for r in self.rules if r.checked}

    def not_checked(self) -> list[RuleResult]:
        """Rules skipped: related table not given, or a column they read is unusable."""
        return [r for r in self.rules if not r.checked]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only; the layout is stable (tools and tests rely on it)."""
        return {
            "dataset": self.dataset,
            "contract_version": self.contract_version,
            "ok": self.ok,
            "row_count": self.row_count,
            "row_number_basis": self.row_number_basis,
            "table_failures": [asdict(f) for f in self.table_failures],
            "rules": [asdict(r) for r in self.rules],
            "failures": [asdict(f) for f in self.failures],
        }

    def to_json(self, **kwargs: Any) -> str:
        """`to_dict` as a JSON string (keyword arguments go to json.dumps)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)


def check(
    con: duckdb.DuckDBPyConnection | None,
    dataset: str,
    table: TableInput,
    *,
    contracts: Mapping[str, Contract] | None = None,
    related: Mapping[str, TableInput] | None = None,
    row_numbers: Literal["auto", "position"] = "auto",
) -> CheckReport:
    """Check `table` against the contract of `dataset` and report every failing row.

    `table` is an Arrow table or the name of a table or view in `con`; with `con` None an
    Arrow table is checked in a private in-memory DuckDB. Arrow tables are registered in
    `con` under a random name for the duration of the call only (this works on a hardened
    connection: no file access, no configuration change). `related` gives the tables
    foreign keys point to, by dataset name (e.g. ``{"patients": ..., "practitioners": ...}``
    to check consultations); a foreign key whose table is absent is reported as not checked.

    Row numbers are the table's ``source_row`` column when present (as adapters number rows
    in the file), else the 1-based position in the table. ``row_numbers="position"`` always
    gives positions, e.g. to ``table.take`` the failing rows of a table built from several
    files, where source_row alone is ambiguous.
    """
    contract = (contracts if contracts is not None else load_contracts()).get(dataset)
    if contract is None:
        raise ContractError(
            f"jeu de données « {dataset} » : aucun contrat de données ;"
            " vérifiez le nom du jeu de données"
        )
    if con is None and isinstance(table, str):
        raise ValueError("a table name needs the DuckDB connection that holds it")
    own = con is None
    conn = duckdb.connect(":memory:") if con is None else con
    registered: list[str] = []

    def relation(item: TableInput) -> str:
        if isinstance(item, pa.Table):
            name = f"__osteo_check_{uuid.uuid4().hex}"
            conn.register(name, item)
            registered.append(name)
            return sql.quote_ident(name)
        return sql.quote_ident(item)

    try:
        source = relation(table)
        types = _column_types(conn, source, table if isinstance(table, str) else "(Arrow)")
        table_failures, unusable = _shape_failures(contract, types)
        by_source_row = row_numbers == "auto" and types.get(ROW_NUMBER_COLUMN) in _INTEGER_TYPES
        row_expr = sql.quote_ident(ROW_NUMBER_COLUMN) if by_source_row else sql.POSITION
        rel = sql.numbered(source, row_expr)
        report = CheckReport(
            dataset=contract.name,
            contract_version=contract.version,
            row_count=_scalar(conn, f"SELECT count(*) FROM {source}"),
            row_number_basis=ROW_NUMBER_COLUMN if by_source_row else "position",
            table_failures=table_failures,
        )
        targets = {contract.name: (source, types)}  # a key may reference its own table
        for name, item in (related or {}).items():
            target = relation(item)
            label = item if isinstance(item, str) else f"{name} (Arrow)"
            targets[name] = (target, _column_types(conn, target, label))
        for rule in contract.rules():
            query = _rule_query(rule, rel, types, unusable, targets)
            if isinstance(query, str):  # a reason not to run it
                report.rules.append(RuleResult(rule.column, rule.name, checked=False, note=query))
                continue
            rows = _failing_rows(conn, contract.name, rule, query)
            report.rules.append(RuleResult(rule.column, rule.name, True, len(rows)))
            report.failures.extend(RowFailure(n, rule.column, rule.name) for n in rows)
        return report
    finally:
        for name in registered:
            conn.unregister(name)
        if own:
            conn.close()


def _column_types(con: duckdb.DuckDBPyConnection, source: str, label: str) -> dict[str, str]:
    try:
        described = con.sql(f"SELECT * FROM {source} LIMIT 0")
    except duckdb.CatalogException:
        raise InputError(
            f"« {label} » : aucune table ni vue de ce nom dans la connexion DuckDB ;"
            " vérifiez le nom de la table"
        ) from None
    return {name: str(t) for name, t in zip(described.columns, described.types, strict=True)}


def _shape_failures(
    contract: Contract, types: Mapping[str, str]
) -> tuple[list[TableFailure], set[str]]:
    """Table-level failures, and the columns no rule can read (missing or mistyped)."""
    failures: list[TableFailure] = []
    unusable: set[str] = set()
    for col in contract.columns:
        found = types.get(col.name)
        if col.stored and found is None:
            failures.append(
                TableFailure(col.name, "missing_column", f"expected {col.physical_type}")
            )
            unusable.add(col.name)
        elif col.stored and found is not None and _norm(found) != _norm(col.physical_type):
            detail = f"expected {col.physical_type}, found {found}"
            failures.append(TableFailure(col.name, "wrong_type", detail))
            unusable.add(col.name)
        elif not col.stored and found is not None:
            detail = f"anonymizationStrategy {col.strategy}: pseudonymize must remove it"
            failures.append(TableFailure(col.name, "dropped_column_present", detail))
    known = {c.name for c in contract.columns} | set(LINEAGE_COLUMNS)
    for name in types:
        if name not in known:
            # Unknown columns may carry anything, including PII the contract never saw.
            failures.append(TableFailure(name, "unexpected_column", "not in the data contract"))
    row_type = types.get(ROW_NUMBER_COLUMN)
    if row_type is not None and row_type not in _INTEGER_TYPES:
        failures.append(
            TableFailure(ROW_NUMBER_COLUMN, "wrong_type", f"expected an integer, found {row_type}")
        )
    return failures, unusable


def _rule_query(
    rule: Rule,
    rel: str,
    types: Mapping[str, str],
    unusable: set[str],
    targets: Mapping[str, tuple[str, Mapping[str, str]]],
) -> sql.Query | str:
    """The query selecting the rule's failing rows, or why the rule cannot run."""
    if bad := [c for c in rule.reads if c in unusable or c not in types]:
        return f"column {bad[0]} is missing or of the wrong type"
    if rule.kind == "not_null":
        return sql.not_null(rel, rule.column)
    if rule.kind == "unique":
        return sql.unique(rel, rule.column)
    if rule.kind == "allowed_values":
        return sql.allowed_values(rel, rule.column, rule.values)
    if rule.kind == "pattern":
        return sql.pattern(rel, rule.column, rule.pattern or "")
    if rule.kind == "sql":
        return sql.predicate(rel, rule.where or "FALSE")
    target_dataset, target_column = (rule.references or ".").split(".")  # foreign_key
    if target_dataset not in targets:
        return f"related table {target_dataset} not given"
    target, target_types = targets[target_dataset]
    if _norm(target_types.get(target_column, "")) != _norm(types[rule.column]):
        return f"related table {target_dataset} has no matching column {target_column}"
    return sql.foreign_key(rel, rule.column, target, target_column)


def _failing_rows(
    con: duckdb.DuckDBPyConnection, dataset: str, rule: Rule, query: sql.Query
) -> list[int]:
    try:
        return [int(r[0]) for r in con.execute(*query).fetchall()]
    except duckdb.Error as exc:
        # DuckDB messages can quote data values: keep only the error class.
        raise ContractError(
            f"contrat de données « {dataset} » : la règle « {rule.name} » de la colonne"
            f" « {rule.column} » n'a pas pu s'exécuter ({exc.__class__.__name__}) ;"
            " corrigez le contrat"
        ) from None


def _scalar(con: duckdb.DuckDBPyConnection, query: str) -> int:
    # fetchall, not fetchone: DuckDB refuses new work while a result is left unfinished.
    return int(con.execute(query).fetchall()[0][0])


def _norm(type_name: str) -> str:
    return "".join(type_name.upper().split())

"""SQL text for the data-contract checker (`osteo_analytics.contracts.check`).

Each function returns ``(sql, params)`` for one DuckDB query that selects the row numbers
violating one rule, set-based over the whole table. What may reach the SQL text:

- identifiers (table and column names) from the contract or the caller, always quoted with
  `quote_ident`;
- contract values (allowed-value lists, regex patterns) only as bound parameters
  (``$values``, ``$pattern``), never formatted into the text;
- predicates of contract ``type: sql`` rules, verbatim: contract files are code, reviewed and
  versioned like the metric ``.sql`` files;
- never a value read from the data.
"""

from __future__ import annotations

from typing import Any

ROW = "__osteo_row"  # row-number column added by `numbered`; nobody else uses this name
POSITION = "row_number() OVER ()"  # 1-based position; DuckDB keeps insertion order here

Query = tuple[str, dict[str, Any]]


def quote_ident(name: str) -> str:
    """Quote an identifier for DuckDB (doubling embedded quotes), whatever it contains."""
    return '"' + name.replace('"', '""') + '"'


def numbered(source: str, row_expr: str) -> str:
    """A subquery over the quoted relation `source` with the row number as column `ROW`."""
    return f"(SELECT *, {row_expr} AS {ROW} FROM {source})"


def not_null(rel: str, column: str) -> Query:
    """Rows where a required column is null."""
    return f"SELECT {ROW} FROM {rel} WHERE {quote_ident(column)} IS NULL ORDER BY 1", {}


def unique(rel: str, column: str) -> Query:
    """Every row whose value occurs more than once (all copies: none is known to be right)."""
    col = quote_ident(column)
    sql = (
        f"WITH t AS {rel} SELECT {ROW} FROM t WHERE {col} IN "
        f"(SELECT {col} FROM t WHERE {col} IS NOT NULL GROUP BY {col} HAVING count(*) > 1) "
        "ORDER BY 1"
    )
    return sql, {}


def allowed_values(rel: str, column: str, values: tuple[str, ...]) -> Query:
    """Rows whose non-null value is outside the contract's list (bound as one LIST parameter)."""
    col = quote_ident(column)
    sql = (
        f"SELECT {ROW} FROM {rel} WHERE {col} IS NOT NULL "
        f"AND NOT list_contains($values, {col}) ORDER BY 1"
    )
    return sql, {"values": list(values)}


def pattern(rel: str, column: str, regex: str) -> Query:
    """Rows whose non-null value does not fully match the contract's regex (RE2 syntax)."""
    col = quote_ident(column)
    sql = (
        f"SELECT {ROW} FROM {rel} WHERE {col} IS NOT NULL "
        f"AND NOT regexp_full_match({col}, $pattern) ORDER BY 1"
    )
    return sql, {"pattern": regex}


def predicate(rel: str, where: str) -> Query:
    """Rows where a contract ``type: sql`` rule's WHERE clause holds (the rule's failures)."""
    return f"SELECT {ROW} FROM {rel} WHERE ({where}) ORDER BY 1", {}


def foreign_key(rel: str, column: str, target: str, target_column: str) -> Query:
    """Rows whose non-null key has no match in `target`.`target_column` (an anti-join)."""
    col, tcol = quote_ident(column), quote_ident(target_column)
    sql = (
        f"SELECT t.{ROW} FROM {rel} AS t WHERE t.{col} IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM {target} AS r WHERE r.{tcol} = t.{col}) ORDER BY 1"
    )
    return sql, {}

"""How commands print tables: rich on a terminal, JSON or CSV for programs."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    import pyarrow as pa
    from rich.console import Console


FORMATS = ("table", "json", "csv")
Command = TypeVar("Command", bound=Callable[..., Any])


def format_option(help: str, *, default: str | None = "table") -> Callable[[Command], Command]:
    """`--format table|json|csv`, the same on every command that prints a report."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default=default,
        show_default=default is not None,
        help=help,
    )


def console() -> Console:
    from rich.console import Console

    # Off a terminal (pipes, tests) rich would fold tables at 80 columns.
    console = Console()
    return console if console.is_terminal else Console(width=200)


def cell(value: Any) -> Any:
    """A value as JSON/CSV can hold it: exact decimals as strings, dates in ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


def print_result(table: pa.Table, fmt: str) -> None:
    names: Sequence[str] = table.column_names
    # Column-wise: a result may repeat a column name, which dict rows would merge.
    columns = [c.to_pylist() for c in table.columns]
    rows = [[cell(v) for v in row] for row in zip(*columns, strict=True)]
    if fmt == "json":
        records = [dict(zip(names, row, strict=True)) for row in rows]
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
    elif fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        if names:
            writer.writerow(names)
        writer.writerows(rows)
        click.echo(out.getvalue(), nl=False)
    elif names:
        from rich.table import Table

        shown = Table()
        for name in names:
            shown.add_column(name)
        for row in rows:
            shown.add_row(*("" if v is None else str(v) for v in row))
        shown_on = console()
        shown_on.print(shown)
        shown_on.print(f"{len(rows)} ligne(s)")

"""`osteo quarantine [list | show HORODATAGE]`: what each import set aside, and how to fix it.

Machine formats are stable and documented in the README's command table:

- ``list --format json``: ``[{"stamp", "imported_at", "snapshot", "rows",
  "files": [{"file", "rows", "rules": {rule: rows}}]}]``, oldest first;
- ``list --format csv``: ``stamp,imported_at,snapshot,file,rule,rows``, one line per file
  and rule;
- ``show --format json``: ``[{"file", "row", "dataset", "column", "rule", "explanation"}]``;
  ``show --format csv`` has the same columns.

Nothing printed holds a value from the data: only file labels, row numbers, column
headers, rule names and the French explanation of each rule.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from osteo_analytics.cli.output import console, format_option, print_result
from osteo_analytics.cli.tools import Group, open_workspace, unlock

if TYPE_CHECKING:
    from datetime import datetime

    from rich.console import Console

    from osteo_analytics.quarantine import QuarantineSet, Record

FORMAT_HELP = "table (lisible), json ou csv (formats stables, décrits dans le README)."
LIST_COLUMNS = ("stamp", "imported_at", "snapshot", "file", "rule", "rows")
SHOW_COLUMNS = ("file", "row", "dataset", "column", "rule", "explanation")
EMPTY = "Quarantaine vide : aucune ligne mise de côté."


# --format on the group and on each subcommand (the subcommand's wins).
_format_option = format_option(f"{FORMAT_HELP} Défaut : table.", default=None)


def _fmt(ctx: click.Context, own: str | None) -> str:
    """The subcommand's --format, else the group's, else table."""
    parent = ctx.parent.params.get("fmt") if ctx.parent is not None else None
    return own or parent or "table"


@click.group(name="quarantine", cls=Group, invoke_without_command=True)
@_format_option
@click.pass_context
def quarantine(ctx: click.Context, fmt: str | None) -> None:
    """Lignes mises de côté par chaque import, et comment corriger le fichier d'origine.

    Sans sous-commande : la liste (comme `osteo quarantine list`). Pour chaque ligne :
    fichier, numéro de ligne dans le fichier d'origine, colonne, règle et une phrase qui
    dit quoi corriger. Aucune valeur des données n'est affichée.
    """
    if ctx.invoked_subcommand is None:
        _list(ctx, fmt or "table")


@quarantine.command(name="list")
@_format_option
@click.pass_context
def list_(ctx: click.Context, fmt: str | None) -> None:
    """Les quarantaines, de la plus ancienne à la plus récente, avec le nombre de lignes
    mises de côté par fichier et par règle."""
    _list(ctx, _fmt(ctx, fmt))


@quarantine.command()
@click.argument("stamp", metavar="HORODATAGE")
@_format_option
@click.pass_context
def show(ctx: click.Context, stamp: str, fmt: str | None) -> None:
    """Le détail d'une quarantaine (HORODATAGE, donné par `osteo quarantine list`).

    Une ligne par ligne mise de côté : fichier, ligne, colonne, règle et explication.
    """
    from osteo_analytics.quarantine import open_set, set_folder

    fmt = _fmt(ctx, fmt)
    set_folder(open_workspace(ctx), stamp)  # an unknown stamp is refused before any prompt
    found, records = open_set(unlock(ctx), stamp)
    if fmt == "table":
        _print_show(found, records, _timezone(ctx), console())
    else:
        _print_records(records, fmt)


def _list(ctx: click.Context, fmt: str) -> None:
    from osteo_analytics.quarantine import list_sets, stamps

    workspace = open_workspace(ctx)
    # No set, nothing to decrypt: no passphrase needed to say so.
    sets = list_sets(unlock(ctx)) if stamps(workspace) else []
    if fmt == "json":
        click.echo(json.dumps([_set_dict(s) for s in sets], ensure_ascii=False, indent=2))
    elif fmt == "csv":
        print_result(_list_table(sets), "csv")
    else:
        _print_list(sets, _timezone(ctx), console())


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _set_dict(s: QuarantineSet) -> dict[str, Any]:
    return {
        "stamp": s.stamp,
        "imported_at": _iso(s.imported_at),
        "snapshot": s.snapshot,
        "rows": s.rows,
        "files": [{"file": f.file, "rows": f.rows, "rules": f.rules} for f in s.files],
    }


def _list_table(sets: list[QuarantineSet]) -> Any:
    import pyarrow as pa

    rows = [
        {
            "stamp": s.stamp,
            "imported_at": _iso(s.imported_at),
            "snapshot": s.snapshot,
            "file": f.file,
            "rule": rule,
            "rows": n,
        }
        for s in sets
        for f in s.files
        for rule, n in f.rules.items()
    ]
    schema = pa.schema([(c, pa.int64() if c == "rows" else pa.string()) for c in LIST_COLUMNS])
    return pa.Table.from_pylist(rows, schema=schema)


def _print_records(records: list[Record], fmt: str) -> None:
    import pyarrow as pa

    schema = pa.schema([(c, pa.int64() if c == "row" else pa.string()) for c in SHOW_COLUMNS])
    print_result(pa.Table.from_pylist([r.to_dict() for r in records], schema=schema), fmt)


# --- tables for people -----------------------------------------------------------------


def _timezone(ctx: click.Context) -> str:
    from osteo_analytics.settings import load_settings

    return str(load_settings(ctx.obj["workspace"])["timezone"])


def _when(moment: datetime, timezone: str) -> str:
    from zoneinfo import ZoneInfo

    from babel.dates import format_datetime

    from osteo_analytics.formatting import LOCALE

    return format_datetime(moment, "d MMM y HH:mm", tzinfo=ZoneInfo(timezone), locale=LOCALE)


def _print_list(sets: list[QuarantineSet], timezone: str, console: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    from osteo_analytics.formatting import count
    from osteo_analytics.quarantine import explanation

    if not sets:
        console.print(EMPTY)
        return
    table = Table(title="Quarantaine", title_justify="left")
    for header in ("quarantaine", "import du", "fichier", "motif", "règle", "lignes"):
        table.add_column(header, justify="right" if header == "lignes" else "left")
    for s in sets:
        for i, f in enumerate(s.files):
            for j, (rule, n) in enumerate(f.rules.items()):
                first = i == 0 and j == 0
                table.add_row(
                    s.stamp if first else "",
                    _when(s.imported_at, timezone) if first else "",
                    Text(f.file) if j == 0 else "",
                    explanation(rule).problem,
                    rule,
                    count(n),
                )
    console.print(table)
    total = sum(s.rows for s in sets)
    console.print(
        f"{count(total)} ligne(s) mise(s) de côté en {count(len(sets))} import(s). "
        "Détail et corrections : osteo quarantine show QUARANTAINE"
    )


def _print_show(s: QuarantineSet, records: list[Record], timezone: str, console: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    from osteo_analytics.formatting import count
    from osteo_analytics.quarantine import contract_column_label

    snapshot = f", instantané {s.snapshot}" if s.snapshot else ""
    console.print(f"Quarantaine {s.stamp} : import du {_when(s.imported_at, timezone)}{snapshot}")
    table = Table()
    for header in ("fichier", "ligne", "colonne", "règle", "explication"):
        table.add_column(header, justify="right" if header == "ligne" else "left")
    for r in records:
        whole = r.column == "*"
        column = "(ligne entière)" if whole else contract_column_label(r.dataset, r.column)
        table.add_row(
            Text(r.file),
            "(fichier)" if r.row is None else str(r.row),
            Text(column),
            r.rule,
            r.explanation,
        )
    console.print(table)
    console.print(
        f"{count(len(records))} ligne(s) mise(s) de côté. Les numéros de ligne sont ceux du "
        "fichier d'origine (en-tête = ligne 1) ; corrigez-le, puis réimportez-le."
    )

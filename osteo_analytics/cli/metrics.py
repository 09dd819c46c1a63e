"""`osteo metrics` (the headline figures) and `osteo sql` (the hardened warehouse, for power users).

Machine formats are stable and documented in docs/metrics.md: `--format json` prints the
headline-figures document of DESIGN.md exactly; `--format csv` one row per month with
the same keys flattened (`received_by_method.cb` -> `received_cb`). The table format is for
people: French labels, euros as `1 234,50 €`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

import click

from osteo_analytics.cli.output import console, format_option, print_result
from osteo_analytics.cli.tools import unlock
from osteo_analytics.errors import ReadOnlyError, UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from osteo_analytics.warehouse import Warehouse

DATE = click.DateTime(formats=["%Y-%m-%d"])


# --- osteo metrics ---------------------------------------------------------------------


@click.command(name="metrics")
@click.option("--from", "from_", type=DATE, help="Premier jour (AAAA-MM-JJ). Défaut : tout.")
@click.option("--to", "to", type=DATE, help="Dernier jour inclus (AAAA-MM-JJ). Défaut : tout.")
@click.option(
    "--practitioner",
    "practitioners",
    metavar="ID",
    multiple=True,
    help="Seulement ce praticien (identifiant PR-… de la vue practitioners d'osteo sql) ; "
    "répétable. Défaut : tout le cabinet.",
)
@format_option("table (lisible), json (chiffres clés, format stable) ou csv (un mois par ligne).")
@click.pass_context
def metrics(
    ctx: click.Context,
    from_: dt.datetime | None,
    to: dt.datetime | None,
    practitioners: tuple[str, ...],
    fmt: str,
) -> None:
    """Chiffres clés par mois : consultations, patients, facturé, encaissé, impayés.

    Facturé = factures par date d'émission, hors factures annulées et leurs avoirs ; un
    avoir partiel est déduit le mois de son émission. Encaissé = paiements par date
    d'encaissement (remboursements en négatif). Sans --from/--to : tous les mois de
    l'instantané. Avec --practitioner : les consultations et factures de ce praticien, les
    paiements de ses factures ; un patient est nouveau pour lui à sa première consultation
    avec lui.
    """
    from osteo_analytics.metrics import headline
    from osteo_analytics.warehouse import open_warehouse

    start, end = (from_.date() if from_ else None), (to.date() if to else None)
    if start and end and start > end:
        raise UsageError("--from est après --to : la période est vide")
    # Only the years of the period are decrypted when it is fully given.
    years = list(range(start.year, end.year + 1)) if start and end else None
    with open_warehouse(unlock(ctx), years=years) as wh:
        if start is None or end is None:
            if wh.span is None:
                raise UsageError("l'instantané ne contient aucune consultation ni facture")
            start, end = start or wh.span[0], end or wh.span[1]
        document = headline(wh, start, end, practitioners=list(practitioners) or None)
        names = _display_names(wh, practitioners)
    if fmt == "json":
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
    elif fmt == "csv":
        click.echo(_headline_csv(document), nl=False)
    else:
        _print_headline(document, console(), names)


def _display_names(wh: Warehouse, practitioners: tuple[str, ...]) -> list[str]:
    """The names of the practitioners asked for (already checked), in the order given."""
    if not practitioners:
        return []
    rows = wh.query("SELECT practitioner_id, display_name FROM practitioners")
    known = dict(zip(rows["practitioner_id"], rows["display_name"], strict=True))
    return [str(known.get(p) or p) for p in dict.fromkeys(practitioners)]


def _headline_csv(document: dict[str, Any]) -> str:
    """One row per month, the headline keys in their order, `received_by_method.cb` as
    `received_cb`: the columns follow the JSON document, so the two cannot drift apart."""
    rows = [_flat(month) for month in document["months"]]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if rows:  # a period always has a month; without one there is nothing to head
        writer.writerow(rows[0])
        writer.writerows(row.values() for row in rows)
    return out.getvalue()


def _flat(month: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in month.items():
        if key == "received_by_method":
            flat.update({f"received_{method}": amount for method, amount in value.items()})
        else:
            flat[key] = value
    return flat


def _print_headline(document: dict[str, Any], console: Console, names: list[str]) -> None:
    from rich.table import Table

    from osteo_analytics.contracts.model import labels
    from osteo_analytics.formatting import count, euros, month_name
    from osteo_analytics.metrics import METHODS

    method_labels = labels("payments", "method")

    months, totals = document["months"], document["totals"]
    label = {m["month"]: month_name(dt.date.fromisoformat(m["month"] + "-01")) for m in months}
    console.print(f"Période du {document['from']} au {document['to']}")
    if names:
        who = f"Praticien{'s' if len(names) > 1 else ''} : {', '.join(names)}"
        console.print(who, markup=False, highlight=False)  # names as written, no markup

    activity = Table(title="Activité", title_justify="left")
    for header in ("mois", "consultations", "annulées", "non honorées", "nouveaux", "patients vus"):
        activity.add_column(header, justify="left" if header == "mois" else "right")
    for m in months:
        activity.add_row(
            label[m["month"]],
            *(count(m[k]) for k in ("consultations_done", "consultations_cancelled")),
            count(m["consultations_no_show"]),
            count(m["new_patients"]),
            count(m["active_patients"]),
        )
    activity.add_row(
        "total",
        *(count(totals[k]) for k in ("consultations_done", "consultations_cancelled")),
        count(totals["consultations_no_show"]),
        count(totals["new_patients"]),
        count(totals["distinct_patients"]),
        style="bold",
    )
    console.print(activity)

    money = Table(title="Recettes", title_justify="left")
    methods = [method_labels[m] for m in METHODS]
    for header in ("mois", "facturé", "encaissé", *methods, "impayées", "reste dû"):
        money.add_column(header, justify="left" if header == "mois" else "right")
    for row, style in [*((m, None) for m in months), (totals, "bold")]:
        money.add_row(
            label.get(row.get("month", ""), "total"),
            euros(row["revenue_invoiced"]),
            euros(row["revenue_received"]),
            *(euros(row["received_by_method"][m]) for m in METHODS),
            count(row["unpaid_invoices"]),
            euros(row["unpaid_amount"]),
            style=style,
        )
    console.print(money)
    console.print(
        "Facturé : factures par date d'émission, hors annulées et leurs avoirs ; un avoir "
        "partiel est déduit le mois de son émission. Encaissé : paiements par date "
        "d'encaissement, remboursements déduits. Impayées : factures du mois non soldées "
        f"au {document['to']}."
    )


# --- osteo sql -------------------------------------------------------------------------


@click.command(name="sql")
@click.option("-c", "--command", "command", help="Requête SQL à exécuter (sinon : invite).")
@format_option("Format du résultat.")
@click.pass_context
def sql(ctx: click.Context, command: str | None, fmt: str) -> None:
    """SQL en lecture seule sur l'entrepôt en mémoire, sans accès aux fichiers ni au réseau.

    Vues : patients, consultations, invoices, payments, practitioners, patient_history et
    une vue par métrique (docs/metrics.md), paramétrée par les variables DuckDB
    (SET VARIABLE date_from = DATE '2025-01-01'). Permis : SELECT, WITH, DESCRIBE, SHOW,
    SUMMARIZE, EXPLAIN et SET/RESET VARIABLE ; tout le reste (CREATE, INSERT, SET,
    PRAGMA, COPY, ATTACH, INSTALL...) est refusé. Sans -c : invite interactive, requêtes
    terminées par « ; », `.quit` pour sortir, `.tables` pour la liste des vues.
    """
    from osteo_analytics.warehouse import open_warehouse

    with open_warehouse(unlock(ctx)) as wh:
        if command is not None:
            try:
                wh.check_read_only(command)
                table = wh.arrow(command)
            except _duckdb_error() as exc:
                raise UsageError(f"SQL : {_first_line(exc)}") from None
            print_result(table, fmt)
        else:
            _repl(wh, fmt, sys.stdin)


def _duckdb_error() -> type[Exception]:
    import duckdb

    return duckdb.Error


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__


def _repl(wh: Warehouse, fmt: str, stream: TextIO) -> None:
    """Read statements ending with `;` until `.quit` or end of input; errors are one line."""
    from osteo_analytics.warehouse import view_names

    interactive = sys.stdin.isatty()
    error = _duckdb_error()
    buffer: list[str] = []
    if interactive:
        click.echo("Entrepôt ouvert. Requêtes terminées par « ; », .tables, .quit", err=True)
    while True:
        if interactive:
            click.echo("osteo> " if not buffer else "   ..> ", nl=False, err=True)
        line = stream.readline()
        if not line:
            break
        stripped = line.strip()
        if not buffer and stripped.startswith("."):
            if stripped in (".quit", ".exit", ".q"):
                break
            if stripped == ".tables":
                click.echo("\n".join(view_names()))
            else:
                click.echo("Commandes : .tables, .quit", err=True)
            continue
        buffer.append(line)
        if not stripped.endswith(";"):
            continue
        statement, buffer = "".join(buffer), []
        try:
            wh.check_read_only(statement)
            print_result(wh.arrow(statement), fmt)
        except ReadOnlyError as exc:
            click.echo(f"Erreur : {exc}", err=True)
        except error as exc:
            click.echo(f"Erreur : {_first_line(exc)}", err=True)

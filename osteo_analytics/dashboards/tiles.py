"""The six KPI tiles, each against the same period one year earlier, as one HTML string.

From two headline documents (`metrics.headline`, DESIGN.md "Headline figures"): this
period and the same period a year earlier. CA encaissé (payments by payment date), CA
facturé (invoices that stand, by issue date), consultations done, new patients (first
done consultation), panier moyen and impayés. Panier moyen follows average_fee.sql:
facturé divided by the invoices that stand (partial credit notes lower the amount and
are not invoices), rounded half up to the cent; its invoice counts come from
`metrics.average_fee`, the headline has none. Impayés is what the invoices of the period
still owe on its last day.

The change is written `+12,3 %` or `−4,0 %` (a true minus sign), and `—` when the earlier
value is zero or missing. The HTML escapes every text and carries its own CSS: no
external resource, a grid that holds six tiles on a row at 1280 px and two on a phone.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from babel.numbers import format_decimal

from osteo_analytics import metrics
from osteo_analytics.dashboards.page import Filters, Page, Section, call
from osteo_analytics.dashboards.theme import NBSP, day_label, period_label
from osteo_analytics.formatting import LOCALE, count, euros
from osteo_analytics.warehouse import Warehouse

NONE = "—"
MINUS = "\u2212"
_CENT = Decimal("0.01")
_TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Tile:
    """One KPI: its label, value and change written in French, its basis and period."""

    label: str
    value: str
    basis: str
    period: str
    change: str | None = None  # None: no comparison asked for


def change(current: Decimal | int, previous: Decimal | int | None) -> str:
    """`+12,3 %`, `−4,0 %`, `0,0 %`; `—` when the earlier value is zero or missing."""
    if previous is None or previous == 0:
        return NONE
    ratio = (Decimal(current) - Decimal(previous)) * 100 / abs(Decimal(previous))
    tenths = ratio.quantize(_TENTH, rounding=ROUND_HALF_UP)
    sign = "+" if tenths > 0 else MINUS if tenths < 0 else ""
    return f"{sign}{format_decimal(abs(tenths), '#,##0.0', locale=LOCALE)}{NBSP}%"


def average(amount: Decimal, invoices: int) -> Decimal | None:
    """Facturé per invoice, rounded half up to the cent (None without an invoice)."""
    if invoices <= 0:
        return None
    return (Decimal(amount) / invoices).quantize(_CENT, rounding=ROUND_HALF_UP)


def kpis(
    current: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    *,
    invoices: int,
    previous_invoices: int | None = None,
) -> list[Tile]:
    """The six tiles of `current` (a headline document), changes against `previous`.

    `previous` None draws no change; `invoices` are the invoices that stand in the
    period (the panier moyen's divisor), `previous_invoices` the earlier period's.
    """
    start, end = (dt.date.fromisoformat(current[k]) for k in ("from", "to"))
    period = period_label(start, end)
    now, before = current["totals"], previous["totals"] if previous else None

    def amount(doc: Mapping[str, Any] | None, key: str) -> Decimal | None:
        return None if doc is None else Decimal(doc[key])

    basket = average(Decimal(now["revenue_invoiced"]), invoices)
    old_basket = (
        None
        if before is None
        else average(Decimal(before["revenue_invoiced"]), previous_invoices or 0)
    )
    rows: list[tuple[str, str, Decimal | int | None, Decimal | int | None, bool]] = [
        # label, basis, value, earlier value, is money
        ("CA encaissé", "encaissé", Decimal(now["revenue_received"]),
         amount(before, "revenue_received"), True),
        ("CA facturé", "facturé", Decimal(now["revenue_invoiced"]),
         amount(before, "revenue_invoiced"), True),
        ("Consultations", "réalisées", now["consultations_done"],
         None if before is None else before["consultations_done"], False),
        ("Nouveaux patients", "première consultation", now["new_patients"],
         None if before is None else before["new_patients"], False),
        ("Panier moyen", "facturé par facture", basket, old_basket, True),
        ("Impayés", f"facturé, dû au {day_label(end)}", Decimal(now["unpaid_amount"]),
         amount(before, "unpaid_amount"), True),
    ]  # fmt: skip
    return [
        Tile(
            label=label,
            value=_value(value, money),
            basis=basis,
            period=f"factures du {period}" if label == "Impayés" else period,
            change=None if previous is None else _change(value, earlier),
        )
        for label, basis, value, earlier, money in rows
    ]


def _value(value: Decimal | int | None, money: bool) -> str:
    if value is None:
        return NONE
    return euros(value) if money else count(int(value))


def _change(value: Decimal | int | None, earlier: Decimal | int | None) -> str:
    return NONE if value is None else change(value, earlier)


_SINCE = "par rapport à la même période un an plus tôt"
_CSS = """
.osteo-tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(10.5rem,1fr));
gap:.75rem;margin:.5rem 0 1rem;font-family:system-ui,-apple-system,'Segoe UI',Roboto,
Arial,sans-serif;color:#222}
.osteo-tile{border:1px solid #d0d0d0;border-radius:.5rem;padding:.7rem .75rem;background:#fff;
min-width:0}
.osteo-tile__label{font-size:.85rem;color:#444;margin:0}
.osteo-tile__value{font-size:1.15rem;font-weight:600;margin:.15rem 0;overflow-wrap:anywhere}
.osteo-tile__change{font-size:.9rem;margin:0}
.osteo-tile__basis{font-size:.75rem;color:#555;margin:.2rem 0 0}
@media (max-width:480px){.osteo-tiles{grid-template-columns:repeat(2,minmax(0,1fr));gap:.5rem}
.osteo-tile{padding:.5rem .6rem}.osteo-tile__value{font-size:1.15rem}}
"""


def render(tiles: Sequence[Tile]) -> str:
    """The tiles as one HTML fragment with its CSS; every text escaped."""
    cards = []
    for t in tiles:
        lines = [
            f'<p class="osteo-tile__label">{html.escape(t.label)}</p>',
            f'<p class="osteo-tile__value">{html.escape(t.value)}</p>',
        ]
        if t.change is not None:
            lines.append(
                f'<p class="osteo-tile__change" title="{_SINCE}">'
                f"{html.escape(t.change)} sur un an</p>"
            )
        lines.append(f'<p class="osteo-tile__basis">{html.escape(f"{t.basis}, {t.period}")}</p>')
        cards.append(f'<div class="osteo-tile" role="listitem">{"".join(lines)}</div>')
    return (
        f"<style>{_CSS}</style>"
        f'<div class="osteo-tiles" role="list" lang="fr">{"".join(cards)}</div>'
    )


def headline_tiles(wh: Warehouse, filters: Filters) -> str:
    """The six tiles of the filters' period (changes when `filters.compare`), as HTML."""
    current = call(metrics.headline, wh, filters)
    invoices = int(call(metrics.average_fee, wh, filters)["invoices"].sum())
    if not filters.compare:
        return render(kpis(current, None, invoices=invoices))
    previous = call(metrics.headline, wh, filters, previous=True)
    earlier = int(call(metrics.average_fee, wh, filters, previous=True)["invoices"].sum())
    return render(kpis(current, previous, invoices=invoices, previous_invoices=earlier))


def headline_page(title: str, wh: Warehouse, filters: Filters, sections: list[Section]) -> Page:
    """An app's page: `title` and the period, the six tiles, then `sections`."""
    return Page(f"{title} — {filters.period}", headline_tiles(wh, filters), sections)

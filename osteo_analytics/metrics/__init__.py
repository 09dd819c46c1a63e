"""The metric library: one function per SQL file of `osteo_analytics/sql/`, pandas out.

Every function takes the warehouse first, then the period (`from_`, `to`: inclusive dates,
default the warehouse's whole span) and the metric's own options. Money columns hold
`decimal.Decimal` (DECIMAL in DuckDB, never float). Each result states its basis
(docs/metrics.md): encaissé (payments by payment date) or facturé (invoices by issue date,
net of cancellations and credit notes), never mixed in one figure.

`headline()` returns the headline-figures document of DESIGN.md, the JSON that
`osteo metrics --format json` prints and the synthetic generator's ground truth uses.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd

from osteo_analytics.contracts.model import codes
from osteo_analytics.warehouse import Warehouse, metric_names

__all__ = [
    "METHODS",
    "active_patients",
    "age_sex",
    "average_fee",
    "cancellations",
    "consultations_by_status",
    "consultations_by_type",
    "consultations_per_working_day",
    "departement",
    "fec",
    "headline",
    "invoice_numbering",
    "livre_journal",
    "metric_names",
    "micro_bnc",
    "motif_category",
    "new_patients",
    "new_patients_registered",
    "reconciliation",
    "retention",
    "return_rate",
    "revenue",
    "revenue_by_act_type",
    "revenue_by_method",
    "revenue_by_practitioner",
    "revenue_yoy",
    "run",
    "tax_2035",
    "unpaid_aging",
    "unpaid_invoices",
    "visits_per_patient",
    "weekday_hour",
]

# The payment methods, keys of `received_by_method` in the headline document (DESIGN.md).
METHODS = codes("payments", "method")
_CENT = Decimal("0.01")
Day = dt.date | None


def run(wh: Warehouse, name: str, **params: Any) -> pd.DataFrame:
    """Any metric by name (`sql/<name>.sql`), parameters by their SQL names."""
    return wh.metric(name, **params)


def _period(wh: Warehouse, name: str, from_: Day, to: Day, **params: Any) -> pd.DataFrame:
    return wh.metric(name, date_from=from_, date_to=to, **params)


# --- revenue ---------------------------------------------------------------------------


def revenue(
    wh: Warehouse,
    from_: Day = None,
    to: Day = None,
    *,
    grain: str = "month",
    basis: str = "encaisse",
) -> pd.DataFrame:
    """Revenue per day, week, month or year on one basis (encaisse or facture)."""
    return _period(wh, "revenue", from_, to, grain=grain, basis=basis)


def revenue_yoy(
    wh: Warehouse, from_: Day = None, to: Day = None, *, basis: str = "encaisse"
) -> pd.DataFrame:
    """Each month against the same month one year earlier, same basis."""
    return _period(wh, "revenue_yoy", from_, to, basis=basis)


def revenue_by_method(wh: Warehouse, from_: Day = None, to: Day = None) -> pd.DataFrame:
    """Encaissé per means of payment (all five methods)."""
    return _period(wh, "revenue_by_method", from_, to)


def revenue_by_practitioner(
    wh: Warehouse, from_: Day = None, to: Day = None, *, basis: str = "encaisse"
) -> pd.DataFrame:
    """Revenue per practitioner on one basis."""
    return _period(wh, "revenue_by_practitioner", from_, to, basis=basis)


def revenue_by_act_type(
    wh: Warehouse, from_: Day = None, to: Day = None, *, basis: str = "encaisse"
) -> pd.DataFrame:
    """Revenue per consultation type on one basis."""
    return _period(wh, "revenue_by_act_type", from_, to, basis=basis)


def average_fee(wh: Warehouse, from_: Day = None, to: Day = None) -> pd.DataFrame:
    """Average live invoice per month (facturé), exact to the cent."""
    return _period(wh, "average_fee", from_, to)


def unpaid_invoices(wh: Warehouse, from_: Day = None, to: Day = None) -> pd.DataFrame:
    """Live invoices issued in the period still (partly) unpaid on `to`."""
    return _period(wh, "unpaid_invoices", from_, to)


def unpaid_aging(wh: Warehouse, from_: Day = None, to: Day = None) -> pd.DataFrame:
    """Unpaid invoices and amounts due in the 0-30, 31-60, 61-90 and >90 days buckets."""
    return _period(wh, "unpaid_aging", from_, to)


def cancellations(wh: Warehouse, from_: Day = None, to: Day = None) -> pd.DataFrame:
    """Cancelled invoices, credit notes and replacement invoices per month."""
    return _period(wh, "cancellations", from_, to)


# --- activity --------------------------------------------------------------------------


def consultations_by_status(
    wh: Warehouse, from_: Day = None, to: Day = None, *, grain: str = "month"
) -> pd.DataFrame:
    """Appointments done, cancelled and missed per period."""
    return _period(wh, "consultations_by_status", from_, to, grain=grain)


def new_patients(wh: Warehouse, from_: Day = None, to: Day = None) -> pd.DataFrame:
    """Patients whose first done consultation falls in each month."""
    return _period(wh, "new_patients", from_, to)


def new_patients_registered(wh: Warehouse, from_: Day = None, to: Day = None) -> pd.DataFrame:
    """Patient files created in each month (LibreOsteo's count)."""
    return _period(wh, "new_patients_registered", from_, to)


def active_patients(wh: Warehouse, from_: Day = None, to: Day = None) -> pd.DataFrame:
    """Distinct patients seen per month."""
    return _period(wh, "active_patients", from_, to)


def return_rate(
    wh: Warehouse, from_: Day = None, to: Day = None, *, within_days: int = 90
) -> pd.DataFrame:
    """Share of visits followed by another visit of the same patient within `within_days`."""
    return _period(wh, "return_rate", from_, to, within_days=within_days)


def visits_per_patient(wh: Warehouse, from_: Day = None, to: Day = None) -> pd.DataFrame:
    """Distribution of done consultations per patient seen in the period."""
    return _period(wh, "visits_per_patient", from_, to)


def consultations_by_type(wh: Warehouse, from_: Day = None, to: Day = None) -> pd.DataFrame:
    """Done consultations per type per month (returns and emergencies included)."""
    return _period(wh, "consultations_by_type", from_, to)


def age_sex(wh: Warehouse, from_: Day = None, to: Day = None) -> pd.DataFrame:
    """Done consultations and patients per age band (at the visit) and sex."""
    return _period(wh, "age_sex", from_, to)


def departement(wh: Warehouse, from_: Day = None, to: Day = None) -> pd.DataFrame:
    """Patients seen per département of residence."""
    return _period(wh, "departement", from_, to)


def motif_category(wh: Warehouse, from_: Day = None, to: Day = None) -> pd.DataFrame:
    """Done consultations per motif category."""
    return _period(wh, "motif_category", from_, to)


def weekday_hour(wh: Warehouse, from_: Day = None, to: Day = None) -> pd.DataFrame:
    """Done consultations per ISO weekday and start hour."""
    return _period(wh, "weekday_hour", from_, to)


def consultations_per_working_day(wh: Warehouse, from_: Day = None, to: Day = None) -> pd.DataFrame:
    """Done consultations per jour ouvré (French public holidays excluded) per month."""
    return _period(wh, "consultations_per_working_day", from_, to)


# --- accountant ------------------------------------------------------------------------


def livre_journal(wh: Warehouse, from_: Day = None, to: Day = None) -> pd.DataFrame:
    """Every receipt and refund in date order, with daily and running totals."""
    return _period(wh, "livre_journal", from_, to)


def invoice_numbering(wh: Warehouse, from_: Day = None, to: Day = None) -> pd.DataFrame:
    """Gaps, duplicates and backdated numbers in the invoice numbering."""
    return _period(wh, "invoice_numbering", from_, to)


def reconciliation(wh: Warehouse, from_: Day = None, to: Day = None) -> pd.DataFrame:
    """Invoices paid more or less than due, unrefunded cancellations, orphan payments."""
    return _period(wh, "reconciliation", from_, to)


def tax_2035(wh: Warehouse, from_: Day = None, to: Day = None) -> pd.DataFrame:
    """Receipts per calendar year (encaissé), for the 2035 return."""
    return _period(wh, "tax_2035", from_, to)


def micro_bnc(wh: Warehouse, from_: Day = None, to: Day = None) -> pd.DataFrame:
    """Year-to-date receipts against the micro-BNC threshold of each year (settings)."""
    return _period(wh, "micro_bnc", from_, to)


def fec(wh: Warehouse, from_: Day = None, to: Day = None) -> pd.DataFrame:
    """FEC rows (18 columns, typed) of the receipts journal."""
    return _period(wh, "fec", from_, to)


# --- retention -------------------------------------------------------------------------


def retention(wh: Warehouse, as_of: Day = None) -> pd.DataFrame:
    """Patients whose legal keep period is over on `as_of` (default today)."""
    return wh.metric("retention", as_of=as_of)


# --- headline figures ------------------------------------------------------------------


def _money(value: Decimal | int) -> str:
    return str(Decimal(value).quantize(_CENT))


def headline(wh: Warehouse, from_: Day = None, to: Day = None) -> dict[str, Any]:
    """The headline-figures document of DESIGN.md for [from_, to] (default: the span).

    Amounts are strings with two decimals; every month of the period is present; the five
    methods are always present; totals sum the additive keys (active_patients is a
    distinct count, so it has no total) and add distinct_patients.
    """
    defaults = wh.defaults()
    start, end = from_ or defaults["date_from"], to or defaults["date_to"]
    rows = _period(wh, "headline", start, end).to_dict("records")
    months = [_headline_month(row) for row in rows]
    totals: dict[str, Any] = {key: sum(m[key] for m in months) for key in _COUNTS}
    for key in ("revenue_invoiced", "revenue_received"):
        totals[key] = _money(sum(Decimal(m[key]) for m in months))
    totals["received_by_method"] = {
        method: _money(sum(Decimal(m["received_by_method"][method]) for m in months))
        for method in METHODS
    }
    totals["unpaid_invoices"] = sum(m["unpaid_invoices"] for m in months)
    totals["unpaid_amount"] = _money(sum(Decimal(m["unpaid_amount"]) for m in months))
    totals["distinct_patients"] = int(rows[0]["distinct_patients"]) if rows else 0
    return {"from": start.isoformat(), "to": end.isoformat(), "months": months, "totals": totals}


_COUNTS = ("consultations_done", "consultations_cancelled", "consultations_no_show", "new_patients")


def _headline_month(row: dict[Any, Any]) -> dict[str, Any]:
    """One month of the headline document, keys in the DESIGN.md order."""
    return {
        "month": row["month"].strftime("%Y-%m"),
        **{key: int(row[key]) for key in _COUNTS},
        "active_patients": int(row["active_patients"]),
        "revenue_invoiced": _money(row["revenue_invoiced"]),
        "revenue_received": _money(row["revenue_received"]),
        "received_by_method": {m: _money(row[f"received_{m}"]) for m in METHODS},
        "unpaid_invoices": int(row["unpaid_invoices"]),
        "unpaid_amount": _money(row["unpaid_amount"]),
    }

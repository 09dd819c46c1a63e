"""The metric library: one callable per SQL file of `osteo_analytics/metrics/sql/`, pandas out.

Every metric takes the warehouse first, then the period (`from_`, `to`: inclusive dates,
default the warehouse's whole span) and the metric's own options by keyword; `retention`
takes the day of the check (`as_of`) instead of a period. Every one takes
`practitioners=`: one practitioner_id, several, or None (the default) for the whole
cabinet (which practitioner each row belongs to: docs/metrics.md, "Practitioners").
Money columns hold `decimal.Decimal` (DECIMAL in DuckDB, never float). Each result states
its basis (docs/metrics.md): encaissé (payments by payment date) or facturé (invoices by
issue date, net of cancellations and credit notes), never mixed in one figure.

A metric is a `Metric` made from its SQL file: its docstring is the file's definition, its
`columns` the columns the file's header documents; the shape of its call (which options
it takes) is its class, written once per shape. `METRICS` holds them all by name.

`headline()` returns the headline-figures document of DESIGN.md, the JSON that
`osteo metrics --format json` prints and the synthetic generator's ground truth uses
(`METRICS["headline"]` is the frame it is made from).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pandas as pd

from osteo_analytics.contracts.model import codes
from osteo_analytics.warehouse import MetricSQL, Warehouse, metric_names, metric_sql

__all__ = [
    "METHODS",
    "METRICS",
    "Metric",
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
# One practitioner_id, several, or None: the whole cabinet (Warehouse.practitioner_filter).
Practitioners = Sequence[str] | str | None

# Every metric file by name, each entered when its `Metric` is made below.
METRICS: dict[str, Metric] = {}


def run(wh: Warehouse, name: str, **params: Any) -> pd.DataFrame:
    """Any metric by name (`sql/<name>.sql`), parameters by their SQL names."""
    return wh.metric(name, **params)


class Metric:
    """One metric file as a function of the warehouse; subclasses give the call's shape."""

    def __init__(self, name: str) -> None:
        spec = metric_sql(name)
        self.name = self.__name__ = name
        self.title: str = spec.title
        self.basis: str = spec.basis
        self.columns = tuple(c.strip() for c in spec.header.get("columns", "").split(","))
        self.__doc__ = _docstring(spec)
        METRICS[name] = self

    def __repr__(self) -> str:
        return f"<metric {self.name}>"

    def run(self, wh: Warehouse, **params: Any) -> pd.DataFrame:
        """The metric with its SQL parameters by name (`date_from`, `basis`...)."""
        return wh.metric(self.name, **params)

    def _over(
        self, wh: Warehouse, from_: Day, to: Day, practitioners: Practitioners, **options: Any
    ) -> pd.DataFrame:
        """The metric over [from_, to] for the practitioners, its own options by SQL name."""
        return self.run(wh, date_from=from_, date_to=to, practitioners=practitioners, **options)


def _docstring(spec: MetricSQL) -> str:
    """The file's own comment (its definition, English), then its basis and columns."""
    lines = []
    for line in spec.sql.splitlines():
        if not line.startswith("--"):
            break
        text = line[2:].removeprefix(" ").rstrip()
        if text.split(":", 1)[0] not in spec.header:
            lines.append(text)
    lines += ["", f"Basis: {spec.basis}.", f"Columns: {spec.header.get('columns', '')}."]
    return "\n".join(lines)


class PeriodMetric(Metric):
    def __call__(
        self,
        wh: Warehouse,
        from_: Day = None,
        to: Day = None,
        *,
        practitioners: Practitioners = None,
    ) -> pd.DataFrame:
        """The metric over [from_, to] (None: the start or end of the warehouse's span), of
        the practitioners (None: the whole cabinet)."""
        return self._over(wh, from_, to, practitioners)


class BasisMetric(Metric):
    def __call__(
        self,
        wh: Warehouse,
        from_: Day = None,
        to: Day = None,
        *,
        basis: str = "encaisse",
        practitioners: Practitioners = None,
    ) -> pd.DataFrame:
        """The metric over [from_, to] on one basis, `encaisse` or `facture`."""
        return self._over(wh, from_, to, practitioners, basis=basis)


class GrainMetric(Metric):
    def __call__(
        self,
        wh: Warehouse,
        from_: Day = None,
        to: Day = None,
        *,
        grain: str = "month",
        practitioners: Practitioners = None,
    ) -> pd.DataFrame:
        """The metric over [from_, to] per `day`, `week` (ISO), `month` or `year`."""
        return self._over(wh, from_, to, practitioners, grain=grain)


class GrainBasisMetric(Metric):
    def __call__(
        self,
        wh: Warehouse,
        from_: Day = None,
        to: Day = None,
        *,
        grain: str = "month",
        basis: str = "encaisse",
        practitioners: Practitioners = None,
    ) -> pd.DataFrame:
        """The metric over [from_, to] per `grain` period, on one basis."""
        return self._over(wh, from_, to, practitioners, grain=grain, basis=basis)


class ReturnMetric(Metric):
    def __call__(
        self,
        wh: Warehouse,
        from_: Day = None,
        to: Day = None,
        *,
        within_days: int = 90,
        practitioners: Practitioners = None,
    ) -> pd.DataFrame:
        """The metric over [from_, to], a return being a visit within `within_days` days."""
        return self._over(wh, from_, to, practitioners, within_days=within_days)


class AsOfMetric(Metric):
    def __call__(
        self, wh: Warehouse, as_of: Day = None, *, practitioners: Practitioners = None
    ) -> pd.DataFrame:
        """The metric on day `as_of` (None: today in the practice's time zone), over the
        patients the practitioners have seen (None: every patient)."""
        return self.run(wh, as_of=as_of, practitioners=practitioners)


# --- revenue ---------------------------------------------------------------------------
revenue = GrainBasisMetric("revenue")
revenue_yoy = BasisMetric("revenue_yoy")
revenue_by_method = PeriodMetric("revenue_by_method")
revenue_by_practitioner = BasisMetric("revenue_by_practitioner")
revenue_by_act_type = BasisMetric("revenue_by_act_type")
average_fee = PeriodMetric("average_fee")
unpaid_invoices = PeriodMetric("unpaid_invoices")
unpaid_aging = PeriodMetric("unpaid_aging")
cancellations = PeriodMetric("cancellations")

# --- activity --------------------------------------------------------------------------
consultations_by_status = GrainMetric("consultations_by_status")
new_patients = PeriodMetric("new_patients")
new_patients_registered = PeriodMetric("new_patients_registered")
active_patients = PeriodMetric("active_patients")
return_rate = ReturnMetric("return_rate")
visits_per_patient = PeriodMetric("visits_per_patient")
consultations_by_type = PeriodMetric("consultations_by_type")
age_sex = PeriodMetric("age_sex")
departement = PeriodMetric("departement")
motif_category = PeriodMetric("motif_category")
weekday_hour = PeriodMetric("weekday_hour")
consultations_per_working_day = PeriodMetric("consultations_per_working_day")

# --- accountant ------------------------------------------------------------------------
livre_journal = PeriodMetric("livre_journal")
invoice_numbering = PeriodMetric("invoice_numbering")
reconciliation = PeriodMetric("reconciliation")
tax_2035 = PeriodMetric("tax_2035")
micro_bnc = PeriodMetric("micro_bnc")
fec = PeriodMetric("fec")

# --- retention -------------------------------------------------------------------------
retention = AsOfMetric("retention")

# --- headline figures ------------------------------------------------------------------

_headline_frame = PeriodMetric("headline")


def _money(value: Decimal | int) -> str:
    return str(Decimal(value).quantize(_CENT))


def headline(
    wh: Warehouse, from_: Day = None, to: Day = None, *, practitioners: Practitioners = None
) -> dict[str, Any]:
    """The headline-figures document of DESIGN.md for [from_, to] (default: the span), of
    the practitioners (None: the whole cabinet; the document has the same keys either way).

    Amounts are strings with two decimals; every month of the period is present; the five
    methods are always present; totals sum the additive keys (active_patients is a
    distinct count, so it has no total) and add distinct_patients.
    """
    defaults = wh.defaults(calendar=False)
    start, end = from_ or defaults["date_from"], to or defaults["date_to"]
    rows = _headline_frame(wh, start, end, practitioners=practitioners).to_dict("records")
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

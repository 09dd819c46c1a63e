"""The revenue app: encaissé and facturé by month, a year earlier, by method, practitioner
and act type, the average fee, unpaid invoices by age, cancellations and credit notes.

Each figure function takes the frame of one metric (its `-- columns:` header) and the
period as figures write it, and returns a plotly figure whose title names its basis and
period; an empty frame gives the figure that says so. `build` runs the metrics for the
filters and returns the page.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from osteo_analytics import metrics
from osteo_analytics.dashboards import theme
from osteo_analytics.dashboards.page import Filters, Html, Page, Section, call
from osteo_analytics.dashboards.theme import (
    BASIS_COLOURS,
    BASIS_LABELS,
    amounts,
    by_month,
    euro_hover,
    money_axis,
    month_axis,
    new_figure,
    title,
)
from osteo_analytics.dashboards.tiles import headline_page
from osteo_analytics.formatting import euros
from osteo_analytics.warehouse import Warehouse

TITLE = "Recettes"
AGING_LABELS = {"0-30": "0 à 30 jours", "31-60": "31 à 60 jours", "61-90": "61 à 90 jours",
                ">90": "plus de 90 jours"}  # fmt: skip
NO_PRACTITIONER = "Facture introuvable"


def monthly(encaisse: pd.DataFrame, facture: pd.DataFrame, period: str) -> go.Figure:
    """Encaissé and facturé per month, side by side (metric `revenue`, one frame a basis)."""
    fig = new_figure(title("Encaissé et facturé par mois", "encaissé et facturé", period))
    if encaisse.empty and facture.empty:
        return theme.empty(fig)
    for frame, basis in ((encaisse, "encaisse"), (facture, "facture")):
        name = BASIS_LABELS[basis].capitalize()
        by_month(fig, list(frame["period_start"]), amounts(frame["amount"]), name=name,
                 colour=BASIS_COLOURS[basis], hover=euro_hover())  # fmt: skip
    month_axis(fig, sorted({*encaisse["period_start"], *facture["period_start"]}))
    money_axis(fig)
    fig.update_layout(barmode="group")
    return fig


def year_over_year(frame: pd.DataFrame, period: str, *, compare: bool = True) -> go.Figure:
    """One basis per month against the same month a year earlier (metric `revenue_yoy`)."""
    basis = str(frame["basis"].iloc[0]) if not frame.empty else "encaisse"
    word = BASIS_LABELS[basis]
    fig = new_figure(title(f"{word.capitalize()} par mois, sur un an", word, period))
    if frame.empty:
        return theme.empty(fig)
    months, colour = list(frame["month"]), BASIS_COLOURS[basis]
    by_month(fig, months, amounts(frame["amount"]), name="Cette période", colour=colour,
             hover=euro_hover(), line={"width": 3})  # fmt: skip
    if compare:
        earlier = [theme.month_label(m.replace(year=m.year - 1)) for m in months]
        by_month(fig, months, amounts(frame["amount_previous_year"]), name="Un an plus tôt",
                 colour=colour, hover=euro_hover(), labels=earlier,
                 line={"width": 2, "dash": "dash"})  # fmt: skip
    money_axis(fig)
    return fig


def by_method(frame: pd.DataFrame, period: str) -> go.Figure:
    """Encaissé by means of payment (metric `revenue_by_method`)."""
    fig = new_figure(title("Encaissé par moyen de paiement", "encaissé", period))
    if frame.empty:
        return theme.empty(fig)
    methods = list(frame["method"])
    colours = [theme.METHOD_COLOURS.get(m, theme.NEUTRAL) for m in methods]
    names = theme.relabel(methods, theme.METHOD_LABELS)
    theme.bars(fig, names, amounts(frame["amount"]), name="Encaissé", colour=colours,
               hover=euro_hover(), axis="Moyen de paiement")  # fmt: skip
    money_axis(fig)
    return fig


def _basis_bars(frame: pd.DataFrame, period: str, what: str, column: str, axis: str) -> go.Figure:
    """One basis's amounts over the categories of `column` (`what`: "par praticien"...)."""
    basis = str(frame["basis"].iloc[0]) if not frame.empty else "encaisse"
    word = BASIS_LABELS[basis]
    fig = new_figure(title(f"{word.capitalize()} {what}", word, period))
    if frame.empty:
        return theme.empty(fig)
    theme.bars(fig, frame[column], amounts(frame["amount"]), name=word.capitalize(),
               colour=BASIS_COLOURS[basis], hover=euro_hover(), axis=axis)  # fmt: skip
    money_axis(fig)
    return fig


def by_practitioner(frame: pd.DataFrame, period: str) -> go.Figure:
    """One basis by practitioner (metric `revenue_by_practitioner`)."""
    names = [NO_PRACTITIONER if pd.isna(n) else theme.plain(n) for n in frame["display_name"]]
    return _basis_bars(frame.assign(name=names), period, "par praticien", "name", "Praticien")


def by_act_type(frame: pd.DataFrame, period: str) -> go.Figure:
    """One basis by consultation type (metric `revenue_by_act_type`)."""
    types = theme.relabel(frame["consultation_type"], theme.TYPE_LABELS)
    return _basis_bars(frame.assign(act=types), period, "par type d'acte", "act", "Type d'acte")


def average_fee(frame: pd.DataFrame, period: str) -> go.Figure:
    """Facturé per invoice, month by month (metric `average_fee`)."""
    fig = new_figure(title("Honoraire moyen par facture", "facturé", period))
    if frame.empty:
        return theme.empty(fig)
    by_month(fig, list(frame["month"]), amounts(frame["average_fee"]), name="Honoraire moyen",
             colour=BASIS_COLOURS["facture"], hover=euro_hover(), line={"width": 3},
             legend=False)  # fmt: skip
    money_axis(fig, "Honoraire moyen (€)")
    fig.update_yaxes(rangemode="normal")
    return fig


def unpaid_aging(frame: pd.DataFrame, period: str, due_on: str) -> go.Figure:
    """What the period's invoices still owe on `due_on`, by age (metric `unpaid_aging`)."""
    what = f"Impayés au {due_on}, par ancienneté"
    fig = new_figure(title(what, "facturé, factures émises", period))
    if frame.empty:
        return theme.empty(fig)
    buckets = list(frame["bucket"])
    names = theme.relabel(buckets, AGING_LABELS)
    theme.bars(
        fig,
        names,
        amounts(frame["due"]),
        name="Restant dû",
        colour=[theme.AGING_COLOURS.get(b, theme.NEUTRAL) for b in buckets],
        hover=euro_hover(),
        axis="Ancienneté de la facture",
        labels=[f"{n} : {c} facture(s)" for n, c in zip(names, frame["invoices"], strict=True)],
    )
    money_axis(fig, "Restant dû (€)")
    return fig


CANCELLATION_SERIES = (
    # count column, amount column, label
    ("cancelled_invoices", "cancelled_amount", "Factures annulées"),
    ("credit_notes", "credit_notes_amount", "Avoirs"),
    ("partial_credit_notes", "partial_credit_notes_amount", "dont avoirs partiels"),
    ("replacement_invoices", "replacement_amount", "Factures de remplacement"),
)
_CANCELLATION_COLOURS = (theme.VERMILLION, theme.REDDISH_PURPLE, theme.YELLOW, theme.SKY_BLUE)


def cancellations(frame: pd.DataFrame, period: str) -> go.Figure:
    """Cancelled invoices, credit notes and replacements per month (metric `cancellations`)."""
    fig = new_figure(title("Annulations et avoirs par mois", "facturé, pièces émises", period))
    if frame.empty:
        return theme.empty(fig)
    months = list(frame["month"])
    for (number, amount, label), colour in zip(
        CANCELLATION_SERIES, _CANCELLATION_COLOURS, strict=True
    ):
        labels = [
            f"{theme.month_label(m)} : {euros(a)}"
            for m, a in zip(months, frame[amount], strict=True)
        ]
        by_month(fig, months, frame[number], name=label, colour=colour,
                 hover=theme.count_hover(unit=" pièce(s)"), labels=labels)  # fmt: skip
    fig.update_yaxes(title_text="Nombre de pièces", tickformat=",d")
    fig.update_layout(barmode="group")
    return fig


def build(wh: Warehouse, filters: Filters) -> Page:
    """The revenue app's page for `filters` (the metrics run here, never SQL)."""
    period = filters.period
    encaisse = call(metrics.revenue, wh, filters, basis="encaisse")
    facture = call(metrics.revenue, wh, filters, basis="facture")
    by_basis = [
        fig(call(metric, wh, filters, basis=basis), period)
        for fig, metric in ((by_practitioner, metrics.revenue_by_practitioner),
                            (by_act_type, metrics.revenue_by_act_type))
        for basis in ("encaisse", "facture")
    ]  # fmt: skip
    return headline_page(
        TITLE,
        wh,
        filters,
        [
            Section(
                "Encaissé et facturé",
                [
                    monthly(encaisse, facture, period),
                    *(
                        year_over_year(
                            call(metrics.revenue_yoy, wh, filters, basis=basis),
                            period,
                            compare=filters.compare,
                        )
                        for basis in ("encaisse", "facture")
                    ),
                ],
            ),
            Section(
                "Répartition",
                [by_method(call(metrics.revenue_by_method, wh, filters), period), *by_basis],
            ),
            Section(
                "Honoraire moyen", [average_fee(call(metrics.average_fee, wh, filters), period)]
            ),
            Section(
                "Impayés",
                [
                    unpaid_aging(
                        call(metrics.unpaid_aging, wh, filters),
                        period,
                        theme.day_label(filters.date_to),
                    )
                ],
            ),
            Section(
                "Annulations et avoirs",
                [
                    cancellations(call(metrics.cancellations, wh, filters), period),
                    Html(
                        "<p>Les factures annulées et les avoirs qui les annulent ne comptent pas "
                        "dans le facturé ; un avoir partiel le réduit le mois où il est émis.</p>"
                    ),
                ],
            ),
        ],
    )

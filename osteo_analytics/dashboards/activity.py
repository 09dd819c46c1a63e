"""The activity app: consultations by status, new and active patients, returns within 90
days, visits per patient, returns and emergencies, age band × sex, département, motifs,
weekday × hour and consultations per working day.

Each figure function takes the frame of one metric (its `-- columns:` header) and the
period as figures write it; its title says what it counts (done consultations unless it
says otherwise) and the period. An empty frame gives the figure that says so. `build`
runs the metrics for the filters and returns the page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from babel.numbers import format_decimal

from osteo_analytics import metrics
from osteo_analytics.dashboards import theme
from osteo_analytics.dashboards.page import Filters, Page, Section, call
from osteo_analytics.dashboards.theme import by_month, count_hover, month_axis, new_figure, title
from osteo_analytics.dashboards.tiles import headline_page
from osteo_analytics.formatting import LOCALE, count
from osteo_analytics.warehouse import Warehouse

TITLE = "Activité"
DONE = "consultations réalisées"
SEEN = "patients vus en consultation"
TOP_DEPARTEMENTS = 8
OTHERS = "Autres"
AGE_BANDS = {"75+": "75 ans et plus", "unknown": "Âge inconnu"}
RETURN_WITHIN = 90


def _monthly_counts(
    fig: go.Figure, frame: pd.DataFrame, month: str, series: list[tuple[str, str, str]]
) -> go.Figure:
    """Bars per month of `series` (column, French name, colour), counts in the hover."""
    for column, name, colour in series:
        by_month(fig, list(frame[month]), frame[column], name=name, colour=colour,
                 hover=count_hover())  # fmt: skip
    fig.update_yaxes(tickformat=",d")
    return fig


def by_status(frame: pd.DataFrame, period: str) -> go.Figure:
    """Appointments done, cancelled and missed, per month (`consultations_by_status`)."""
    fig = new_figure(title("Rendez-vous par mois", "réalisés, annulés, non honorés", period))
    if frame.empty:
        return theme.empty(fig)
    series = [(s, theme.STATUS_LABELS[s], theme.STATUS_COLOURS[s]) for s in theme.STATUS_LABELS]
    _monthly_counts(fig, frame, "period_start", series)
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="Rendez-vous")
    return fig


def patients(new: pd.DataFrame, active: pd.DataFrame, period: str) -> go.Figure:
    """New patients (first done consultation) and patients seen, per month
    (`new_patients`, `active_patients`)."""
    fig = new_figure(title("Patients par mois", "nouveaux (1re consultation) et vus", period))
    if new.empty and active.empty:
        return theme.empty(fig)
    months = list(active["month"]) or list(new["month"])
    _monthly_counts(fig, active, "month", [("active_patients", "Patients vus", theme.BLUE)])
    _monthly_counts(fig, new, "month", [("new_patients", "Nouveaux patients", theme.ORANGE)])
    month_axis(fig, months)
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text="Patients")
    return fig


def return_rate(frame: pd.DataFrame, period: str, within: int = RETURN_WITHIN) -> go.Figure:
    """Share of visits followed by another within `within` days, per month (`return_rate`).

    Months whose window is not over yet have no rate: a gap, not a zero.
    """
    what = f"Taux de retour sous {within} jours"
    fig = new_figure(title(what, f"{DONE}, fenêtre entièrement observée", period))
    if frame.empty:
        return theme.empty(fig)
    labels = [
        f"{theme.month_label(m)} : {count(r)} retours sur {count(o)} consultations"
        for m, r, o in zip(frame["month"], frame["returned"], frame["observed"], strict=True)
    ]
    hover = f"%{{customdata}}<br>%{{y:,.1f}}{theme.NBSP}%<extra></extra>"
    by_month(fig, list(frame["month"]), theme.amounts(frame["return_rate_pct"]),
             name="Taux de retour", colour=theme.BLUISH_GREEN, hover=hover, labels=labels,
             line={"width": 3}, legend=False)  # fmt: skip
    fig.update_yaxes(title_text="Taux de retour (%)", range=[0, 105], ticksuffix=f"{theme.NBSP}%")
    return fig


def visits_per_patient(frame: pd.DataFrame, period: str) -> go.Figure:
    """How many patients came once, twice... in the period (`visits_per_patient`)."""
    total = int(frame["patients"].sum()) if not frame.empty else 0
    mean = (frame["visits"] * frame["patients"]).sum() / total if total else 0
    what = f"Consultations par patient (moyenne {format_decimal(mean, '0.0', locale=LOCALE)})"
    fig = new_figure(title(what, SEEN, period))
    if frame.empty:
        return theme.empty(fig)
    labels = [f"{count(v)} consultation(s)" for v in frame["visits"]]
    _patient_bars(fig, frame["visits"], frame["patients"], theme.BLUE, labels=labels)
    fig.update_xaxes(title_text="Consultations dans la période", tickformat=",d")
    return fig


def _patient_bars(
    fig: go.Figure,
    x: Iterable[Any],
    y: Iterable[int],
    colour: str | list[str],
    labels: list[str] | None = None,
) -> go.Figure:
    """Patients over categories: one series of bars, whole numbers on the y axis."""
    hover = count_hover(unit=" patient(s)")
    theme.bars(fig, x, y, name="Patients", colour=colour, hover=hover, axis="", labels=labels)
    fig.update_yaxes(title_text="Patients", tickformat=",d")
    return fig


def returns_and_emergencies(frame: pd.DataFrame, period: str) -> go.Figure:
    """Returns and emergencies per month (`consultations_by_type`)."""
    fig = new_figure(title("Retours et urgences par mois", DONE, period), barmode="group")
    if frame.empty:
        return theme.empty(fig)
    series = [(t, theme.TYPE_LABELS[t], theme.TYPE_COLOURS[t]) for t in ("return", "urgent")]
    return _monthly_counts(fig, frame, "month", series).update_yaxes(title_text="Consultations")


def age_sex(frame: pd.DataFrame, period: str) -> go.Figure:
    """Patients seen by age band (age reached in the year) and sex (`age_sex`)."""
    fig = new_figure(
        title("Patients par tranche d'âge et sexe", f"{SEEN}, âge atteint dans l'année", period)
    )
    if frame.empty:
        return theme.empty(fig)
    bands = list(dict.fromkeys(frame["age_band"]))
    names = [AGE_BANDS.get(b, f"{b} ans".replace("-", "–")) for b in bands]
    for sex in dict.fromkeys(frame["sex"]):
        rows = frame[frame["sex"] == sex].set_index("age_band").reindex(bands)
        fig.add_bar(
            x=names,
            y=list(rows["patients"]),
            name=theme.SEX_LABELS.get(sex, str(sex)),
            marker_color=theme.SEX_COLOURS.get(sex, theme.NEUTRAL),
            customdata=[
                f"{n} : {count(c)} consultations"
                for n, c in zip(names, rows["consultations"], strict=True)
            ],
            hovertemplate=count_hover(unit=" patient(s)"),
        )
    fig.update_layout(barmode="group")
    fig.update_xaxes(title_text="Tranche d'âge")
    fig.update_yaxes(title_text="Patients", tickformat=",d")
    return fig


def departement(frame: pd.DataFrame, period: str, top: int = TOP_DEPARTEMENTS) -> go.Figure:
    """Patients by département of residence: the `top` first, then the others together."""
    fig = new_figure(title("Patients par département de résidence", SEEN, period))
    if frame.empty:
        return theme.empty(fig)
    ranked = frame.sort_values(["patients", "departement"], ascending=[False, True])
    head, tail = ranked.iloc[:top], ranked.iloc[top:]
    names = [theme.UNKNOWN if d == "unknown" else str(d) for d in head["departement"]]
    values = [int(v) for v in head["patients"]]
    colours = [theme.BLUE] * len(values)
    if not tail.empty:
        names.append(OTHERS)
        values.append(int(tail["patients"].sum()))
        colours.append(theme.NEUTRAL)
    _patient_bars(fig, names, values, colours)
    fig.update_xaxes(title_text="Département", type="category")
    return fig


def motifs(frame: pd.DataFrame, period: str) -> go.Figure:
    """Done consultations by motif category, most frequent on top (`motif_category`)."""
    fig = new_figure(title("Consultations par motif", DONE, period))
    if frame.empty:
        return theme.empty(fig)
    ordered = frame.iloc[::-1]  # plotly draws the first category at the bottom
    names = theme.relabel(ordered["motif_category"], theme.MOTIF_LABELS)
    fig.add_bar(
        y=names,
        x=list(ordered["consultations"]),
        orientation="h",
        name="Consultations",
        marker_color=theme.BLUE,
        customdata=names,
        hovertemplate="%{customdata}<br>%{x:,.0f} consultation(s)<extra></extra>",
        showlegend=False,
    )
    fig.update_xaxes(title_text="Consultations", tickformat=",d")
    fig.update_yaxes(title_text="Motif", rangemode="normal")
    return fig


def weekday_hour(frame: pd.DataFrame, period: str) -> go.Figure:
    """Done consultations by weekday (lundi … dimanche) and starting hour (`weekday_hour`).

    Consultations without a start time (ledgers) have no cell; the title counts them.
    """
    timed = frame[frame["hour"].notna()] if not frame.empty else frame
    untimed = int(frame["consultations"].sum() - timed["consultations"].sum()) if len(frame) else 0
    what = "Consultations par jour et heure"
    if untimed:
        what += f" ({count(untimed)} sans heure, non placées)"
    fig = new_figure(title(what, DONE, period))
    if timed.empty:
        return theme.empty(fig)
    hours = list(range(int(timed["hour"].min()), int(timed["hour"].max()) + 1))
    grid = (
        timed.astype({"hour": int, "weekday": int})
        .pivot_table(index="weekday", columns="hour", values="consultations", aggfunc="sum")
        .reindex(index=range(1, 8), columns=hours)
        .fillna(0)
        .astype(int)
    )
    fig.add_heatmap(
        z=grid.to_numpy().tolist(),
        x=[f"{h}{theme.NBSP}h" for h in hours],
        y=list(theme.WEEKDAYS),
        colorscale=[[0.0, "#ffffff"], [1.0, theme.BLUE]],
        colorbar={"title": {"text": "Consultations"}},
        hovertemplate="%{y}, %{x}<br>%{z:,.0f} consultation(s)<extra></extra>",
        name="Consultations",
    )
    fig.update_xaxes(title_text="Heure de début", type="category")
    fig.update_yaxes(title_text="Jour", autorange="reversed", type="category")
    return fig


def per_working_day(frame: pd.DataFrame, period: str) -> go.Figure:
    """Done consultations per working day (jours ouvrés, French public holidays off)."""
    fig = new_figure(title("Consultations par jour ouvré", DONE, period))
    if frame.empty:
        return theme.empty(fig)
    labels = [
        f"{theme.month_label(m)} : {count(c)} consultations, {count(d)} jours ouvrés"
        for m, c, d in zip(
            frame["month"], frame["consultations"], frame["working_days"], strict=True
        )
    ]
    hover = "%{customdata}<br>%{y:,.2f} par jour ouvré<extra></extra>"
    by_month(fig, list(frame["month"]), theme.amounts(frame["per_working_day"]),
             name="Par jour ouvré", colour=theme.BLUE, hover=hover, labels=labels,
             legend=False)  # fmt: skip
    fig.update_yaxes(title_text="Consultations par jour ouvré")
    return fig


def build(wh: Warehouse, filters: Filters) -> Page:
    """The activity app's page for `filters` (the metrics run here, never SQL)."""
    period = filters.period
    return headline_page(
        TITLE,
        wh,
        filters,
        [
            Section(
                "Consultations",
                [
                    by_status(call(metrics.consultations_by_status, wh, filters), period),
                    returns_and_emergencies(
                        call(metrics.consultations_by_type, wh, filters), period
                    ),
                    per_working_day(
                        call(metrics.consultations_per_working_day, wh, filters), period
                    ),
                ],
            ),
            Section(
                "Patients",
                [
                    patients(
                        call(metrics.new_patients, wh, filters),
                        call(metrics.active_patients, wh, filters),
                        period,
                    ),
                    return_rate(
                        call(metrics.return_rate, wh, filters, within_days=RETURN_WITHIN), period
                    ),
                    visits_per_patient(call(metrics.visits_per_patient, wh, filters), period),
                ],
            ),
            Section(
                "Qui consulte",
                [
                    age_sex(call(metrics.age_sex, wh, filters), period),
                    departement(call(metrics.departement, wh, filters), period),
                    motifs(call(metrics.motif_category, wh, filters), period),
                ],
            ),
            Section("Quand", [weekday_hour(call(metrics.weekday_hour, wh, filters), period)]),
        ],
    )

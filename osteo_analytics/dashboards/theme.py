"""The one look of every dashboard figure: template, palette, French labels and locale.

One plotly template, registered as ``plotly.io.templates["osteo"]`` when this module is
imported and applied explicitly by :func:`new_figure` (the global default template is
never changed). Colours come from the Okabe–Ito colour-blind-safe palette, and a meaning
keeps its colour in every chart: encaissé is always blue, facturé orange, each payment
method, consultation status, consultation type and sex has its own. The domains never
share a chart, so a colour reused across domains (a status and a method) never meets
itself.

French without relying on the browser: the renderers bundle plotly.js with the English
locale only (``.venv/share/jupyter/labextensions/jupyterlab-plotly/static/*.js`` and
plotly's own ``plotly.min.js`` register the modules ``en`` and ``en-US`` and no other),
so ``config={"locale": "fr"}`` alone would fall back to English. Hence: numbers use
``layout.separators`` (decimal comma, narrow no-break space between thousands, so d3's
``,.2f`` prints ``1 234,50``); month ticks and hover labels are written by babel
(``janv. 2026``), never by plotly's date formatting; and :data:`CONFIG` carries its own
French locale (``locales``) for the modebar tooltips it keeps.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from babel.dates import format_date, get_day_names

from osteo_analytics.contracts.model import labels
from osteo_analytics.formatting import LOCALE

TEMPLATE_NAME = "osteo"
EMPTY = "Aucune donnée sur la période"
# Decimal comma, then the thousands separator: CLDR French's narrow no-break space.
SEPARATORS = ",\u202f"
NBSP = "\u00a0"
# An amount in a hover label, d3 format over the separators above: `1 234,50 €`.
EUROS = f"%{{y:,.2f}}{NBSP}€"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"

# --- colours ------------------------------------------------------------------------------

# Okabe & Ito (2008), "Color Universal Design", with the grey of its common variant.
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
GREY = "#999999"
PALETTE = (BLUE, ORANGE, BLUISH_GREEN, VERMILLION, SKY_BLUE, REDDISH_PURPLE, YELLOW, BLACK, GREY)

BASIS_COLOURS = {"encaisse": BLUE, "facture": ORANGE}
METHOD_COLOURS = {
    "cb": SKY_BLUE,
    "cheque": BLUISH_GREEN,
    "especes": YELLOW,
    "virement": REDDISH_PURPLE,
    "autre": GREY,
}
STATUS_COLOURS = {"done": BLUISH_GREEN, "cancelled": VERMILLION, "no_show": REDDISH_PURPLE}
TYPE_COLOURS = {
    "first": BLUE,
    "follow_up": SKY_BLUE,
    "return": BLUISH_GREEN,
    "urgent": VERMILLION,
    "home": REDDISH_PURPLE,
    "other": GREY,
    "unknown": BLACK,
}
SEX_COLOURS = {"F": ORANGE, "M": SKY_BLUE, "unknown": GREY}
AGING_COLOURS = {"0-30": YELLOW, "31-60": ORANGE, "61-90": VERMILLION, ">90": BLACK}
# What is not one of the above: a single series, "autres", a previous year's line.
NEUTRAL = GREY

# --- French words ---------------------------------------------------------------------------

BASIS_LABELS = {"encaisse": "encaissé", "facture": "facturé"}
UNKNOWN = "Non renseigné"
METHOD_LABELS = dict(labels("payments", "method"))
STATUS_LABELS = dict(labels("consultations", "status"))
TYPE_LABELS = {**labels("consultations", "consultation_type"), "unknown": "Sans séance liée"}
MOTIF_LABELS = {**labels("consultations", "motif_category"), "unknown": UNKNOWN}
SEX_LABELS = {**labels("patients", "sex"), "unknown": UNKNOWN}
# ISO weekdays 1..7, Monday first, as babel writes them (lundi ... dimanche).
WEEKDAYS = tuple(get_day_names("wide", locale=LOCALE)[i] for i in range(7))

# --- the template and the renderer's configuration ------------------------------------------

TEMPLATE = go.layout.Template(
    layout={
        "font": {"family": FONT, "size": 13, "color": "#222222"},
        "colorway": list(PALETTE),
        "separators": SEPARATORS,
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "title": {"x": 0.0, "xanchor": "left", "font": {"size": 16}},
        "margin": {"l": 64, "r": 24, "t": 96, "b": 64},
        # Above the plot, under the title: tick labels below never run into it.
        "legend": {
            "orientation": "h",
            "x": 0.0,
            "y": 1.0,
            "yanchor": "bottom",
            "title": {"text": ""},
        },
        "hoverlabel": {"font": {"family": FONT}},
        "xaxis": {
            "showgrid": False,
            "linecolor": "#888888",
            "ticks": "outside",
            "automargin": True,
        },
        "yaxis": {
            "gridcolor": "#e5e5e5",
            "zerolinecolor": "#888888",
            "rangemode": "tozero",
            "automargin": True,
            "title": {"standoff": 12},
        },
        "bargap": 0.2,
        "height": 440,
    }
)
pio.templates[TEMPLATE_NAME] = TEMPLATE

# plotly.js's own strings the kept modebar buttons and messages show, in French.
_FR_DICTIONARY = {
    "Download plot as a PNG": "Télécharger le graphique (PNG)",
    "Download plot": "Télécharger le graphique",
    "Zoom": "Zoomer sur une zone",
    "Reset axes": "Revenir à la vue d'origine",
    "Autoscale": "Ajuster aux données",
    "Preparing image - this may take a few seconds": "Préparation de l'image…",
    "Image download succeeded": "Image téléchargée",
    "Sorry, there was a problem downloading your image!": "Le téléchargement a échoué",
    "Double-click to zoom back out": "Double-cliquez pour revenir à la vue d'origine",
    "Double-click on legend to isolate one trace": (
        "Double-cliquez sur la légende pour n'afficher qu'une série"
    ),
}
# plotly.js's locale format (d3): French days, months and separators, for what plotly
# itself still writes (zoomed date ticks).
_FR_FORMAT = {
    "days": [format_date(dt.date(2024, 1, 7 + i), "EEEE", locale=LOCALE) for i in range(7)],
    "shortDays": [format_date(dt.date(2024, 1, 7 + i), "EEE", locale=LOCALE) for i in range(7)],
    "months": [format_date(dt.date(2024, m, 1), "LLLL", locale=LOCALE) for m in range(1, 13)],
    "shortMonths": [format_date(dt.date(2024, m, 1), "LLL", locale=LOCALE) for m in range(1, 13)],
    "date": "%d/%m/%Y",
    "decimal": ",",
    "thousands": "\u202f",
    "month": "%b %Y",
    "dayMonth": "%-d %b",
    "dayMonthYear": "%-d %b %Y",
}
KEPT_BUTTONS = ("toImage", "zoom2d", "resetScale2d")
REMOVED_BUTTONS = (
    "pan2d",
    "select2d",
    "lasso2d",
    "zoomIn2d",
    "zoomOut2d",
    "autoScale2d",
    "toggleSpikelines",
    "hoverClosestCartesian",
    "hoverCompareCartesian",
    "sendChartToCloud",
)
# For `fig.show(config=CONFIG)` (and the widgets' config): French, no logo, three buttons.
CONFIG: dict[str, Any] = {
    "locale": "fr",
    "locales": {"fr": {"dictionary": _FR_DICTIONARY, "format": _FR_FORMAT}},
    "displaylogo": False,
    # plotly.js 3 adds a "Share chart..." button (on by default) that uploads the figure to
    # cloud.plotly.com: health practice data never leaves this computer.
    "showSendToCloud": False,
    "plotlyServerURL": "",
    "modeBarButtonsToRemove": list(REMOVED_BUTTONS),
    "toImageButtonOptions": {"format": "png", "filename": "graphique-cabinet", "scale": 2},
    "responsive": True,
}

# --- dates ------------------------------------------------------------------------------


def month_label(day: dt.date) -> str:
    """`date(2026, 1, 1)` → `'janv. 2026'` (babel, CLDR French abbreviations)."""
    return format_date(day, "LLL y", locale=LOCALE)


def day_label(day: dt.date) -> str:
    """`date(2026, 1, 1)` → `'1 janv. 2026'`."""
    return format_date(day, "d MMM y", locale=LOCALE)


def period_label(start: dt.date, end: dt.date) -> str:
    """`'1 janv. – 31 déc. 2026'`; both years written when they differ."""
    if start.year == end.year:
        return f"{format_date(start, 'd MMM', locale=LOCALE)} – {day_label(end)}"
    return f"{day_label(start)} – {day_label(end)}"


# --- figures ------------------------------------------------------------------------------


def title(what: str, basis: str, period: str) -> str:
    """A figure's title: what it shows, then its basis and period on a second line."""
    return f"{what}<br><sup>{basis}, {period}</sup>"


def new_figure(heading: str, **layout: Any) -> go.Figure:
    """An empty figure in the osteo template, French separators set on the figure itself."""
    fig = go.Figure()
    fig.update_layout(
        template=pio.templates[TEMPLATE_NAME],
        separators=SEPARATORS,
        title={"text": heading},
        **layout,
    )
    return fig


def empty(fig: go.Figure) -> go.Figure:
    """`fig` saying, in its centre, that the period has no data (no axes, no traces)."""
    fig.add_annotation(
        text=EMPTY,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        showarrow=False,
        font={"size": 16, "color": "#555555"},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def month_axis(fig: go.Figure, months: Sequence[dt.date], *, row: int | None = None) -> None:
    """French month ticks on the x axis (babel), about a dozen at most, never plotly's."""
    step = max(1, -(-len(months) // 12))  # 1 up to 12 months, then every 2nd, 3rd...
    shown = list(months)[::step]
    fig.update_xaxes(
        title_text="Mois",
        tickmode="array",
        tickvals=shown,
        ticktext=[month_label(m) for m in shown],
        row=row,
        col=1 if row else None,
    )


def money_axis(fig: go.Figure, text: str = "Montant (€)") -> None:
    """The y axis of amounts: French thousands, no decimals, a euro sign."""
    fig.update_yaxes(title_text=text, tickformat=",.0f", ticksuffix=f"{NBSP}€")


def by_month(
    fig: go.Figure,
    months: Sequence[dt.date],
    values: Iterable[Any],
    *,
    name: str,
    colour: str,
    hover: str,
    labels: Iterable[str] | None = None,
    line: Mapping[str, Any] | None = None,
    legend: bool = True,
) -> go.Figure:
    """One series over `months`: bars, or a line with markers when `line` (its style) is
    given. The hover names each month in French (`labels`, default `janv. 2026`) and the x
    axis gets babel's month ticks."""
    common: dict[str, Any] = {
        "x": list(months),
        "y": list(values),
        "name": name,
        "customdata": list(labels) if labels is not None else [month_label(m) for m in months],
        "hovertemplate": hover,
        "showlegend": legend,
    }
    if line is None:
        fig.add_bar(marker_color=colour, **common)
    else:
        fig.add_scatter(mode="lines+markers", line={"color": colour, **line}, **common)
    month_axis(fig, months)
    return fig


def bars(
    fig: go.Figure,
    x: Iterable[Any],
    y: Iterable[Any],
    *,
    name: str,
    colour: str | Sequence[str],
    hover: str,
    axis: str,
    labels: Iterable[str] | None = None,
) -> go.Figure:
    """One series of bars over categories `x` (no legend: the title names it), the x axis
    titled `axis`; `labels` name each bar in the hover (default: `x`)."""
    fig.add_bar(
        x=list(x),
        y=list(y),
        name=name,
        marker_color=colour if isinstance(colour, str) else list(colour),
        customdata=list(labels if labels is not None else x),
        hovertemplate=hover,
        showlegend=False,
    )
    fig.update_xaxes(title_text=axis)
    return fig


def euro_hover(label: str = "%{customdata}") -> str:
    """A hover label: `label`, then the amount, ending in ` €` (the trace's name aside)."""
    return f"{label}<br>{EUROS}<extra>%{{fullData.name}}</extra>"


def count_hover(label: str = "%{customdata}", unit: str = "") -> str:
    """A hover label: `label`, then the count in French (`1 234`), and its unit."""
    return f"{label}<br>%{{y:,.0f}}{unit}<extra>%{{fullData.name}}</extra>"


def amounts(values: Iterable[Decimal | float | int | None]) -> list[float | None]:
    """Decimal amounts as the floats plotly draws (None stays a gap)."""
    return [None if v is None else float(v) for v in values]


def plain(value: object) -> str:
    """Text from the data as plotly shows it literally: plotly reads tags in labels (`<b>`,
    `<a href>`), so `<`, `>` and `&` are written as entities, which it decodes."""
    return html.escape(str(value), quote=False)


def relabel(codes: Iterable[Any], words: Mapping[str, str]) -> list[str]:
    """Codes as their French words (a code without words is shown as it is)."""
    return [words.get(str(c), str(c)) for c in codes]

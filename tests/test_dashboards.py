"""The dashboards' figures and tiles on real metric output of the shared synthetic practice.

One warehouse per module (the practice's LibreOsteo export imported into a fresh
workspace). Each figure is checked on its trace data against the metric's frame (x, y,
sums to the cent), its title (basis and period), its French labels and ticks, its colours
(the palette, one colour per meaning) and the French separators; every figure function
given an empty frame says so. The tiles are checked on a hand-made pair of headline
documents, exactly.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import warnings
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from osteo_analytics import metrics, workspace
from osteo_analytics.dashboards import (
    CONFIG,
    Filters,
    Html,
    Page,
    activity,
    quality,
    revenue,
    theme,
    tiles,
)
from osteo_analytics.dashboards.page import call
from osteo_analytics.errors import UsageError
from osteo_analytics.formatting import count, euros
from osteo_analytics.import_reports import read_imports
from osteo_analytics.ingest import import_paths
from osteo_analytics.warehouse import Warehouse, open_warehouse
from tests.conftest import FAST, PASSPHRASE

D = dt.date
YEAR = Filters(D(2025, 1, 1), D(2025, 12, 31))  # the shared practice's one year
PERIOD = "1 janv. – 31 déc. 2025"
NNBSP = "\u202f"  # CLDR French thousands separator
FRENCH_MONTH = re.compile(
    r"(janv\.|févr\.|mars|avr\.|mai|juin|juil\.|août|sept\.|oct\.|nov\.|déc\.) \d{4}"
)
# What plotly or pandas write when nobody names an axis or a series.
ENGLISH = {"variable", "value", "index", "count", "trace 0", "x", "y", "month", "amount"}


@pytest.fixture(scope="module")
def unlocked(practice: Path, tmp_path_factory: pytest.TempPathFactory) -> workspace.Unlocked:
    """A workspace holding the practice's LibreOsteo export, imported once."""
    root = tmp_path_factory.mktemp("dashboards") / "ws"
    made = workspace.init_workspace(root, PASSPHRASE, work_factor=FAST).unlocked
    import_paths(made, [practice / "libreosteo"])
    return made


@pytest.fixture(scope="module")
def wh(unlocked: workspace.Unlocked) -> Iterator[Warehouse]:
    with open_warehouse(unlocked) as warehouse:
        yield warehouse


@pytest.fixture(scope="module")
def pages(wh: Warehouse, unlocked: workspace.Unlocked) -> dict[str, Page]:
    return {
        "revenue": revenue.build(wh, YEAR),
        "activity": activity.build(wh, YEAR),
        "quality": quality.build(wh, YEAR, unlocked),
    }


def frame(wh: Warehouse, metric: Callable[..., pd.DataFrame], **options: Any) -> pd.DataFrame:
    return call(metric, wh, YEAR, **options)


def cents(values: Any) -> Decimal:
    """A trace's floats summed, to the cent."""
    return Decimal(str(round(sum(v for v in values if v is not None), 2)))


def figures(page: Page) -> list[go.Figure]:
    return [f for s in page.sections for f in s.figures]


def title_of(fig: go.Figure) -> str:
    return str(fig.layout.title.text)


# --- theme ----------------------------------------------------------------------------------


def test_the_template_is_registered_and_never_the_default() -> None:
    assert pio.templates["osteo"] == theme.TEMPLATE
    assert pio.templates.default != "osteo"
    assert go.Figure().layout.template != theme.TEMPLATE


def test_french_dates_come_from_babel() -> None:
    assert [theme.month_label(D(2026, m, 1)) for m in (1, 2, 6, 8, 12)] == [
        "janv. 2026",
        "févr. 2026",
        "juin 2026",
        "août 2026",
        "déc. 2026",
    ]
    assert theme.period_label(D(2026, 1, 1), D(2026, 12, 31)) == "1 janv. – 31 déc. 2026"
    assert theme.period_label(D(2025, 7, 1), D(2026, 6, 30)) == "1 juil. 2025 – 30 juin 2026"
    assert theme.WEEKDAYS == (
        "lundi",
        "mardi",
        "mercredi",
        "jeudi",
        "vendredi",
        "samedi",
        "dimanche",
    )


def test_the_renderer_config_is_french() -> None:
    assert CONFIG["locale"] == "fr" and CONFIG["displaylogo"] is False
    removed = set(CONFIG["modeBarButtonsToRemove"])
    assert "toImage" not in removed and {"lasso2d", "select2d", "pan2d"} <= removed
    # Nothing uploads a figure: plotly.js 3's "Share chart..." button is on by default.
    assert "sendChartToCloud" in removed and CONFIG["showSendToCloud"] is False
    assert CONFIG["plotlyServerURL"] == ""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # plotly warns about a config key it does not know
        go.Figure().to_html(config=CONFIG, include_plotlyjs=False)
    assert CONFIG["toImageButtonOptions"] == {
        "format": "png",
        "filename": "graphique-cabinet",
        "scale": 2,
    }
    fr = CONFIG["locales"]["fr"]
    # The tooltips of the three buttons kept, and plotly's download messages, in French.
    for english in ("Download plot as a PNG", "Zoom", "Reset axes", "Image download succeeded"):
        assert fr["dictionary"][english] and fr["dictionary"][english] != english
    assert fr["format"]["shortMonths"][0] == "janv." and fr["format"]["days"][1] == "lundi"
    assert (fr["format"]["decimal"], fr["format"]["thousands"]) == (",", NNBSP)


# --- every figure of both pages ---------------------------------------------------------------


def test_every_figure_has_the_theme_a_title_with_its_period_and_french_labels(
    pages: dict[str, Page],
) -> None:
    for page in (pages["revenue"], pages["activity"]):
        assert page.sections and all(s.items for s in page.sections)
        for fig in figures(page):
            heading = title_of(fig)
            assert PERIOD in heading, heading
            assert fig.layout.template == pio.templates["osteo"]
            assert fig.layout.separators == ",\u202f"
            assert fig.data, f"{heading}: no data"
            assert not fig.layout.annotations, f"{heading}: says it has no data"
            axes = [fig.layout.xaxis, fig.layout.yaxis]
            for axis in axes:
                text = axis.title.text
                assert text and text.lower() not in ENGLISH, (heading, text)
            for trace in fig.data:
                assert trace.name and trace.name.lower() not in ENGLISH, (heading, trace.name)


def test_amounts_say_their_basis_and_hover_in_euros(pages: dict[str, Page]) -> None:
    for fig in figures(pages["revenue"]):
        heading = title_of(fig)
        assert "encaissé" in heading or "facturé" in heading, heading
        money = fig.layout.yaxis.ticksuffix == "\u00a0€"
        for trace in fig.data:
            main = trace.hovertemplate.split("<extra>")[0]
            assert not money or main.endswith("\u00a0€"), (heading, main)


def test_month_ticks_are_french_and_colours_from_the_palette(pages: dict[str, Page]) -> None:
    months = 0
    for page in pages.values():
        for fig in figures(page):
            if fig.layout.xaxis.ticktext:
                assert all(FRENCH_MONTH.fullmatch(t) for t in fig.layout.xaxis.ticktext)
                months += 1
            for trace in fig.data:
                assert trace_colours(trace) <= set(theme.PALETTE), title_of(fig)
    assert months >= 10


def trace_colours(trace: Any) -> set[str]:
    """The colours a trace is drawn in (a heatmap: the top of its scale, from white)."""
    if isinstance(trace, go.Table):
        return set()
    if isinstance(trace, go.Heatmap):
        (low, white), (high, colour) = trace.colorscale
        assert (low, white, high) == (0.0, "#ffffff", 1.0)
        return {colour}
    colours = trace.marker.color if trace.marker.color is not None else trace.line.color
    return {colours} if isinstance(colours, str) else set(colours)


# --- revenue figures, trace by trace -----------------------------------------------------------


def test_monthly_encaisse_and_facture(wh: Warehouse) -> None:
    enc = frame(wh, metrics.revenue, basis="encaisse")
    fac = frame(wh, metrics.revenue, basis="facture")
    fig = revenue.monthly(enc, fac, PERIOD)
    first, second = fig.data
    assert (first.name, second.name) == ("Encaissé", "Facturé")
    assert (first.marker.color, second.marker.color) == (theme.BLUE, theme.ORANGE)
    assert list(first.x) == list(enc["period_start"]) == list(second.x)
    assert cents(first.y) == enc["amount"].sum() and cents(second.y) == fac["amount"].sum()
    assert list(first.y) == [float(a) for a in enc["amount"]]
    assert list(fig.layout.xaxis.ticktext)[:2] == ["janv. 2025", "févr. 2025"]
    assert list(first.customdata)[11] == "déc. 2025"


def test_year_over_year_draws_last_year_only_when_asked(wh: Warehouse) -> None:
    yoy = frame(wh, metrics.revenue_yoy, basis="facture")
    fig = revenue.year_over_year(yoy, PERIOD)
    now, before = fig.data
    assert "facturé" in title_of(fig)
    assert cents(now.y) == yoy["amount"].sum()
    assert cents(before.y) == yoy["amount_previous_year"].sum()
    assert now.line.color == before.line.color == theme.ORANGE and before.line.dash == "dash"
    assert before.customdata[0] == "janv. 2024"
    assert len(revenue.year_over_year(yoy, PERIOD, compare=False).data) == 1


def test_by_method_practitioner_and_act_type(wh: Warehouse) -> None:
    methods = frame(wh, metrics.revenue_by_method)
    (bars,) = revenue.by_method(methods, PERIOD).data
    assert list(bars.x) == ["Carte bancaire", "Chèque", "Espèces", "Virement", "Autre"]
    assert list(bars.marker.color) == [theme.METHOD_COLOURS[m] for m in methods["method"]]
    assert cents(bars.y) == methods["amount"].sum()
    for basis in ("encaisse", "facture"):
        people = frame(wh, metrics.revenue_by_practitioner, basis=basis)
        fig = revenue.by_practitioner(people, PERIOD)
        assert theme.BASIS_LABELS[basis] in title_of(fig)
        assert list(fig.data[0].x) == list(people["display_name"])
        assert cents(fig.data[0].y) == people["amount"].sum()
        acts = frame(wh, metrics.revenue_by_act_type, basis=basis)
        (bars,) = revenue.by_act_type(acts, PERIOD).data
        assert list(bars.x)[:2] == ["Première consultation", "Consultation de suivi"]
        assert cents(bars.y) == acts["amount"].sum()


def test_average_fee_unpaid_aging_and_cancellations(wh: Warehouse) -> None:
    fees = frame(wh, metrics.average_fee)
    (line,) = revenue.average_fee(fees, PERIOD).data
    assert list(line.y) == [float(a) for a in fees["average_fee"]]
    aging = frame(wh, metrics.unpaid_aging)
    fig = revenue.unpaid_aging(aging, PERIOD, "31 déc. 2025")
    assert "Impayés au 31 déc. 2025" in title_of(fig) and "facturé" in title_of(fig)
    assert list(fig.data[0].x) == [
        "0 à 30 jours",
        "31 à 60 jours",
        "61 à 90 jours",
        "plus de 90 jours",
    ]
    assert cents(fig.data[0].y) == aging["due"].sum() > 0
    docs = frame(wh, metrics.cancellations)
    fig = revenue.cancellations(docs, PERIOD)
    assert [t.name for t in fig.data] == [s[2] for s in revenue.CANCELLATION_SERIES]
    for trace, (number, amount, _) in zip(fig.data, revenue.CANCELLATION_SERIES, strict=True):
        assert list(trace.y) == list(docs[number])
        assert trace.customdata[0] == f"janv. 2025 : {euros(docs[amount].iloc[0])}"


# --- activity figures ---------------------------------------------------------------------------


def test_consultations_by_status_returns_and_working_days(wh: Warehouse) -> None:
    status = frame(wh, metrics.consultations_by_status)
    fig = activity.by_status(status, PERIOD)
    # The contract's labels, as everywhere (tests/test_code_lists.py).
    assert [t.name for t in fig.data] == ["Réalisée", "Annulée", "Rendez-vous non honoré"]
    assert [t.marker.color for t in fig.data] == [
        theme.BLUISH_GREEN,
        theme.VERMILLION,
        theme.REDDISH_PURPLE,
    ]
    for trace, column in zip(fig.data, ("done", "cancelled", "no_show"), strict=True):
        assert list(trace.y) == list(status[column]) and list(trace.x) == list(
            status["period_start"]
        )
    types = frame(wh, metrics.consultations_by_type)
    fig = activity.returns_and_emergencies(types, PERIOD)
    assert [list(t.y) for t in fig.data] == [list(types["return"]), list(types["urgent"])]
    days = frame(wh, metrics.consultations_per_working_day)
    (bars,) = activity.per_working_day(days, PERIOD).data
    assert cents(bars.y) == days["per_working_day"].sum()


def test_patients_returns_and_visits(wh: Warehouse) -> None:
    new, active = frame(wh, metrics.new_patients), frame(wh, metrics.active_patients)
    fig = activity.patients(new, active, PERIOD)
    seen, first = fig.data
    assert list(seen.y) == list(active["active_patients"]) and list(first.y) == list(
        new["new_patients"]
    )
    rates = frame(wh, metrics.return_rate, within_days=90)
    (line,) = activity.return_rate(rates, PERIOD).data
    expected = [None if r is None else float(r) for r in rates["return_rate_pct"]]
    assert list(line.y) == expected and None in expected  # unobserved months: gaps
    visits = frame(wh, metrics.visits_per_patient)
    fig = activity.visits_per_patient(visits, PERIOD)
    assert (
        list(fig.data[0].x) == list(visits["visits"])
        and sum(fig.data[0].y) == visits["patients"].sum()
    )
    mean = (visits["visits"] * visits["patients"]).sum() / visits["patients"].sum()
    assert f"moyenne {mean:.1f}".replace(".", ",") in title_of(fig)


def test_age_sex_departement_and_motifs(wh: Warehouse) -> None:
    ages = frame(wh, metrics.age_sex)
    fig = activity.age_sex(ages, PERIOD)
    assert [t.name for t in fig.data] == ["Femme", "Homme", "Non renseigné"]
    assert sum(sum(t.y) for t in fig.data) == ages["patients"].sum()
    assert list(fig.data[0].x) == [
        "0–2 ans", "3–11 ans", "12–17 ans", "18–29 ans", "30–44 ans", "45–59 ans", "60–74 ans",
        "75 ans et plus", "Âge inconnu",
    ]  # fmt: skip
    places = frame(wh, metrics.departement)
    assert len(places) > 3
    (bars,) = activity.departement(places, PERIOD, top=3).data
    assert list(bars.x) == [*places["departement"][:3], "Autres"]
    assert sum(bars.y) == places["patients"].sum() and bars.marker.color[-1] == theme.GREY
    motifs = frame(wh, metrics.motif_category)
    (bars,) = activity.motifs(motifs, PERIOD).data
    assert list(bars.x)[::-1] == list(motifs["consultations"])
    assert bars.y[-1] == theme.MOTIF_LABELS[motifs["motif_category"].iloc[0]]


def test_weekday_hour_heatmap(wh: Warehouse) -> None:
    cells = frame(wh, metrics.weekday_hour)
    (heat,) = activity.weekday_hour(cells, PERIOD).data
    assert list(heat.y) == list(theme.WEEKDAYS)
    timed = cells[cells["hour"].notna()]
    assert sum(map(sum, heat.z)) == timed["consultations"].sum() > 0
    first = timed.iloc[0]
    column = list(heat.x).index(f"{int(first['hour'])}\u00a0h")
    assert heat.z[int(first["weekday"]) - 1][column] == first["consultations"]
    untimed = pd.DataFrame({"weekday": [1, 2], "hour": [9, None], "consultations": [3, 4]})
    assert "4 sans heure" in title_of(activity.weekday_hour(untimed, PERIOD))


# --- empty frames -------------------------------------------------------------------------------

EMPTY_CASES: list[tuple[str, Callable[[pd.DataFrame], go.Figure]]] = [
    ("revenue_yoy", lambda f: revenue.year_over_year(f, PERIOD)),
    ("revenue_by_method", lambda f: revenue.by_method(f, PERIOD)),
    ("revenue_by_practitioner", lambda f: revenue.by_practitioner(f, PERIOD)),
    ("revenue_by_act_type", lambda f: revenue.by_act_type(f, PERIOD)),
    ("average_fee", lambda f: revenue.average_fee(f, PERIOD)),
    ("unpaid_aging", lambda f: revenue.unpaid_aging(f, PERIOD, "31 déc. 2025")),
    ("cancellations", lambda f: revenue.cancellations(f, PERIOD)),
    ("revenue", lambda f: revenue.monthly(f, f, PERIOD)),
    ("consultations_by_status", lambda f: activity.by_status(f, PERIOD)),
    ("new_patients", lambda f: activity.patients(f, f.rename(columns={}), PERIOD)),
    ("return_rate", lambda f: activity.return_rate(f, PERIOD)),
    ("visits_per_patient", lambda f: activity.visits_per_patient(f, PERIOD)),
    ("consultations_by_type", lambda f: activity.returns_and_emergencies(f, PERIOD)),
    ("age_sex", lambda f: activity.age_sex(f, PERIOD)),
    ("departement", lambda f: activity.departement(f, PERIOD)),
    ("motif_category", lambda f: activity.motifs(f, PERIOD)),
    ("weekday_hour", lambda f: activity.weekday_hour(f, PERIOD)),
    ("consultations_per_working_day", lambda f: activity.per_working_day(f, PERIOD)),
]


@pytest.mark.parametrize(("metric", "draw"), EMPTY_CASES, ids=[c[0] for c in EMPTY_CASES])
def test_an_empty_frame_says_so(metric: str, draw: Callable[[pd.DataFrame], go.Figure]) -> None:
    empty = pd.DataFrame(columns=list(metrics.METRICS[metric].columns))
    fig = draw(empty)
    assert not fig.data
    (note,) = fig.layout.annotations
    assert note.text == "Aucune donnée sur la période" and (note.x, note.y) == (0.5, 0.5)
    assert PERIOD in title_of(fig)


# --- tiles ----------------------------------------------------------------------------------------


def headline(start: str, end: str, **totals: Any) -> dict[str, Any]:
    zero = {
        "consultations_done": 0,
        "new_patients": 0,
        "revenue_invoiced": "0.00",
        "revenue_received": "0.00",
        "unpaid_amount": "0.00",
    }
    return {"from": start, "to": end, "months": [], "totals": {**zero, **totals}}


NOW = headline(
    "2026-01-01", "2026-12-31",
    revenue_received="1123.00", revenue_invoiced="1234.50", consultations_done=48,
    new_patients=3, unpaid_amount="130.00",
)  # fmt: skip
BEFORE = headline(
    "2025-01-01", "2025-12-31",
    revenue_received="1000.00", revenue_invoiced="1000.00", consultations_done=50,
    new_patients=0, unpaid_amount="0.00",
)  # fmt: skip


def test_tiles_values_and_changes_on_hand_made_headlines() -> None:
    made = tiles.kpis(NOW, BEFORE, invoices=20, previous_invoices=20)
    got = [(t.label, t.value, t.change) for t in made]
    assert got == [
        ("CA encaissé", f"1{NNBSP}123,00\u00a0€", "+12,3\u00a0%"),
        ("CA facturé", f"1{NNBSP}234,50\u00a0€", "+23,5\u00a0%"),  # 1234.50 / 1000 - 1 = 23.45 %
        ("Consultations", "48", "\u22124,0\u00a0%"),
        ("Nouveaux patients", "3", "—"),  # nobody new a year earlier: no ratio
        ("Panier moyen", "61,73\u00a0€", "+23,5\u00a0%"),  # 1234.50 / 20 = 61.725, half up
        ("Impayés", "130,00\u00a0€", "—"),
    ]
    assert [t.basis for t in made][:2] == ["encaissé", "facturé"]
    assert made[0].period == "1 janv. – 31 déc. 2026"
    assert made[5].basis == "facturé, dû au 31 déc. 2026"
    assert tiles.change(Decimal("100"), Decimal("100")) == "0,0\u00a0%"
    assert tiles.change(5, None) == "—"


def test_tiles_without_comparison_or_invoices() -> None:
    made = tiles.kpis(NOW, None, invoices=0)
    assert all(t.change is None for t in made)
    assert made[4].value == "—"  # no invoice, no average
    text = tiles.render(made)
    assert "sur un an" not in text and text.count('class="osteo-tile"') == 6


def test_tiles_html_escapes_and_holds_its_own_css() -> None:
    hostile = tiles.Tile("<script>alert(1)</script>", "1 & 2", "a<b", '"p"', "+1,0 %")
    text = tiles.render([hostile])
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "1 &amp; 2" in text and "a&lt;b, &quot;p&quot;" in text
    assert "<style>" in text and "@media (max-width:480px)" in text
    assert not re.search(r"https?://|@import|url\(", text)  # no external resource


def test_headline_tiles_on_the_practice(wh: Warehouse) -> None:
    totals = metrics.headline(wh, YEAR.date_from, YEAR.date_to)["totals"]
    text = tiles.headline_tiles(wh, YEAR)
    assert html.escape(euros(totals["revenue_received"])) in text
    assert html.escape(euros(totals["unpaid_amount"])) in text
    assert "—" in text  # the year before the practice's first: nothing to compare with
    assert "sur un an" not in tiles.headline_tiles(
        wh, Filters(YEAR.date_from, YEAR.date_to, compare=False)
    )


# --- filters and the one way metrics are called ---------------------------------------------------


def test_filters_refuse_what_a_widget_should_never_send() -> None:
    with pytest.raises(UsageError, match="période vide"):
        Filters(D(2025, 2, 1), D(2025, 1, 1))
    with pytest.raises(UsageError, match="dates"):
        Filters(dt.datetime(2025, 1, 1), D(2025, 1, 2))  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="praticien"):
        Filters(D(2025, 1, 1), D(2025, 1, 2), practitioners=())
    leap = Filters(D(2024, 2, 29), D(2024, 12, 31)).previous()
    assert (leap.date_from, leap.date_to) == (D(2023, 2, 28), D(2023, 12, 31))


def test_call_passes_the_period_and_the_previous_year(wh: Warehouse) -> None:
    now = call(metrics.revenue, wh, YEAR)
    before = call(metrics.revenue, wh, YEAR, previous=True)
    assert now["period_start"].iloc[0] == D(2025, 1, 1)
    assert before["period_start"].iloc[0] == D(2024, 1, 1)


def test_build_pages_hold_every_section(pages: dict[str, Page]) -> None:
    assert [s.title for s in pages["revenue"].sections] == [
        "Encaissé et facturé", "Répartition", "Honoraire moyen", "Impayés", "Annulations et avoirs",
    ]  # fmt: skip
    assert [s.title for s in pages["activity"].sections] == [
        "Consultations", "Patients", "Qui consulte", "Quand",
    ]  # fmt: skip
    assert len(figures(pages["revenue"])) == 11 and len(figures(pages["activity"])) == 10
    assert any(isinstance(i, Html) for i in pages["revenue"].section("Annulations et avoirs").items)
    assert pages["revenue"].tiles_html.count('class="osteo-tile"') == 6


# --- the quality page on the practice -------------------------------------------------------------


def test_quality_page_on_the_practice(pages: dict[str, Page], unlocked: workspace.Unlocked) -> None:
    page = pages["quality"]
    assert [s.title for s in page.sections] == [
        "Imports", "Conservation des dossiers", "Sauvegardes",
    ]  # fmt: skip
    (table,) = page.section("Imports").items
    (done,) = read_imports(unlocked)
    files = done.files or ()
    cells = table.data[0].cells.values
    assert list(cells[1]) == [f.label for f in files] and len(files) == 6
    assert list(cells[3]) == [count(f.rows_read) for f in files]
    assert list(cells[6]) == [count(f.duplicates) for f in files]
    (kept,) = page.section("Conservation des dossiers").figures
    assert len(kept.data[0].y) == 12 and kept.layout.template == pio.templates["osteo"]
    (backups,) = page.section("Sauvegardes").items
    assert isinstance(backups, Html) and "Aucune sauvegarde configurée" in backups.text
    assert page.tiles_html.count('class="osteo-tile"') == 4


def test_retention_counts_what_is_past_and_what_comes_month_by_month(wh: Warehouse) -> None:
    today = D(2045, 11, 15)  # the practice's last visits (2025) reach 20 years
    end = quality.horizon(today)
    assert end == D(2046, 11, 1)
    upcoming = call(metrics.retention, wh, YEAR, as_of=end)
    past = metrics.retention(wh, today)  # the same metric on today: what is already past
    assert 0 < len(past) < len(upcoming)
    assert quality.expired(upcoming, today) == len(past)
    fig = quality.retention(upcoming, today)
    (bars,) = fig.data
    assert list(bars.customdata) == [
        theme.month_label(D(2045 + (m > 12), (m - 1) % 12 + 1, 1)) for m in range(11, 23)
    ]
    assert sum(bars.y) == len(upcoming) - len(past)
    first = sum(1 for day in upcoming["keep_until"] if today <= day < D(2045, 12, 1))
    assert bars.y[0] == first
    assert f"({len(past)} déjà échus au 15 nov. 2045)" in title_of(fig)
    assert "20 ans après la dernière consultation, pas avant 28 ans" in title_of(fig)


def test_names_from_the_data_are_never_read_as_markup() -> None:
    people = pd.DataFrame(
        {
            "basis": ["encaisse"] * 2,
            "practitioner_id": ["PR-1", None],
            "display_name": ["<b>Anne</b> & Cie", None],
            "amount": [Decimal("10.00"), Decimal("2.50")],
            "items": [1, 1],
        }
    )
    (bars,) = revenue.by_practitioner(people, PERIOD).data
    assert list(bars.x) == ["&lt;b&gt;Anne&lt;/b&gt; &amp; Cie", "Facture introuvable"]


def test_a_one_practitioner_page_shows_that_practitioner_only(
    wh: Warehouse, pages: dict[str, Page]
) -> None:
    people = metrics.revenue_by_practitioner(wh, YEAR.date_from, YEAR.date_to)
    first = people.iloc[0]
    alone = Filters(YEAR.date_from, YEAR.date_to, practitioners=(str(first["practitioner_id"]),))
    page = revenue.build(wh, alone)
    mine = page.section("Encaissé et facturé").figures[0].data[0]  # encaissé by month
    everyone = pages["revenue"].section("Encaissé et facturé").figures[0].data[0]
    assert cents(mine.y) == first["amount"] < cents(everyone.y)
    assert page.tiles_html != pages["revenue"].tiles_html
    assert html.escape(euros(first["amount"])) in page.tiles_html  # CA encaissé: theirs
    seen = activity.build(wh, alone).section("Consultations").figures[0].data[0]  # done
    assert 0 < sum(seen.y) < sum(pages["activity"].section("Consultations").figures[0].data[0].y)
    with pytest.raises(UsageError):
        revenue.build(wh, Filters(YEAR.date_from, YEAR.date_to, practitioners=("PR-NOBODY",)))


def test_redrawing_an_app_leaves_no_widget_behind(
    wh: Warehouse, unlocked: workspace.Unlocked
) -> None:
    """Each filter change closes the sections it replaces: the kernel's widget count stays
    the same (else they pile up, and a reloaded page fetches them all)."""
    from ipywidgets.widgets.widget import _instances

    from osteo_analytics.dashboards.app import Dashboard

    board = Dashboard("revenue", wh, unlocked)
    assert board.body.children
    before = len(_instances)
    board.compare.value = not board.compare.value
    board.refresh()
    assert len(_instances) == before
    assert board.status.value == ""


def test_a_value_the_widgets_should_never_hold_changes_nothing(
    wh: Warehouse, unlocked: workspace.Unlocked
) -> None:
    """Widget messages come from the browser: a forged value is refused with a French line
    and the page stays as it was."""
    from osteo_analytics.dashboards.app import Dashboard

    board = Dashboard("activity", wh, unlocked)
    tiles = board.tiles.value
    board.months.index = (5, 2)  # months out of order, as only a forged message can send
    assert "mois" in board.status.value and "ordre" in board.status.value
    assert board.tiles.value == tiles

"""The apps in a notebook: filters as widgets, a page drawn into outputs, every input checked.

A notebook is two lines: ``from osteo_analytics.dashboards.app import show`` and
``show("revenue")``. `show` borrows the unlocked workspace from the agent of `osteo serve`
or `osteo lab` (`agent.connect`), decrypts the snapshot in memory once per kernel, and
displays a `Dashboard`.

Widget messages come from the browser, so from anyone who holds the page: a callback reads
the widgets' values again and checks each (a year the data has, two months in order,
known practitioners, a boolean) before anything runs; a refused value changes nothing but
a French status line. Charts are displayed into `Output` widgets as plotly's own mime
bundle (what `fig.show()` sends with the `plotly_mimetype` renderer, built here without
`plotly.io`'s renderers: importing them imports nbformat and jsonschema, 3 s per kernel;
a `FigureWidget` would ship ~5 MB of JavaScript per chart). An error shows as one French
line; no traceback, no value from the data, ever reaches the page.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go
from babel.dates import format_date
from IPython.display import display
from plotly.io.json import to_json

from osteo_analytics import backup, exports, metrics
from osteo_analytics.agent import connect
from osteo_analytics.dashboards import activity, quality, revenue
from osteo_analytics.dashboards.page import Filters, Html, Page
from osteo_analytics.dashboards.theme import CONFIG
from osteo_analytics.errors import OsteoError, UsageError
from osteo_analytics.formatting import LOCALE
from osteo_analytics.share import ENV_BUNDLE, open_bundle
from osteo_analytics.warehouse import Warehouse, open_warehouse
from osteo_analytics.workspace import Unlocked

APPS: dict[str, Callable[..., Page]] = {
    "revenue": revenue.build,
    "activity": activity.build,
    "quality": quality.build,
}
# The accountant's app is a widget of its own (`dashboards.accountant`), not a `Page`.
ACCOUNTANT = "accountant"
MONTHS = [(format_date(dt.date(2000, m, 1), "MMM", locale=LOCALE), m) for m in range(1, 13)]
# The quality app is about imports, keep periods and backups: no period to choose there.
PERIODLESS = {"quality"}
_WIDE = {"description_width": "initial"}
PLOTLY_MIME = "application/vnd.plotly.v1+json"
INTERNAL = (
    "Erreur interne du tableau de bord : rien n'a été modifié. Relancez `osteo serve` ; "
    "si elle revient, signalez-la."
)
log = logging.getLogger(__name__)


class Dashboard:
    """One app's filters and content, as one widget (`self.widget`)."""

    def __init__(self, app: str, wh: Warehouse, unlocked: Unlocked | None = None) -> None:
        if app not in APPS:
            raise UsageError(f"application inconnue : {app}")
        self.app, self.wh, self.unlocked = app, wh, unlocked
        self.years = self._years()
        self.practitioners = self._practitioners()
        self.year, self.months = period_controls(wh, self.years)
        self.chosen = {
            pid: widgets.Checkbox(
                value=True, description=name, indent=False, layout=widgets.Layout(width="auto")
            )
            for pid, name in self.practitioners.items()
        }
        self.compare = widgets.Checkbox(
            value=True,
            description="Comparer à la même période un an plus tôt",
            indent=False,
            layout=widgets.Layout(width="auto"),
        )
        self.status = widgets.HTML()
        self.tiles = widgets.HTML()
        self.body = widgets.VBox()
        self.title = widgets.HTML()
        # The quality app has no period: its year, months and comparison would change nothing.
        periodless = app in PERIODLESS
        controls: list[widgets.Widget] = [] if periodless else [self.year, self.months]
        if len(self.chosen) > 1:
            controls.append(
                widgets.VBox(
                    [
                        widgets.HTML("<b>Praticiens</b> (tous cochés : le cabinet entier)"),
                        *list(self.chosen.values()),
                    ]
                )
            )
        if not periodless:
            controls.append(self.compare)
        self.widget = widgets.VBox(
            [
                self.title,
                widgets.HBox(
                    controls,
                    layout=widgets.Layout(
                        flex_flow="row wrap", align_items="center", gap="0.5em 2em"
                    ),
                ),
                self.status,
                self.tiles,
                self.body,
            ]
        )
        for control in (self.year, self.months, self.compare, *self.chosen.values()):
            control.observe(self._changed, names="value")
        self.refresh()

    # --- what the widgets say, checked --------------------------------------------------

    def _years(self) -> list[int]:
        span = self.wh.span
        if span is None:
            return []
        return list(range(span[1].year, span[0].year - 1, -1))

    def _last_month(self, year: int) -> int:
        return last_month(self.wh, year)

    def _practitioners(self) -> dict[str, str]:
        frame = metrics.revenue_by_practitioner(self.wh)
        rows = frame[frame["practitioner_id"].notna()]
        return {
            str(r.practitioner_id): str(r.display_name or r.practitioner_id)
            for r in rows.itertuples()
        }

    def filters(self) -> Filters:
        """The widgets' values as `Filters`; OsteoError for a value they should never hold."""
        start, end = checked_period(self.year.value, self.months.value, self.years)
        compare = self.compare.value
        if not isinstance(compare, bool):
            raise UsageError("comparaison : oui ou non")
        chosen = tuple(pid for pid, box in self.chosen.items() if box.value is True)
        if not chosen and self.chosen:
            raise UsageError("praticiens : cochez-en au moins un")
        everyone = len(chosen) == len(self.chosen)
        return Filters(start, end, None if everyone else chosen, compare)

    # --- drawing ------------------------------------------------------------------------

    def _changed(self, change: dict[str, Any]) -> None:
        if change.get("owner") is self.year and isinstance(change.get("new"), int):
            last = self._last_month(change["new"]) if change["new"] in self.years else 12
            with self.months.hold_trait_notifications():
                self.months.index = (0, last - 1)
        self.refresh()

    def refresh(self) -> None:
        """Check the filters, build the page, draw it; on error a French line, no change."""
        try:
            filters = self.filters()
            page = self._build(filters)
        except OsteoError as error:
            self.status.value = _status(str(error))
            return
        except Exception:  # a bug: logged in the kernel, never shown in the page
            log.exception("dashboard %s", self.app)
            self.status.value = _status(INTERNAL)
            return
        self.status.value = ""
        self.title.value = f"<h2>{_escape(page.title)}</h2>"
        self.tiles.value = page.tiles_html
        previous = self.body.children
        self.body.children = [_section(s.title, s.items) for s in page.sections]
        for widget in previous:  # the old sections' widgets, closed in the kernel and page
            _close(widget)

    def _build(self, filters: Filters) -> Page:
        if self.app == "quality":
            statuses = backup.statuses(self.unlocked) if self.unlocked is not None else []
            return quality.build(self.wh, filters, self.unlocked, backups=statuses)
        return APPS[self.app](self.wh, filters)


def last_month(wh: Warehouse, year: int) -> int:
    """The last month of `year` the warehouse's span covers (12 for an earlier year)."""
    span = wh.span
    return span[1].month if span is not None and span[1].year == year else 12


def period_controls(
    wh: Warehouse, years: Sequence[int]
) -> tuple[widgets.Dropdown, widgets.SelectionRangeSlider]:
    """The year (`years`, latest first) and month-range widgets, on the latest year."""
    latest = years[0] if years else wh.today.year
    year = widgets.Dropdown(
        options=[(str(y), y) for y in years] or [(str(latest), latest)],
        value=latest,
        description="Année",
        style=_WIDE,
        layout=widgets.Layout(width="9em"),
    )
    months = widgets.SelectionRangeSlider(
        options=MONTHS,
        index=(0, last_month(wh, latest) - 1),
        description="Mois",
        continuous_update=False,
        style=_WIDE,
        layout=widgets.Layout(width="24em"),
    )
    return year, months


def checked_period(year: object, months: object, years: Sequence[int]) -> tuple[dt.date, dt.date]:
    """The first and last day the year and month widgets say; UsageError (French) for a
    year not in `years` or months not in order."""
    if not isinstance(year, int) or isinstance(year, bool) or year not in years:
        raise UsageError("année inconnue : choisissez-en une de la liste")
    if (
        not isinstance(months, tuple)
        or len(months) != 2
        or not all(isinstance(m, int) and 1 <= m <= 12 for m in months)
        or months[0] > months[1]
    ):
        raise UsageError("mois : choisissez un premier et un dernier mois dans l'ordre")
    return dt.date(year, months[0], 1), _month_end(dt.date(year, months[1], 1))


def _section(title: str, items: Sequence[Any]) -> widgets.Widget:
    children: list[widgets.Widget] = [widgets.HTML(f"<h3>{_escape(title)}</h3>")]
    for item in items:
        if isinstance(item, Html):
            children.append(widgets.HTML(item.text))
            continue
        out = widgets.Output()
        with out:
            display(plotly_bundle(item), raw=True)
        children.append(out)
    return widgets.VBox(children)


def plotly_bundle(fig: go.Figure) -> dict[str, Any]:
    """`fig` as the `application/vnd.plotly.v1+json` bundle, with the apps' `CONFIG`."""
    payload = json.loads(to_json(fig, validate=False, remove_uids=False))
    payload["config"] = CONFIG
    return {PLOTLY_MIME: payload}


def _close(widget: widgets.Widget) -> None:
    """Close `widget` and everything it holds, so a redraw leaves no model behind."""
    for child in getattr(widget, "children", ()):
        _close(child)
    for part in (getattr(widget, "layout", None), getattr(widget, "style", None)):
        if isinstance(part, widgets.Widget):
            part.close()
    widget.close()


def _status(message: str) -> str:
    return f'<p role="alert" style="color:#D55E00"><b>{_escape(message)}</b></p>'


def _escape(text: str) -> str:
    return html.escape(text)


def _month_end(first: dt.date) -> dt.date:
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


_OPENED: dict[str, tuple[Unlocked, Warehouse]] = {}


def _current() -> tuple[Unlocked, Warehouse]:
    """The workspace lent by the agent and its warehouse, opened once per kernel."""
    if "current" not in _OPENED:
        unlocked = connect()
        _OPENED["current"] = (unlocked, open_warehouse(unlocked))
    return _OPENED["current"]


def _open_accountant() -> tuple[Warehouse, list[str]]:
    """The accountant app's warehouse and the keys its downloads are encrypted to.

    Under `osteo serve --bundle FILE` (OSTEO_BUNDLE names the file): the bundle, opened in
    memory with the workspace's key (an accountant's), once per kernel; otherwise the
    practice's own warehouse, as the other apps'.
    """
    path = os.environ.get(ENV_BUNDLE)
    if not path:
        unlocked, wh = _current()
        return wh, unlocked.recipients()
    if "bundle" not in _OPENED:
        unlocked = connect()
        bundle = open_bundle(Path(path), unlocked.identities, settings_root=unlocked.workspace.root)
        _OPENED["bundle"] = (unlocked, bundle.warehouse)
    unlocked, wh = _OPENED["bundle"]
    return wh, unlocked.recipients()


def ledger_downloads(wh: Warehouse) -> list[Any]:
    """The accountant's three files of a year over `wh` (`exports`), as download buttons."""
    from osteo_analytics.dashboards.accountant import Download

    def maker(build: Callable[..., exports.Export]) -> Callable[..., tuple[str, bytes]]:
        def make(year: int, practitioner: str | None, **options: Any) -> tuple[str, bytes]:
            export = build(wh, year, practitioner, **options)
            return export.name, export.data

        return make

    return [
        Download("Livre-journal (CSV)", maker(exports.journal)),
        Download("FEC", maker(exports.fec), needs_siren=True),
        Download("Classeur Excel", maker(exports.workbook)),
    ]


def accountant(
    wh: Warehouse, downloads: Sequence[Any] = (), recipients: Sequence[str] = ()
) -> widgets.Widget:
    """The accountant's app over `wh` (`dashboards.accountant`), as one widget."""
    # Imported here: the accountant app is built on this module's helpers.
    from osteo_analytics.dashboards.accountant import AccountantDashboard

    return AccountantDashboard(wh, downloads, recipients=recipients).widget


def show(app: str) -> None:
    """Display `app` (revenue, activity, quality or accountant) in this notebook.

    The workspace comes from the agent of the server that started this kernel, and its
    snapshot is decrypted once per kernel. An error is one French line, no traceback.
    """
    try:
        if app == ACCOUNTANT:
            wh, recipients = _open_accountant()
            widget = accountant(wh, ledger_downloads(wh), recipients)
        else:
            unlocked, wh = _current()
            widget = Dashboard(app, wh, unlocked).widget
    except OsteoError as error:
        display(widgets.HTML(_status(str(error))))
        return
    except Exception:
        log.exception("dashboard %s", app)
        display(widgets.HTML(_status(INTERNAL)))
        return
    display(widget)

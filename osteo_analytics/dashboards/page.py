"""What an app's `build` returns, what it is asked for, and the one way it runs a metric.

A page is a title, the KPI tiles (an HTML string) and sections of figures (plotly) or HTML
fragments; the notebook glue shows them in order. :class:`Filters` is what the widgets
give: a period, the practitioners (None: the whole cabinet) and whether to compare with
the same period a year earlier. Every metric a page shows goes through :func:`call`, so
the period and the practitioner filter reach every figure the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeAlias

import plotly.graph_objects as go

from osteo_analytics.dashboards.theme import period_label
from osteo_analytics.errors import UsageError
from osteo_analytics.warehouse import Warehouse


@dataclass(frozen=True)
class Filters:
    """The period (both days included), the practitioners (None: all) and the comparison.

    Raises UsageError for a value a widget should never send: not a date, an empty or
    reversed period, practitioners that are not a non-empty tuple of identifiers.
    """

    date_from: dt.date
    date_to: dt.date
    practitioners: tuple[str, ...] | None = None
    compare: bool = True

    def __post_init__(self) -> None:
        for value in (self.date_from, self.date_to):
            if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
                raise UsageError("période : des dates (sans heure) sont attendues")
        if self.date_from > self.date_to:
            raise UsageError("période vide : la date de début est après la date de fin")
        chosen = self.practitioners
        if chosen is not None and (
            not isinstance(chosen, tuple)
            or not chosen
            or not all(isinstance(p, str) and p for p in chosen)
        ):
            raise UsageError("praticiens : choisissez au moins un praticien, ou tout le cabinet")
        if not isinstance(self.compare, bool):
            raise UsageError("comparaison : oui ou non")

    @property
    def period(self) -> str:
        """The period as figures write it: `1 janv. – 31 déc. 2026`."""
        return period_label(self.date_from, self.date_to)

    def previous(self) -> Filters:
        """The same filters one year earlier (29 February becomes the 28th)."""
        return replace(
            self, date_from=_year_before(self.date_from), date_to=_year_before(self.date_to)
        )


def _year_before(day: dt.date) -> dt.date:
    if day.month == 2 and day.day == 29:
        return day.replace(year=day.year - 1, day=28)
    return day.replace(year=day.year - 1)


@dataclass(frozen=True)
class Html:
    """An HTML fragment for a page, every value in it already escaped."""

    text: str


Item: TypeAlias = go.Figure | Html


@dataclass(frozen=True)
class Section:
    """A titled part of a page: figures and HTML fragments, in order."""

    title: str
    items: list[Item] = field(default_factory=list)

    @property
    def figures(self) -> list[go.Figure]:
        return [i for i in self.items if isinstance(i, go.Figure)]


@dataclass(frozen=True)
class Page:
    """One app's content: its title, KPI tiles (HTML) and sections."""

    title: str
    tiles_html: str
    sections: list[Section] = field(default_factory=list)

    def section(self, title: str) -> Section:
        """The section called `title` (KeyError when the page has none)."""
        for s in self.sections:
            if s.title == title:
                return s
        raise KeyError(title)


def call(
    metric: Callable[..., Any],
    wh: Warehouse,
    filters: Filters,
    *,
    previous: bool = False,
    as_of: dt.date | None = None,
    **options: Any,
) -> Any:
    """`metric` over the filters' period (a year earlier when `previous`) and practitioners;
    on day `as_of` instead of a period for a metric of one day (`retention`).

    The one place a page runs a metric: every metric takes `practitioners=` (None: the
    whole cabinet), and gets the filters' here.
    """
    options["practitioners"] = filters.practitioners
    if as_of is not None:
        return metric(wh, as_of, **options)
    chosen = filters.previous() if previous else filters
    return metric(wh, chosen.date_from, chosen.date_to, **options)

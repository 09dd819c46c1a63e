"""The content of the three dashboard apps: KPI tiles and plotly figures, in French.

Pure functions, a metric's DataFrame in and a plotly figure out (`revenue`, `activity`,
`quality`), in one theme (`theme`: the `osteo` template, the Okabe–Ito palette, French
separators and month names, `CONFIG` for `fig.show(config=...)`), and per app a
`build(wh, filters, ...)` that runs the metrics (never SQL) and returns a `Page`: title,
KPI tiles as HTML (`tiles`), sections of figures. The notebooks only call `build` and show
what it returns (docs/dashboards.md lists each figure, its metric and its basis).
"""

from __future__ import annotations

from osteo_analytics.dashboards.page import Filters, Html, Page, Section
from osteo_analytics.dashboards.theme import CONFIG

__all__ = ["CONFIG", "Filters", "Html", "Page", "Section"]

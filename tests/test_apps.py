"""The three apps in a real Chromium (Playwright, the system's browser) against `osteo serve`.

Each app must load without error, show its KPI tiles and charts with data points, show no
code and no traceback, redraw when a filter changes, and make no request to any host but
127.0.0.1 (every request is recorded; anything else is aborted, as with no network).
Screenshots of each app are written to the test's folder; with OSTEO_UPDATE_SCREENSHOTS=1
they replace the README's, under docs/screenshots/.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.conftest import ROOT, Served

# The tests of the served apps run on one test worker, beside one shared server.
pytestmark = pytest.mark.xdist_group("served")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
APPS = {"revenue": "Recettes", "activity": "Activité", "quality": "Qualité"}
# Charts each app draws (docs/dashboards.md), all with data on the shared practice.
CHARTS = {"revenue": 10, "activity": 10, "quality": 2}
# A page is drawn once every cell has run and the widgets are on screen.
LOADED = 240_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


class Visit:
    """A browser context logged in with the token, recording every request it makes."""

    def __init__(self, browser: Browser, served: Served) -> None:
        self.served = served
        self.requests: list[str] = []
        self.foreign: list[str] = []
        self.errors: list[str] = []
        self.context: BrowserContext = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="fr-FR"
        )
        self.context.route("**/*", self._route)
        self.page: Page = self.context.new_page()
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(served.url, timeout=LOADED)  # the landing page: sets the cookie

    def _route(self, route: Route) -> None:
        url = route.request.url
        self.requests.append(url)
        local = url.startswith((f"http://127.0.0.1:{self.served.port}/", "ws://127.0.0.1:"))
        if local or url.startswith(("data:", "blob:", "about:")):
            route.continue_()
        else:  # as with no network at all
            self.foreign.append(url)
            route.abort()

    def open(self, app: str) -> Page:
        # Voila answers once the app's notebook has run: in a preheated kernel, or in a
        # fresh one while the pool refills (slow on a loaded machine).
        try:
            self.page.goto(f"{self.served.base}/voila/render/{app}.ipynb", timeout=LOADED)
            self.page.wait_for_selector(".osteo-tiles", timeout=LOADED)
            self.page.wait_for_function(
                "document.querySelectorAll('.js-plotly-plot').length > 0", timeout=LOADED
            )
        except PlaywrightTimeout as exc:
            raise AssertionError(
                f"{app} not drawn: {exc.message.splitlines()[0]}\n"
                f"--- server log ---\n{self.served.log_tail()}"
            ) from None
        return self.page

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser: Browser, served: Served) -> Iterator[Visit]:
    v = Visit(browser, served)
    yield v
    v.close()


def plotted_points(page: Page) -> list[int]:
    """The number of data points of each chart on the page, in page order."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.js-plotly-plot')].map(gd =>
            (gd.data || []).reduce((n, t) =>
                n + Math.max((t.x || []).length, (t.y || []).length, (t.values || []).length,
                             (t.cells && t.cells.values ? t.cells.values.flat().length : 0)), 0))"""
    )


@pytest.mark.parametrize("app", APPS)
def test_each_app_shows_tiles_and_charts_with_data_and_no_code(
    visit: Visit, app: str, tmp_path: Path
) -> None:

    page = visit.open(app)
    page.wait_for_timeout(500)
    text = page.inner_text("body")
    assert APPS[app] in text
    assert page.locator(".osteo-tile").count() >= 4
    # A figure is never cut: every tile's value fits its tile, at desktop width.
    cut = page.evaluate(
        """() => [...document.querySelectorAll('.osteo-tile__value')]
            .filter(v => v.scrollWidth > v.clientWidth || v.offsetHeight > 40)
            .map(v => v.innerText)"""
    )
    assert not cut, cut
    points = plotted_points(page)
    assert len(points) >= CHARTS[app] and all(p > 0 for p in points), points
    for forbidden in ("Traceback", "osteo_analytics", "show(", "Error", "Exception"):
        assert forbidden not in text, forbidden
    assert page.locator(".jp-InputArea-editor:visible, .jp-InputPrompt:visible").count() == 0
    assert "€" in text or app != "revenue"
    assert not visit.errors, visit.errors
    assert not visit.foreign, visit.foreign
    assert all(u.startswith(("http://127.0.0.1:", "ws://127.0.0.1:")) for u in visit.requests)
    shot = tmp_path / f"{app}.png"
    page.screenshot(path=str(shot), full_page=False)
    if os.environ.get("OSTEO_UPDATE_SCREENSHOTS") == "1":
        target = ROOT / "docs" / "screenshots" / f"{app}.png"
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, target)


def test_changing_a_filter_redraws_the_charts(visit: Visit) -> None:
    page = visit.open("revenue")
    page.wait_for_timeout(500)
    before = page.inner_text(".osteo-tiles")
    points_before = plotted_points(page)
    # Months: one month less (the slider's right handle, moved by keyboard: one change).
    handle = page.locator(".noUi-handle-upper, .ui-slider-handle").last
    handle.focus()
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(
        "(t) => document.querySelector('.osteo-tiles').innerText !== t",
        arg=before,
        timeout=LOADED,
    )
    page.wait_for_timeout(500)
    assert page.inner_text(".osteo-tiles") != before
    assert plotted_points(page) != points_before
    assert "Traceback" not in page.inner_text("body")


def test_without_the_token_no_app_is_shown(browser: Browser, served: Served) -> None:
    context = browser.new_context()
    page = context.new_page()
    for app in APPS:
        response = page.goto(f"{served.base}/voila/render/{app}.ipynb", timeout=LOADED)
        assert response is not None
        assert "/login" in page.url or response.status == 403
        assert page.locator(".js-plotly-plot").count() == 0
        assert page.locator(".osteo-tiles").count() == 0
    context.close()

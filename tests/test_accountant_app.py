"""The accountant's side end to end, in a real Chromium against `osteo serve --bundle`.

What the issue asks an accountant to be able to do with nothing but a bundle and their own
identity, in one command: open the app, find an invoice by number, see the year's receipts
by month and method, and download the livre-journal and the FEC. The practice shares with
the real code; the accountant serves with the real `osteo serve`; the files downloaded by
the browser are decrypted with the accountant's key and compared with `osteo export`'s.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from osteo_analytics import exports, vault, workspace
from osteo_analytics.share import create_share, open_bundle
from tests.conftest import (
    FAST,
    PASSPHRASE,
    Served,
    served_workspace,
    start_server,
    stop_server,
)

pytestmark = pytest.mark.xdist_group("served")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
LOADED = 240_000
SIREN = "732829320"


@dataclass(frozen=True)
class Accountant:
    served: Served
    identities: list[str]
    bundle: Path
    year: int
    invoice: str  # an invoice number to look for
    receipts: dict[str, str]  # the year's receipts by method, "1234.50"


@pytest.fixture(scope="module")
def accountant(
    tmp_path_factory: pytest.TempPathFactory, blank_workspace: Path, practice: Path
) -> Iterator[Accountant]:
    folder = tmp_path_factory.mktemp("accountant-app")
    ws = served_workspace(blank_workspace, practice, folder / "practice")
    unlocked = workspace.Workspace(ws).unlock(PASSPHRASE)
    acct = folder / "accountant"
    made = workspace.init_workspace(acct, PASSPHRASE, work_factor=FAST, role="accountant")
    year = int(json.loads((practice / "libreosteo/ground_truth.json").read_text())["to"][:4])
    bundle = folder / "lot.age"
    create_share(
        unlocked,
        recipient=made.unlocked.secrets.recipient,
        date_from=dt.date(year, 1, 1),
        date_to=dt.date(year, 12, 31),
        out=bundle,
    )
    identities = made.unlocked.identities
    with open_bundle(bundle, identities) as opened:
        wh = opened.warehouse
        invoice = wh.con.execute(
            "SELECT invoice_number FROM invoices WHERE year(issued_on) = $y"
            " ORDER BY issued_on, invoice_number LIMIT 1 OFFSET 100",
            {"y": year},
        ).fetchall()[0][0]
        frame = wh.metric("revenue_by_method")
        receipts = {str(r.method): f"{r.amount:.2f}" for r in frame.itertuples()}
    served = start_server(acct, folder, "--bundle", str(bundle))
    yield Accountant(served, identities, bundle, year, invoice, receipts)
    stop_server(served)


@pytest.fixture(scope="module")
def page(accountant: Accountant) -> Iterator[Page]:
    foreign: list[str] = []
    served = accountant.served

    def route(request: Route) -> None:
        url = request.request.url
        local = url.startswith((f"http://127.0.0.1:{served.port}/", "ws://127.0.0.1:"))
        if local or url.startswith(("data:", "blob:", "about:")):
            request.continue_()
        else:
            foreign.append(url)
            request.abort()

    with sync_playwright() as playwright:
        browser: Browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="fr-FR", accept_downloads=True
        )
        context.route("**/*", route)
        tab = context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.goto(served.url, timeout=LOADED)
        try:
            tab.goto(f"{served.base}/voila/render/accountant.ipynb", timeout=LOADED)
            tab.wait_for_selector(".osteo-totals", timeout=LOADED)
            tab.wait_for_function(
                "document.querySelectorAll('.js-plotly-plot').length > 0", timeout=LOADED
            )
        except Exception as exc:
            raise AssertionError(f"accountant app not drawn: {exc}\n{served.log_tail()}") from None
        yield tab
        assert not errors, errors
        assert not foreign, foreign
        context.close()
        browser.close()


def test_the_app_shows_the_bundle_year_without_code_or_traceback(
    page: Page, accountant: Accountant
) -> None:
    text = page.inner_text("body")
    for heading in (
        "Factures",
        "Encaissements par mois et moyen de paiement",
        f"Totaux {accountant.year} pour la déclaration 2035",
        f"Seuil micro-BNC {accountant.year}",
        "Téléchargements",
    ):
        assert heading in text, heading
    for forbidden in ("Traceback", "osteo_analytics", "show(", "Exception"):
        assert forbidden not in text, forbidden
    assert page.locator(".jp-InputArea-editor:visible, .jp-InputPrompt:visible").count() == 0


def test_the_receipts_by_month_and_method_are_the_bundle_year(
    page: Page, accountant: Accountant
) -> None:
    # The stacked bars: one trace per method with receipts, twelve months each.
    traces = page.evaluate(
        """() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(gd =>
            (gd.data || []).filter(t => t.type === 'bar').map(t => ({
                name: t.name, n: (t.x || []).length,
                total: (t.y || []).reduce((a, b) => a + Number(b || 0), 0)})))"""
    )
    paid = {m: a for m, a in accountant.receipts.items() if a != "0.00"}
    bars = [t for t in traces if t["n"] == 12]
    assert len(bars) >= len(paid) >= 2, traces
    total = sum(t["total"] for t in bars)
    assert abs(total - sum(float(a) for a in paid.values())) < 0.01


def test_an_invoice_is_found_by_its_number(page: Page, accountant: Accountant) -> None:
    search = page.get_by_placeholder("contient…")
    search.fill(accountant.invoice)
    search.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('.osteo-totals').innerText.startsWith('1 pièce')",
        timeout=LOADED,
    )
    rows = page.locator(".osteo-table tbody tr").filter(has_text=accountant.invoice)
    assert rows.count() >= 1
    search.fill("")
    search.press("Enter")
    page.wait_for_function(
        "() => !document.querySelector('.osteo-totals').innerText.startsWith('1 pièce')",
        timeout=LOADED,
    )


def _download(page: Page, button: str, tmp_path: Path) -> tuple[str, bytes]:
    """Click `button`, then the link it offers; the file the browser saved."""
    page.locator(".osteo-download").evaluate_all("links => links.forEach(l => l.remove())")
    page.get_by_role("button", name=button).click()
    link = page.locator("a.osteo-download")
    link.wait_for(timeout=LOADED)
    with page.expect_download(timeout=LOADED) as caught:
        link.click()
    saved = tmp_path / caught.value.suggested_filename
    caught.value.save_as(saved)
    return caught.value.suggested_filename, saved.read_bytes()


def test_the_journal_and_the_fec_download_encrypted_to_the_accountant(
    page: Page, accountant: Accountant, tmp_path: Path
) -> None:
    with open_bundle(accountant.bundle, accountant.identities) as opened:
        journal = exports.journal(opened.warehouse, accountant.year)
        fec = exports.fec(opened.warehouse, accountant.year, siren=SIREN)
    name, data = _download(page, "Livre-journal (CSV)", tmp_path)
    assert name == journal.name + ".age"
    assert vault.decrypt(data, accountant.identities) == journal.data
    page.get_by_placeholder("9 chiffres").fill(SIREN)
    page.get_by_placeholder("9 chiffres").press("Enter")
    name, data = _download(page, "FEC", tmp_path)
    assert name == f"{SIREN}FEC{accountant.year}1231.txt.age"
    assert vault.decrypt(data, accountant.identities) == fec.data
    # Unticked: the plain file, as `osteo export --plaintext` would write it.
    page.get_by_label("Chiffrer pour ma clé (age, recommandé)").uncheck()
    name, data = _download(page, "Livre-journal (CSV)", tmp_path)
    assert (name, data) == (journal.name, journal.data)
    page.get_by_label("Chiffrer pour ma clé (age, recommandé)").check()

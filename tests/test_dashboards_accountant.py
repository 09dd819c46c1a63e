"""The accountant's app on a real warehouse: the shared synthetic practice, imported once.

The explorer's rows and totals are compared with DuckDB queries written here, apart from
the app's; widget values are set as the browser would set them (including values only a
forged message could hold), buttons clicked; the micro-BNC crossing day is checked on
exact cases and against the practice's own payments.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import re
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from osteo_analytics import metrics, workspace
from osteo_analytics.dashboards import app
from osteo_analytics.dashboards.accountant import (
    PAGE_SIZE,
    SEARCH_MAX,
    AccountantDashboard,
    Crossing,
    Download,
    crossing_label,
    parse_amount,
    threshold_crossing,
)
from osteo_analytics.errors import UsageError
from osteo_analytics.formatting import euros
from osteo_analytics.warehouse import Warehouse, open_warehouse
from tests.conftest import PASSPHRASE, served_workspace, start_server, stop_server

D = dt.date
YEAR = 2025  # the shared practice's one year
# The explorer's documents, written apart from the app's query: issued in the period, the
# payments booked on each number up to the period's end.
DOCUMENTS = """
SELECT i.invoice_number, i.amount, i.status, i.issued_on,
       coalesce((SELECT sum(p.amount) FROM payments AS p
                 WHERE p.invoice_number = i.invoice_number AND p.paid_on <= $date_to), 0)
           AS received
FROM invoices AS i
WHERE i.issued_on BETWEEN $date_from AND $date_to
"""


@pytest.fixture(scope="module")
def wh(
    blank_workspace: Path, practice: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Warehouse]:
    root = served_workspace(blank_workspace, practice, tmp_path_factory.mktemp("acct") / "ws")
    with open_warehouse(workspace.Workspace(root).unlock(PASSPHRASE)) as warehouse:
        yield warehouse


@pytest.fixture
def board(wh: Warehouse) -> AccountantDashboard:
    return AccountantDashboard(wh)


def _practitioners(wh: Warehouse) -> list[str]:
    return list(wh.query("SELECT practitioner_id FROM practitioners ORDER BY 1")["practitioner_id"])


def _numbers(board: AccountantDashboard) -> list[str]:
    """The invoice numbers of the table shown, in order."""
    return re.findall(r"<tr><td>([^<]*)</td>", board.invoices.value)


def _totals(board: AccountantDashboard) -> dict[str, object]:
    return board.explorer_rows(board.query())[1]


# --- the invoice explorer ----------------------------------------------------------------


def test_the_whole_year_facture_total_is_the_facture_metric(
    board: AccountantDashboard, wh: Warehouse
) -> None:
    totals = _totals(board)
    every = wh.query(DOCUMENTS, {"date_from": D(YEAR, 1, 1), "date_to": D(YEAR, 12, 31)})
    assert totals["invoices"] == len(every) > PAGE_SIZE
    facture = metrics.revenue(wh, D(YEAR, 1, 1), D(YEAR, 12, 31), basis="facture")
    assert totals["invoiced"] == facture["amount"].sum()
    assert totals["received"] == every["received"].sum()
    assert totals["balance"] == totals["invoiced"] - totals["received"]
    shown = html.unescape(board.totals.value)
    assert euros(totals["invoiced"]) in shown and euros(totals["received"]) in shown
    assert board.page_label.value == f"page 1 / {-(-len(every) // PAGE_SIZE)}"


def test_filters_narrow_the_table_and_the_totals_follow_them(
    board: AccountantDashboard, wh: Warehouse
) -> None:
    someone = _practitioners(wh)[0]
    board.practitioner.value = someone
    board.months.index = (2, 5)  # March to June
    board.status_filter.value = "paid"
    board.method.value = "cb"
    board.amount_min.value = "60"
    board.amount_max.value = "70,00 €"
    assert board.status.value == ""
    expected = wh.query(
        DOCUMENTS + " AND i.practitioner_id = $who AND i.status = 'paid'"
        " AND i.amount BETWEEN 60 AND 70 AND EXISTS (SELECT 1 FROM payments AS p WHERE"
        " p.invoice_number = i.invoice_number AND p.method = 'cb' AND p.paid_on <= $date_to)",
        {"date_from": D(YEAR, 3, 1), "date_to": D(YEAR, 6, 30), "who": someone},
    )
    totals = _totals(board)
    assert 0 < totals["invoices"] == len(expected)
    assert totals["invoiced"] == expected["amount"].sum()  # paid invoices count in full
    assert totals["received"] == expected["received"].sum()
    whole_year = AccountantDashboard(wh)
    assert totals["invoices"] < _totals(whole_year)["invoices"]
    shown = _numbers(board)
    assert len(shown) == min(PAGE_SIZE, len(expected))
    assert set(shown) <= set(expected["invoice_number"])
    assert "Carte bancaire" in board.invoices.value


def test_pages_follow_the_sort_of_the_whole_selection(
    board: AccountantDashboard, wh: Warehouse
) -> None:
    board.sort.value = "Montant"
    board.direction.value = "Décroissant"
    board.next.click()
    assert board.status.value == ""
    period = {"date_from": D(YEAR, 1, 1), "date_to": D(YEAR, 12, 31)}
    ordered = wh.query(
        DOCUMENTS + " ORDER BY i.amount DESC, i.invoice_number DESC LIMIT 25 OFFSET 25", period
    )
    assert _numbers(board) == list(ordered["invoice_number"])
    pages = -(-_totals(board)["invoices"] // PAGE_SIZE)  # type: ignore[operator]
    assert board.page_label.value == f"page 2 / {pages}"
    board.last.click()
    board.next.click()  # past the last page: stays there
    assert board.page_label.value == f"page {pages} / {pages}"
    last = wh.query(
        DOCUMENTS + " ORDER BY i.amount DESC, i.invoice_number DESC OFFSET $skip",
        {**period, "skip": (pages - 1) * PAGE_SIZE},
    )
    assert _numbers(board) == list(last["invoice_number"])
    board.first.click()
    board.previous.click()
    assert board.page_label.value == f"page 1 / {pages}"
    board.sort.value = "Numéro"
    board.direction.value = "Croissant"
    first = wh.query(DOCUMENTS + " ORDER BY i.invoice_number LIMIT 25", period)
    assert _numbers(board) == list(first["invoice_number"])


def test_a_search_finds_one_invoice_and_hostile_text_finds_nothing(
    board: AccountantDashboard, wh: Warehouse
) -> None:
    wanted = wh.query("SELECT invoice_number FROM invoices ORDER BY issued_on DESC LIMIT 1")
    number = str(wanted["invoice_number"][0])
    board.search.value = f" {number} "
    assert _numbers(board) == [number]
    assert _totals(board)["invoices"] == 1 and board.page_label.value == "page 1 / 1"
    for hostile in ("%' OR 1=1 --", "_", "%", "'; DROP TABLE invoices; --", "\\"):
        board.search.value = hostile
        assert board.status.value == "", hostile
        assert _numbers(board) == [] and _totals(board)["invoices"] == 0
        assert "Aucune facture" in board.invoices.value
    assert wh.query("SELECT count(*) AS n FROM invoices")["n"][0] > 0  # still there
    board.search.value = number
    board.search.value = "1" * (SEARCH_MAX + 1)
    assert "caractères" in board.status.value
    assert _numbers(board) == [number]  # the table is as it was


def test_a_refused_value_changes_nothing_but_the_status_line(
    board: AccountantDashboard, wh: Warehouse
) -> None:
    def page() -> tuple[object, ...]:
        return (board.invoices.value, board.totals.value, board.body.children, board.title.value)

    cases = [
        (board.year, 1999, "année"),
        (board.practitioner, "PR-NOBODY", "praticien"),
        (board.method, "bitcoin", "moyen de paiement"),
        (board.status_filter, "lost", "statut"),
    ]
    for control, forged, word in cases:
        good = control.value
        # Only a forged widget message could hold a value the options lack.
        control.options = [*control.options, ("forgé", forged)]
        control.value = good
        before = page()
        control.value = forged
        assert word in board.status.value, word
        assert page() == before
        control.value = good
        assert board.status.value == ""
    before = page()
    board.amount_min.value = "80"
    board.amount_max.value = "50"
    assert "minimum" in board.status.value
    board.amount_max.value = "douze"
    assert "montant maximum" in board.status.value
    board.amount_min.value = board.amount_max.value = ""
    board.months.index = (6, 2)
    assert "mois" in board.status.value
    assert page() == before


def test_parse_amount_reads_french_amounts() -> None:
    assert parse_amount("1 234,50 €", "x") == Decimal("1234.50")
    assert parse_amount("1\u202f234,5", "x") == Decimal("1234.5")
    assert parse_amount("  ", "x") is None
    for bad in ("12,3,4", "NaN", "Infinity", "1" * 30, None):
        with pytest.raises(UsageError):
            parse_amount(bad, "x")


# --- the other sections ----------------------------------------------------------------


def _section(board: AccountantDashboard, title: str) -> str:
    for section in board.body.children:
        texts = [getattr(w, "value", "") for w in section.children]
        if title in texts[0]:
            return "".join(texts)
    raise KeyError(title)


def test_the_sections_show_the_metrics_of_the_period(
    board: AccountantDashboard, wh: Warehouse
) -> None:
    chains = _section(board, "Numérotation")
    replaced = wh.query(
        "SELECT r.invoice_number, r.replaces_invoice_number FROM invoices AS r"
        " WHERE r.replaces_invoice_number IS NOT NULL LIMIT 1"
    )
    first, second = replaced["replaces_invoice_number"][0], replaced["invoice_number"][0]
    assert f"{first} (annulée) → {second} (payée)" in chains
    notes = wh.query("SELECT invoice_number FROM invoices WHERE status = 'credit_note'")
    assert all(n in chains for n in notes["invoice_number"])
    reconciliation = html.unescape(_section(board, "Rapprochement"))
    unpaid = metrics.unpaid_invoices(wh, D(YEAR, 1, 1), D(YEAR, 12, 31))
    assert f"{len(unpaid)} facture(s), {euros(unpaid['due'].sum())}" in reconciliation
    receipts = html.unescape(_section(board, "Encaissements par mois"))
    tax = metrics.tax_2035(wh, D(YEAR, 1, 1), D(YEAR, 12, 31)).iloc[0]
    assert euros(tax["cb"]) in receipts and euros(tax["net_receipts"]) in receipts
    assert euros(tax["net_receipts"]) in html.unescape(_section(board, "2035"))
    board.months.index = (0, 0)  # January only: the 2035 totals stay the year's
    assert euros(tax["net_receipts"]) in html.unescape(_section(board, "2035"))
    assert euros(tax["cb"]) not in html.unescape(_section(board, "Encaissements par mois"))


def test_the_micro_bnc_tracker_names_the_day_each_practitioner_crossed(
    board: AccountantDashboard, wh: Warehouse
) -> None:
    tracker = html.unescape(_section(board, "micro-BNC"))
    names = wh.query("SELECT practitioner_id, display_name FROM practitioners")
    for pid, name in zip(names["practitioner_id"], names["display_name"], strict=True):
        days = wh.query(
            "SELECT p.paid_on, sum(p.amount) OVER (ORDER BY p.paid_on) AS running"
            " FROM (SELECT y.paid_on, sum(y.amount) AS amount FROM payments AS y JOIN invoices"
            " USING (invoice_number) WHERE practitioner_id = $pid AND year(paid_on) = 2025"
            " GROUP BY paid_on) AS p ORDER BY p.paid_on",
            {"pid": pid},
        )
        crossed = days[days["running"] > Decimal("77700")]["paid_on"].iloc[0]
        label = crossing_label(Crossing(crossed, already=True), D(YEAR, 12, 31))
        assert f"{name}" in tracker and label in tracker
    board.practitioner.value = names["practitioner_id"][0]
    alone = html.unescape(_section(board, "micro-BNC"))
    assert names["display_name"][0] in alone and names["display_name"][1] not in alone


def test_crossing_day_on_exact_cases() -> None:
    jan = [(D(2025, 1, 1), Decimal(50)), (D(2025, 1, 2), Decimal(30)), (D(2025, 1, 3), Decimal(10))]
    window = {"start": D(2025, 1, 1), "as_of": D(2025, 1, 3), "end": D(2025, 12, 31)}
    assert threshold_crossing(jan, Decimal(77), **window) == Crossing(D(2025, 1, 2), True)
    # Strictly above: reaching the threshold exactly is not crossing it.
    assert threshold_crossing(jan, Decimal(80), **window) == Crossing(D(2025, 1, 3), True)
    # 3 days, 90 €: 30 € a day; 300 € is reached on day 10, crossed on day 11.
    assert threshold_crossing(jan, Decimal(300), **window) == Crossing(D(2025, 1, 11))
    # A day after as_of does not count.
    assert threshold_crossing(jan, Decimal(60), **{**window, "as_of": D(2025, 1, 1)}) == (
        Crossing(D(2025, 1, 2))  # 50 € a day: above 60 on day 2
    )
    # 40 000 € by 30 June (181 days): 77 700 € after 351.6 days, crossed on day 352.
    half = [(D(2025, 6, 30), Decimal(40000))]
    june = {"start": D(2025, 1, 1), "as_of": D(2025, 6, 30), "end": D(2025, 12, 31)}
    assert threshold_crossing(half, Decimal(77700), **june) == Crossing(D(2025, 12, 18))
    assert threshold_crossing(half, Decimal(83600), **june) == Crossing(None)  # day 379
    assert threshold_crossing([], Decimal(77700), **june) == Crossing(None)
    refunds = [(D(2025, 2, 1), Decimal(-100))]
    assert threshold_crossing(refunds, Decimal(77700), **june) == Crossing(None)
    assert crossing_label(Crossing(D(2025, 3, 14), True), D(2025, 12, 31)) == (
        "déjà dépassé le 14 mars 2025"
    )
    assert crossing_label(Crossing(D(2025, 12, 18)), D(2025, 12, 31)) == (
        "atteint vers le 18 décembre 2025 à ce rythme"
    )
    assert crossing_label(Crossing(None), D(2025, 12, 31)) == (
        "pas atteint à ce rythme avant le 31 décembre"
    )


# --- downloads, the app hook -----------------------------------------------------------


def test_a_download_offers_exactly_the_bytes_the_callable_made(wh: Warehouse) -> None:
    asked: list[tuple[int, str | None]] = []
    content = "Date;Montant\n02/01/2025;70,00 €\n".encode() + bytes(range(256))

    def journal(year: int, practitioner: str | None) -> tuple[str, bytes]:
        asked.append((year, practitioner))
        return f"livre-journal-{year}.csv", content

    def broken(year: int, practitioner: str | None) -> tuple[str, bytes]:
        raise RuntimeError("/tmp/secret-path patient Dupont")

    def refused(year: int, practitioner: str | None) -> tuple[str, bytes]:
        raise UsageError("aucun encaissement cette année")

    board = AccountantDashboard(
        wh, [Download("Livre-journal", journal), Download("FEC", broken), Download("X", refused)]
    )
    someone = _practitioners(wh)[1]
    board.practitioner.value = someone
    board.buttons[0].click()
    assert asked == [(YEAR, someone)]
    link = re.fullmatch(
        r'<a download="([^"]+)" href="data:([^;]+);base64,([A-Za-z0-9+/=]+)".*</a>',
        board.download_link.value,
    )
    assert link is not None
    assert link[1] == f"livre-journal-{YEAR}.csv" and link[2] == "text/csv"
    assert base64.b64decode(link[3]) == content
    assert "prêt" in board.download_status.value
    board.buttons[1].click()
    assert board.download_link.value == ""
    assert "Erreur interne" in board.download_status.value
    assert (
        "secret" not in board.download_status.value and "Dupont" not in board.download_status.value
    )
    board.buttons[2].click()
    assert "aucun encaissement cette année" in board.download_status.value


def test_the_app_module_builds_the_accountant_app_over_a_warehouse(wh: Warehouse) -> None:
    widget = app.accountant(wh)
    titles = [getattr(w, "value", "") for w in widget.children]
    assert any("Comptabilité — 1 janv. – 31 déc. 2025" in t for t in titles)
    assert (Path(__file__).parents[1] / "notebooks" / "accountant.ipynb").is_file()


def test_redrawing_leaves_no_widget_behind(board: AccountantDashboard) -> None:
    from ipywidgets.widgets.widget import _instances

    before = len(_instances)
    board.months.index = (1, 4)
    board.refresh()
    assert len(_instances) == before
    assert board.status.value == ""


def test_osteo_serve_serves_the_accountant_app_alone(
    blank_workspace: Path, practice: Path, tmp_path: Path
) -> None:
    """`osteo serve --app accountant` over a practice: the landing page links the
    accountant's app only, and its kernel builds the dashboard (its table styles are in
    the rendered widget's text)."""
    ws = served_workspace(blank_workspace, practice, tmp_path / "ws")
    server = start_server(ws, tmp_path, "--app", "accountant")
    try:
        request = urllib.request.Request(server.url, headers={"Cookie": server.cookie})
        with urllib.request.urlopen(request, timeout=60) as response:
            landing = response.read().decode()
        assert re.findall(r'href="(/voila/render/[^"]+)"', landing) == [
            "/voila/render/accountant.ipynb"
        ]
        request = urllib.request.Request(
            f"{server.base}/voila/render/accountant.ipynb", headers={"Cookie": server.cookie}
        )
        with urllib.request.urlopen(request, timeout=600) as response:
            assert response.status == 200
            body = response.read().decode()
        assert "osteo-table" in body and "Traceback" not in body and "Erreur" not in body
    finally:
        stop_server(server)

"""The accountant's app: invoices to explore, numbering and payment checks, receipts, 2035,
micro-BNC, and the ledgers to download, over one warehouse (a practice's or a bundle's).

`AccountantDashboard(wh, downloads)` is one widget (`.widget`). Its filters: a year of the
warehouse's span and a month range, one practitioner or all (each practitioner is a
separate BNC taxpayer), and, for the invoice explorer only, a means of payment, a status,
an amount range and an invoice-number search. The explorer is a paginated, sortable HTML
table run in DuckDB: every value bound as a parameter, ORDER BY taken from a whitelist,
LIMIT/OFFSET for the page; its totals follow the filters, not the page. The other
sections come from the metrics (`invoice_numbering`, `reconciliation`, `unpaid_invoices`,
`headline`, `tax_2035`, `micro_bnc`, `revenue` by day), never from SQL of their own, except
the replacement chains and credit notes, which are lists of documents.

Widget messages come from the browser: every callback reads the widgets' values again and
checks each before anything runs; a refused value changes nothing but a French status
line. A download button calls its `Download.make(year, practitioner)` and offers the
bytes as a `data:` link in an HTML widget (Voila serves no file).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import logging
import mimetypes
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go
from babel.dates import format_date

from osteo_analytics import metrics, vault
from osteo_analytics.contracts.model import labels
from osteo_analytics.dashboards import theme
from osteo_analytics.dashboards.app import (
    INTERNAL,
    _close,
    _section,
    _status,
    checked_period,
    last_month,
    period_controls,
)
from osteo_analytics.dashboards.page import Filters, Html, call
from osteo_analytics.errors import OsteoError, UsageError
from osteo_analytics.formatting import LOCALE, count, euros
from osteo_analytics.warehouse import Warehouse

TITLE = "Comptabilité"
PAGE_SIZE = 25
SEARCH_MAX = 40  # characters of an invoice-number search
AMOUNT_MAX = 20  # characters of an amount typed in a filter
ALL_PRACTITIONERS = "Tous les praticiens"
ALL = "Tous"
TABLE_ROWS = 200  # rows a check table shows at most
INVOICE_STATUS_LABELS = dict(labels("invoices", "status"))
ANOMALY_LABELS = {
    "gap": "Numéros manquants",
    "duplicate": "Numéro en double",
    "backdated": "Numéro antidaté",
}
RECONCILIATION_LABELS = {
    "overpaid": "Trop-perçu",
    "underpaid": "Encaissement incomplet",
    "cancelled_not_refunded": "Facture annulée non remboursée",
    "payment_without_invoice": "Paiement sans facture",
}
# The explorer's sortable columns: French label → the column of the query (a whitelist:
# only these names ever reach ORDER BY).
SORTS = {
    "Date d'émission": "issued_on",
    "Numéro": "invoice_number",
    "Praticien": "practitioner",
    "Statut": "status",
    "Montant": "amount",
    "Encaissé": "received",
    "Solde": "balance",
}
DIRECTIONS = {"Croissant": "ASC", "Décroissant": "DESC"}
_WIDE = {"description_width": "initial"}
log = logging.getLogger(__name__)

# The invoice explorer: every document issued in the period, what was received on its
# number up to the end of the period, and its balance (facturé: what counts as invoiced,
# live_invoices, less what was received; a cancelled invoice counts for nothing).
_EXPLORER = """
WITH paid AS (
    SELECT invoice_number, sum(amount) AS received,
           list_sort(list_distinct(list(method))) AS methods
    FROM payments
    WHERE paid_on <= $date_to
    GROUP BY invoice_number
),
found AS (
    SELECT i.invoice_number, i.issued_on, i.practitioner_id,
           coalesce(pr.display_name, i.practitioner_id) AS practitioner,
           i.status, i.amount,
           coalesce(l.amount, 0) AS invoiced,
           coalesce(p.received, 0) AS received,
           coalesce(l.amount, 0) - coalesce(p.received, 0) AS balance,
           coalesce(p.methods, []) AS methods
    FROM invoices AS i
    LEFT JOIN live_invoices AS l USING (invoice_number)
    LEFT JOIN paid AS p USING (invoice_number)
    LEFT JOIN practitioners AS pr ON pr.practitioner_id = i.practitioner_id
    WHERE i.issued_on BETWEEN $date_from AND $date_to
      AND ($practitioner IS NULL OR i.practitioner_id = $practitioner)
      AND ($status IS NULL OR i.status = $status)
      AND ($method IS NULL OR list_contains(coalesce(p.methods, []), $method))
      AND ($amount_min IS NULL OR i.amount >= $amount_min)
      AND ($amount_max IS NULL OR i.amount <= $amount_max)
      AND ($search IS NULL OR contains(lower(i.invoice_number), lower($search)))
)
"""
_TOTALS = (
    _EXPLORER + "SELECT count(*) AS invoices, coalesce(sum(invoiced), 0) AS invoiced,"
    " coalesce(sum(received), 0) AS received, coalesce(sum(balance), 0) AS balance FROM found"
)
# Cancelled invoices and replacements, for the chains (over every year loaded: a chain may
# leave the period), and the credit notes of the period with the invoice they name.
_CHAINS = """
SELECT invoice_number, issued_on, status, practitioner_id, replaces_invoice_number
FROM invoices
WHERE status = 'cancelled' OR replaces_invoice_number IS NOT NULL
ORDER BY issued_on, invoice_number
"""
_CREDIT_NOTES = """
SELECT cn.invoice_number, cn.issued_on, cn.amount, cn.cancels_invoice_number,
       i.amount AS invoice_amount
FROM invoices AS cn
LEFT JOIN invoices AS i ON i.invoice_number = cn.cancels_invoice_number
WHERE cn.status = 'credit_note' AND cn.issued_on BETWEEN $date_from AND $date_to
  AND ($practitioner IS NULL OR cn.practitioner_id = $practitioner)
ORDER BY cn.issued_on, cn.invoice_number
"""


@dataclass(frozen=True)
class Download:
    """A download button: its French label and what makes the file, `make(year,
    practitioner_id or None)` → (file name, bytes); with `needs_siren`, `make(year,
    practitioner, siren=…)` gets the SIREN typed in the page (None when left empty)."""

    label: str
    make: Callable[..., tuple[str, bytes]]
    needs_siren: bool = False


@dataclass(frozen=True)
class Query:
    """The explorer's checked filters: the period, one practitioner or None, and the rest."""

    year: int
    date_from: dt.date
    date_to: dt.date
    practitioner: str | None
    method: str | None = None
    status: str | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    search: str | None = None

    @property
    def filters(self) -> Filters:
        chosen = None if self.practitioner is None else (self.practitioner,)
        return Filters(self.date_from, self.date_to, chosen, compare=False)

    def params(self) -> dict[str, Any]:
        """The explorer query's parameters: every field but the year."""
        return {k: v for k, v in asdict(self).items() if k != "year"}


# --- pure functions ----------------------------------------------------------------------


@dataclass(frozen=True)
class Crossing:
    """When the micro-BNC threshold is crossed: `day` it was (`already`) or would be at
    the current pace; None when it is not reached before the end of the year."""

    day: dt.date | None
    already: bool = False


def threshold_crossing(
    daily: Iterable[tuple[dt.date, Decimal]],
    threshold: Decimal,
    *,
    start: dt.date,
    as_of: dt.date,
    end: dt.date,
) -> Crossing:
    """The day receipts since `start` went above `threshold` (by `as_of`), else the day
    they would at the pace so far: receipts to `as_of` / days elapsed (both ends counted).

    `daily` are (day, net receipts) pairs; a day after `as_of` is ignored. Above means
    strictly above, as the `micro_bnc` metric says `exceeded`. A projection later than
    `end`, or no receipt at all, is no crossing (day None).
    """
    running = Decimal(0)
    for day, amount in sorted(daily):
        if day < start or day > as_of:
            continue
        running += Decimal(amount)
        if running > threshold:
            return Crossing(day, already=True)
    elapsed = (as_of - start).days + 1
    if elapsed <= 0 or running <= 0:
        return Crossing(None)
    # After n days at that pace, running * n / elapsed; above threshold from the first n
    # with n > threshold * elapsed / running.
    days = int(threshold * elapsed // running) + 1
    projected = start + dt.timedelta(days=days - 1)
    return Crossing(projected if projected <= end else None)


def crossing_label(crossing: Crossing, end: dt.date) -> str:
    """The tracker's sentence: `déjà dépassé le 14 mars 2025`, `atteint vers le …`, or
    `pas atteint à ce rythme avant le 31 décembre`."""
    if crossing.day is None:
        return f"pas atteint à ce rythme avant le {format_date(end, 'd MMMM', locale=LOCALE)}"
    day = format_date(crossing.day, "d MMMM y", locale=LOCALE)
    if crossing.already:
        return f"déjà dépassé le {day}"
    return f"atteint vers le {day} à ce rythme"


def parse_amount(text: object, what: str) -> Decimal | None:
    """An amount typed in French (`1 234,50`, `65 €`) as a Decimal; None when empty."""
    if not isinstance(text, str) or len(text) > AMOUNT_MAX:
        raise UsageError(f"{what} : un montant en euros, par exemple 65 ou 65,50")
    cleaned = re.sub(r"[\s\u00a0\u202f€]", "", text).replace(",", ".")
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise UsageError(f"{what} : un montant en euros, par exemple 65 ou 65,50") from None
    if not value.is_finite():
        raise UsageError(f"{what} : un montant en euros, par exemple 65 ou 65,50")
    return value


def data_link(filename: str, content: bytes) -> str:
    """An `<a download>` link holding `content` as a base64 `data:` URI (Voila serves no
    file: the browser saves it from the page)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", filename.rsplit("/", 1)[-1])[:100] or "fichier"
    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    payload = base64.b64encode(content).decode("ascii")
    return (
        f'<a download="{html.escape(name)}" href="data:{mime};base64,{payload}" '
        f'class="osteo-download">Enregistrer {html.escape(name)} '
        f"({count(len(content))} octets)</a>"
    )


def table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], *, numeric: Iterable[int] = ()
) -> str:
    """An HTML table, every cell escaped, the `numeric` columns right-aligned; at most
    TABLE_ROWS rows, then a line saying how many more there are."""
    right = set(numeric)
    body: list[str] = []
    more = 0
    for row in rows:
        if len(body) >= TABLE_ROWS:
            more += 1
            continue
        cells = "".join(
            f"<td{_ALIGN if i in right else ''}>{html.escape(str(c))}</td>"
            for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    if not body:
        return "<p>Rien à signaler sur la période.</p>"
    head = "".join(
        f"<th{_ALIGN if i in right else ''}>{html.escape(h)}</th>" for i, h in enumerate(headers)
    )
    note = f"<p>… et {count(more)} ligne(s) de plus : réduisez la période.</p>" if more else ""
    return (
        f'<table class="osteo-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>{note}"
    )


_ALIGN = ' style="text-align:right"'
_CSS = (
    "<style>.osteo-table{border-collapse:collapse;font-size:.9rem;margin:.3rem 0}"
    ".osteo-table th,.osteo-table td{border-bottom:1px solid #ddd;padding:.2rem .6rem}"
    ".osteo-table th{background:#f3f3f3}.osteo-totals{font-weight:600}</style>"
)


def _rows(frame: pd.DataFrame) -> Iterator[Any]:
    """A frame's rows as named tuples (typed Any: their columns are the query's)."""
    return frame.itertuples()


def _day(value: Any) -> str:
    return "" if value is None or pd.isna(value) else format_date(value, "dd/MM/y", locale=LOCALE)


def _money(value: Any) -> str:
    return "" if value is None or pd.isna(value) else euros(value)


def _text(value: Any) -> str:
    return "" if value is None or (not isinstance(value, list) and pd.isna(value)) else str(value)


def receipts_by_month(headline: Mapping[str, Any], period: str) -> go.Figure:
    """Encaissé per month, stacked by means of payment (the `headline` document)."""
    fig = theme.new_figure(
        theme.title("Encaissé par mois et moyen de paiement", "encaissé", period)
    )
    months = [dt.date.fromisoformat(m["month"] + "-01") for m in headline["months"]]
    if not months:
        return theme.empty(fig)
    for method in metrics.METHODS:
        values = [Decimal(m["received_by_method"][method]) for m in headline["months"]]
        theme.by_month(
            fig,
            months,
            theme.amounts(values),
            name=theme.METHOD_LABELS[method],
            colour=theme.METHOD_COLOURS[method],
            hover=theme.euro_hover(),
        )
    theme.money_axis(fig)
    fig.update_layout(barmode="relative")
    return fig


# --- the app -------------------------------------------------------------------------------


class AccountantDashboard:
    """The accountant's app over `wh`, as one widget (`self.widget`)."""

    def __init__(
        self,
        wh: Warehouse,
        downloads: Sequence[Download] = (),
        *,
        page_size: int = PAGE_SIZE,
        recipients: Sequence[str] = (),
    ) -> None:
        """`recipients`: the age keys a download is encrypted to when "chiffrer" is ticked
        (the person's own: an accountant's, or the practice's); none, no such choice."""
        self.wh, self.downloads, self.page_size = wh, tuple(downloads), page_size
        self.recipients = tuple(recipients)
        span = wh.span
        self.years = [] if span is None else list(range(span[1].year, span[0].year - 1, -1))
        self.practitioners = {
            str(pid): str(name or pid)
            for pid, name in wh.con.execute(
                "SELECT practitioner_id, display_name FROM practitioners ORDER BY display_name"
            ).fetchall()
        }
        self.year, self.months = period_controls(wh, self.years)
        self.practitioner = self._dropdown(
            "Praticien", ALL_PRACTITIONERS, self.practitioners.items()
        )
        self.method = self._dropdown("Moyen de paiement", ALL, theme.METHOD_LABELS.items())
        self.status_filter = self._dropdown("Statut", ALL, INVOICE_STATUS_LABELS.items())
        self.amount_min = self._text("Montant min.", "0,00")
        self.amount_max = self._text("max.", "")
        self.search = self._text("N° de facture", "contient…")
        self.sort = widgets.Dropdown(
            options=list(SORTS), value="Date d'émission", description="Trier par", style=_WIDE
        )
        self.direction = widgets.ToggleButtons(options=list(DIRECTIONS), value="Croissant")
        self.page = 1
        self.first, self.previous, self.next, self.last = (
            widgets.Button(description=d, layout=widgets.Layout(width="auto"))
            for d in ("« Première", "‹ Précédente", "Suivante ›", "Dernière »")
        )
        self.page_label = widgets.HTML()
        self.status = widgets.HTML()
        self.title = widgets.HTML()
        self.totals = widgets.HTML()
        self.invoices = widgets.HTML()
        self.download_status = widgets.HTML()
        self.download_link = widgets.HTML()
        self.siren = self._text("SIREN (nom du FEC)", "9 chiffres")
        self.encrypt = widgets.Checkbox(
            value=True,
            description="Chiffrer pour ma clé (age, recommandé)",
            indent=False,
            layout=widgets.Layout(width="auto"),
        )
        self.buttons = [
            widgets.Button(description=d.label, layout=widgets.Layout(width="auto"))
            for d in self.downloads
        ]
        self.body = widgets.VBox()
        self.widget = self._layout()
        for control in (self.year, self.months, self.practitioner):
            control.observe(self._period_changed, names="value")
        for control in (
            self.method,
            self.status_filter,
            self.amount_min,
            self.amount_max,
            self.search,
            self.sort,
            self.direction,
        ):
            control.observe(self._explorer_changed, names="value")
        for button, move in (
            (self.first, "first"),
            (self.previous, -1),
            (self.next, 1),
            (self.last, "last"),
        ):
            button.on_click(lambda _b, move=move: self.turn(move))
        for button, download in zip(self.buttons, self.downloads, strict=True):
            button.on_click(lambda _b, download=download: self.download(download))
        self.refresh()

    # --- widgets --------------------------------------------------------------------------

    @staticmethod
    def _dropdown(name: str, everyone: str, choices: Iterable[tuple[str, str]]) -> Any:
        options = [(everyone, None), *((label, code) for code, label in choices)]
        return widgets.Dropdown(options=options, value=None, description=name, style=_WIDE)

    @staticmethod
    def _text(name: str, placeholder: str) -> widgets.Text:
        return widgets.Text(
            value="",
            placeholder=placeholder,
            description=name,
            style=_WIDE,
            continuous_update=False,
            layout=widgets.Layout(width="14em"),
        )

    def _layout(self) -> widgets.VBox:
        row = widgets.Layout(flex_flow="row wrap", align_items="center", gap="0.5em 2em")
        period = widgets.HBox([self.year, self.months, self.practitioner], layout=row)
        explorer_filters = widgets.HBox(
            [self.method, self.status_filter, self.amount_min, self.amount_max, self.search],
            layout=row,
        )
        pager = widgets.HBox(
            [
                self.sort,
                self.direction,
                self.first,
                self.previous,
                self.page_label,
                self.next,
                self.last,
            ],
            layout=row,
        )
        explorer = widgets.VBox(
            [widgets.HTML("<h3>Factures</h3>"), explorer_filters, pager, self.totals, self.invoices]
        )
        downloads = widgets.VBox(
            [
                widgets.HTML("<h3>Téléchargements</h3>"),
                widgets.HBox(
                    [
                        *([self.siren] if any(d.needs_siren for d in self.downloads) else []),
                        *([self.encrypt] if self.recipients else []),
                        *self.buttons,
                    ],
                    layout=row,
                )
                if self.buttons
                else widgets.HTML("<p>Aucun export disponible ici.</p>"),
                widgets.HTML(
                    '<p class="osteo-download-note">Un fichier non chiffré est lisible par '
                    "quiconque accède à cet ordinateur : ouvrez un fichier chiffré avec "
                    "<code>age -d -i VOTRE_CLÉ</code>.</p>"
                )
                if self.recipients
                else widgets.HTML(""),
                self.download_status,
                self.download_link,
            ]
        )
        return widgets.VBox(
            [widgets.HTML(_CSS), self.title, period, self.status, explorer, self.body, downloads]
        )

    # --- what the widgets say, checked ------------------------------------------------------

    def query(self) -> Query:
        """The widgets' values, checked; UsageError (French) for one they should never hold."""
        start, end = checked_period(self.year.value, self.months.value, self.years)
        practitioner = self.practitioner.value
        if practitioner is not None and practitioner not in self.practitioners:
            raise UsageError("praticien inconnu : choisissez-en un de la liste")
        method, status = self.method.value, self.status_filter.value
        if method is not None and method not in theme.METHOD_LABELS:
            raise UsageError("moyen de paiement inconnu : choisissez-en un de la liste")
        if status is not None and status not in INVOICE_STATUS_LABELS:
            raise UsageError("statut inconnu : choisissez-en un de la liste")
        low = parse_amount(self.amount_min.value, "montant minimum")
        high = parse_amount(self.amount_max.value, "montant maximum")
        if low is not None and high is not None and low > high:
            raise UsageError("montants : le minimum dépasse le maximum")
        search = self.search.value
        if not isinstance(search, str) or len(search) > SEARCH_MAX:
            raise UsageError(f"numéro de facture : {SEARCH_MAX} caractères au plus")
        return Query(
            year=start.year,
            date_from=start,
            date_to=end,
            practitioner=practitioner,
            method=method,
            status=status,
            amount_min=low,
            amount_max=high,
            search=search.strip() or None,
        )

    def order(self) -> tuple[str, str]:
        """The checked sort: a column of SORTS and ASC or DESC."""
        column, direction = SORTS.get(self.sort.value), DIRECTIONS.get(self.direction.value)
        if column is None or direction is None:
            raise UsageError("tri : choisissez une colonne et un sens de la liste")
        return column, direction

    # --- callbacks ------------------------------------------------------------------------

    def _period_changed(self, change: dict[str, Any]) -> None:
        if change.get("owner") is self.year and change.get("new") in self.years:
            with self.months.hold_trait_notifications():
                self.months.index = (0, last_month(self.wh, change["new"]) - 1)
        self.page = 1
        self.refresh()

    def _explorer_changed(self, _change: dict[str, Any]) -> None:
        self.page = 1
        self._guarded(lambda: self._draw_explorer(self.query()))

    def turn(self, move: int | str) -> None:
        """Go to the first, last, previous (-1) or next (1) page of invoices."""
        previous = self.page
        if move == "first":
            self.page = 1
        elif move == "last":
            self.page = 1 << 62  # clamped to the last page when drawn
        elif isinstance(move, int):
            self.page = max(1, self.page + move)
        if not self._guarded(lambda: self._draw_explorer(self.query())):
            self.page = previous

    def refresh(self) -> None:
        """Check the widgets, draw the explorer and every section; on error a French line
        and nothing else changes."""

        def draw() -> None:
            query = self.query()
            sections = self._sections(query)  # everything computed before anything is drawn
            self._draw_explorer(query)
            self.title.value = f"<h2>{html.escape(f'{TITLE} — {query.filters.period}')}</h2>"
            previous = self.body.children
            self.body.children = sections
            for widget in previous:
                _close(widget)

        self._guarded(draw)

    def _guarded(self, action: Callable[[], None]) -> bool:
        try:
            action()
        except OsteoError as error:
            self.status.value = _status(str(error))
            return False
        except Exception:  # a bug: logged in the kernel, never shown in the page
            log.exception("dashboard accountant")
            self.status.value = _status(INTERNAL)
            return False
        self.status.value = ""
        return True

    def download(self, item: Download) -> None:
        """Make `item`'s file for the chosen year and practitioner and offer it as a link."""
        self.download_link.value = ""
        try:
            query = self.query()
            if item.needs_siren:
                siren = self.siren.value
                if not isinstance(siren, str) or len(siren) > 20:
                    raise UsageError("SIREN : 9 chiffres")
                made = item.make(query.year, query.practitioner, siren=siren.strip() or None)
            else:
                made = item.make(query.year, query.practitioner)
            if not (
                isinstance(made, tuple)
                and len(made) == 2
                and isinstance(made[0], str)
                and isinstance(made[1], bytes | bytearray)
            ):
                raise TypeError("a download must return (file name, bytes)")
            name, data = made[0], bytes(made[1])
            encrypt = self.encrypt.value
            if not isinstance(encrypt, bool):
                raise UsageError("chiffrement : oui ou non")
            if encrypt and self.recipients:
                name, data = name + ".age", vault.encrypt(data, list(self.recipients))
            self.download_link.value = data_link(name, data)
        except OsteoError as error:
            self.download_status.value = _status(str(error))
            return
        except Exception:
            log.exception("download %s", item.label)
            self.download_status.value = _status(
                "Erreur interne : le fichier n'a pas pu être préparé. Réessayez ; si elle "
                "revient, signalez-la."
            )
            return
        self.download_status.value = f"<p>{html.escape(item.label)} : fichier prêt.</p>"

    # --- the explorer -----------------------------------------------------------------------

    def explorer_rows(self, query: Query) -> tuple[pd.DataFrame, dict[str, Any]]:
        """The explorer's page of rows (self.page, clamped) and the totals of every row."""
        params = query.params()
        row = self.wh.query(_TOTALS, params).to_dict("records")[0]
        totals = {str(k): v for k, v in row.items()}
        pages = max(1, -(-int(totals["invoices"]) // self.page_size))
        self.page = min(max(1, self.page), pages)
        column, direction = self.order()
        sql = (
            f"{_EXPLORER} SELECT * FROM found ORDER BY {column} {direction} NULLS LAST, "
            f"invoice_number {direction} LIMIT $limit OFFSET $offset"
        )
        offset = (self.page - 1) * self.page_size
        frame = self.wh.query(sql, {**params, "limit": self.page_size, "offset": offset})
        totals["pages"] = pages
        return frame, totals

    def _draw_explorer(self, query: Query) -> None:
        frame, totals = self.explorer_rows(query)
        rows = [
            [
                r.invoice_number,
                _day(r.issued_on),
                _text(r.practitioner),
                INVOICE_STATUS_LABELS.get(r.status, r.status),
                ", ".join(theme.relabel(r.methods, theme.METHOD_LABELS)),
                _money(r.amount),
                _money(r.received),
                _money(r.balance),
            ]
            for r in _rows(frame)
        ]
        headers = [
            "N° de facture",
            "Émise le",
            "Praticien",
            "Statut",
            "Moyen(s)",
            "Montant",
            f"Encaissé au {_day(query.date_to)}",
            "Solde",
        ]
        self.invoices.value = (
            table(headers, rows, numeric=(5, 6, 7))
            if rows
            else "<p>Aucune facture ne correspond aux filtres.</p>"
        )
        self.totals.value = (
            f'<p class="osteo-totals">{count(int(totals["invoices"]))} pièce(s) : facturé '
            f"{euros(totals['invoiced'])}, encaissé {euros(totals['received'])}, solde "
            f"{euros(totals['balance'])}</p><p><small>Facturé : les factures qui comptent "
            "(ni annulées ni avoirs d'annulation ; un avoir partiel en négatif). Solde : "
            "facturé moins ce qui a été encaissé sur le numéro.</small></p>"
        )
        self.page_label.value = f"page {self.page} / {totals['pages']}"

    # --- the sections -----------------------------------------------------------------------

    def _sections(self, query: Query) -> list[widgets.Widget]:
        filters = query.filters
        return [
            _section(
                "Numérotation des factures",
                [
                    Html(self.numbering(filters)),
                    Html(self.chains(query)),
                    Html(self.credit_notes(query)),
                ],
            ),
            _section("Rapprochement", [Html(self.reconciliation(filters))]),
            _section("Encaissements par mois et moyen de paiement", self.receipts(filters)),
            _section(f"Totaux {query.year} pour la déclaration 2035", [Html(self.tax_2035(query))]),
            _section(f"Seuil micro-BNC {query.year}", [Html(self.micro_bnc(query))]),
        ]

    def numbering(self, filters: Filters) -> str:
        frame = call(metrics.invoice_numbering, self.wh, filters)
        rows = [
            [
                ANOMALY_LABELS.get(r.anomaly, r.anomaly),
                r.invoice_number,
                _day(r.issued_on),
                _text(r.related_number),
                "" if r.missing is None else count(int(r.missing)),
            ]
            for r in _rows(frame)
        ]
        return "<h4>Trous, doublons et numéros antidatés</h4>" + table(
            ["Anomalie", "N° de facture", "Émise le", "Numéro lié", "Manquants"],
            rows,
            numeric=(4,),
        )

    def chains(self, query: Query) -> str:
        """Each cancelled invoice of the period that starts a chain: → its replacements."""
        docs = self.wh.query(_CHAINS)
        by_number = {r.invoice_number: r for r in _rows(docs)}
        replaced_by: dict[str, list[str]] = {}
        for r in _rows(docs):
            if isinstance(r.replaces_invoice_number, str):
                replaced_by.setdefault(r.replaces_invoice_number, []).append(r.invoice_number)
        rows = []
        for r in _rows(docs):
            starts = r.status == "cancelled" and r.replaces_invoice_number not in by_number
            if not starts or not query.date_from <= r.issued_on <= query.date_to:
                continue
            if query.practitioner is not None and r.practitioner_id != query.practitioner:
                continue
            chain, seen, current = [], set(), r.invoice_number
            while current is not None and current not in seen:
                seen.add(current)
                doc = by_number.get(current)
                state = INVOICE_STATUS_LABELS.get(doc.status, "") if doc is not None else ""
                chain.append(f"{current} ({state.lower()})" if state else current)
                following = replaced_by.get(current, [])
                current = following[0] if following else None
            tail = "" if len(chain) > 1 else " → non remplacée"
            rows.append([r.invoice_number, _day(r.issued_on), " → ".join(chain) + tail])
        return "<h4>Factures annulées et remplacements</h4>" + table(
            ["Facture annulée", "Émise le", "Chaîne"], rows
        )

    def credit_notes(self, query: Query) -> str:
        params = {k: query.params()[k] for k in ("date_from", "date_to", "practitioner")}
        frame = self.wh.query(_CREDIT_NOTES, params)
        rows = []
        for r in _rows(frame):
            if not isinstance(r.cancels_invoice_number, str):
                scope = "sans facture liée"
            elif r.invoice_amount is None or pd.isna(r.invoice_amount):
                scope = "facture introuvable"
            else:
                scope = "totale" if -r.amount >= r.invoice_amount else "partielle"
            rows.append(
                [
                    r.invoice_number,
                    _day(r.issued_on),
                    _money(r.amount),
                    _text(r.cancels_invoice_number),
                    scope,
                ]
            )
        return "<h4>Avoirs et factures annulées par eux</h4>" + table(
            ["N° d'avoir", "Émis le", "Montant", "Annule la facture", "Annulation"],
            rows,
            numeric=(2,),
        )

    def reconciliation(self, filters: Filters) -> str:
        due_on = _day(filters.date_to)
        unpaid = call(metrics.unpaid_invoices, self.wh, filters)
        unpaid_rows = [
            [
                r.invoice_number,
                _day(r.issued_on),
                _money(r.amount),
                _money(r.received),
                _money(r.due),
                count(int(r.age_days)),
            ]
            for r in _rows(unpaid)
        ]
        total_due = sum((Decimal(d) for d in unpaid["due"]), Decimal(0))
        checks = call(metrics.reconciliation, self.wh, filters)
        check_rows = [
            [
                RECONCILIATION_LABELS.get(r.kind, r.kind),
                _text(r.invoice_number),
                _day(r.issued_on),
                _money(r.amount),
                _money(r.received),
                _money(r.difference),
            ]
            for r in _rows(checks)
        ]
        return (
            f"<h4>Impayés au {due_on} : {count(len(unpaid))} facture(s), "
            f"{euros(total_due)}</h4>"
            + table(
                [
                    "N° de facture",
                    "Émise le",
                    "Montant",
                    "Encaissé",
                    "Reste dû",
                    "Ancienneté (jours)",
                ],
                unpaid_rows,
                numeric=(2, 3, 4, 5),
            )
            + "<h4>Trop-perçus, encaissements incomplets, paiements sans facture</h4>"
            + table(
                ["Écart", "N° de facture", "Émise le", "Montant", "Encaissé", "Différence"],
                check_rows,
                numeric=(3, 4, 5),
            )
        )

    def receipts(self, filters: Filters) -> list[Any]:
        headline = call(metrics.headline, self.wh, filters)
        labels_ = [theme.METHOD_LABELS[m] for m in metrics.METHODS]
        rows = [
            [
                theme.month_label(dt.date.fromisoformat(m["month"] + "-01")),
                *(euros(m["received_by_method"][k]) for k in metrics.METHODS),
                euros(m["revenue_received"]),
            ]
            for m in headline["months"]
        ]
        totals = headline["totals"]
        rows.append(
            [
                "Total",
                *(euros(totals["received_by_method"][k]) for k in metrics.METHODS),
                euros(totals["revenue_received"]),
            ]
        )
        numeric = range(1, len(labels_) + 2)
        return [
            receipts_by_month(headline, filters.period),
            Html(table(["Mois", *labels_, "Total"], rows, numeric=numeric)),
        ]

    def tax_2035(self, query: Query) -> str:
        year = Filters(
            dt.date(query.year, 1, 1),
            dt.date(query.year, 12, 31),
            query.filters.practitioners,
            compare=False,
        )
        frame = call(metrics.tax_2035, self.wh, year)
        row = frame.iloc[0] if not frame.empty else None
        lines = [
            ("Recettes encaissées", "receipts"),
            ("Remboursements (avoirs payés)", "refunds"),
            ("Recettes nettes encaissées (base de la ligne AA)", "net_receipts"),
            *((f"dont {theme.METHOD_LABELS[m].lower()}", m) for m in metrics.METHODS),
        ]
        rows = [[label, euros(row[key] if row is not None else 0)] for label, key in lines]
        payments = int(row["payments"]) if row is not None else 0
        rows.append(["Nombre d'encaissements", count(payments)])
        return (
            f"<p>Encaissé du 1er janvier au 31 décembre {query.year}, par date de paiement "
            "(les mois choisis ne changent pas ces totaux).</p>"
            + table(["Ligne", "Montant"], rows, numeric=(1,))
        )

    def micro_bnc(self, query: Query) -> str:
        """Year-to-date receipts of each practitioner chosen against the year's threshold."""
        start, end = dt.date(query.year, 1, 1), dt.date(query.year, 12, 31)
        span_end = self.wh.span[1] if self.wh.span is not None else end
        as_of = min(self.wh.today, span_end, end)
        chosen = [query.practitioner] if query.practitioner else list(self.practitioners)
        rows = []
        for pid in chosen:
            if as_of < start:
                rows.append([self.practitioners[pid], "", "", "", "pas encore d'encaissement"])
                continue
            months = metrics.micro_bnc(self.wh, start, as_of, practitioners=pid)
            last = months.iloc[-1]
            threshold = last["threshold"]
            if threshold is None or pd.isna(threshold):
                verdict = f"aucun seuil réglé pour {query.year} (réglage micro_bnc_threshold)"
                rows.append([self.practitioners[pid], euros(last["year_to_date"]), "", "", verdict])
                continue
            daily = metrics.revenue(
                self.wh, start, as_of, grain="day", basis="encaisse", practitioners=pid
            )
            crossing = threshold_crossing(
                zip(daily["period_start"], daily["amount"], strict=True),
                Decimal(threshold),
                start=start,
                as_of=as_of,
                end=end,
            )
            remaining = max(Decimal(last["remaining"]), Decimal(0))
            rows.append(
                [
                    self.practitioners[pid],
                    euros(last["year_to_date"]),
                    euros(threshold),
                    euros(remaining),
                    crossing_label(crossing, end),
                ]
            )
        return (
            f"<p>Recettes encaissées du 1er janvier au {_day(as_of)}, par praticien (chacun "
            "est un contribuable) ; le rythme est celui des encaissements depuis le 1er "
            "janvier.</p>"
            + table(
                ["Praticien", "Encaissé", "Seuil", "Reste avant le seuil", "Franchissement"],
                rows,
                numeric=(1, 2, 3),
            )
        )

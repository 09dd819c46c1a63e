"""The data quality app: each import file by file, records past their keep period and the
next expiries, and the backups.

- Imports (what `osteo import` printed and `osteo quarantine` details): per import and
  file, rows read, accepted, quarantined, duplicates and excluded, with the reasons in
  French, from the encrypted per-file reports (`import_reports`). Imports made before
  those reports existed show the audit log's totals and say that their detail is not
  available.
- Retention: health records are kept 20 years after the last visit, and never destroyed
  before the patient's 28th birthday (settings `retention_years`, `retention_minor_age`).
  `metrics.retention` on a day lists the records past that date; run once on the last day
  of the horizon, it gives both the records already past today and those that will be,
  month by month.
- Backups: per destination (`backup.statuses`), the last success, its age and the last
  check, with a warning when it is old, failed or unreachable; with none configured, the
  panel says so with advice.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go

from osteo_analytics import metrics
from osteo_analytics.backup import DestinationStatus, age_text
from osteo_analytics.dashboards import theme
from osteo_analytics.dashboards.page import Filters, Html, Page, Section, call
from osteo_analytics.dashboards.theme import by_month, count_hover, day_label, new_figure
from osteo_analytics.dashboards.tiles import Tile, render
from osteo_analytics.formatting import count
from osteo_analytics.import_reports import COUNTS, ImportSummary, read_imports
from osteo_analytics.quarantine import rule_label
from osteo_analytics.warehouse import Warehouse
from osteo_analytics.workspace import Unlocked

TITLE = "Qualité des données et conservation"
HORIZON_MONTHS = 12
RETENTION_RULE = "20 ans après la dernière consultation, pas avant 28 ans"
NO_DETAIL = "détail par fichier indisponible"
NO_BACKUP = "Aucune sauvegarde configurée"
BACKUP_ADVICE = (
    "Ajoutez deux destinations sur deux supports différents (par exemple un disque externe "
    "et un second disque rangé ailleurs) avec « osteo backup add », puis lancez « osteo "
    "backup run » : sans sauvegarde, un disque perdu emporte vingt ans de dossiers."
)
TABLE_HEADERS = (
    "Import",
    "Fichier",
    "Format",
    "Lues",
    "Acceptées",
    "Quarantaine",
    "Doublons",
    "Exclues",
    "Motifs",
)


def _reasons(reasons: dict[str, int]) -> str:
    return " ; ".join(f"{rule_label(r)} : {count(n)}" for r, n in sorted(reasons.items())) or "—"


def import_rows(imports: Sequence[ImportSummary], zone: ZoneInfo) -> list[list[str]]:
    """One row per file of each import (per import when it has no report), oldest first,
    in the order of TABLE_HEADERS."""
    rows = []
    for item in imports:
        when = item.time.astimezone(zone).strftime("%d/%m/%Y %H:%M")
        if item.files is None:
            numbers = [count(item.totals.get(k, 0)) for k in COUNTS[:5]]
            rows.append([when, f"({NO_DETAIL})", "—", *numbers, "—"])
            continue
        for f in item.files:
            numbers = [count(getattr(f, k)) for k in COUNTS[:5]]
            where = theme.plain(f.label)
            rows.append([when, where, f"{f.adapter} ({f.format})", *numbers, _reasons(f.reasons)])
    return rows


def imports_table(imports: Sequence[ImportSummary], zone: ZoneInfo) -> go.Figure:
    """Every import, file by file, as a table with French headers."""
    last = day_label(imports[-1].time.astimezone(zone).date()) if imports else "aujourd'hui"
    heading = theme.title(
        "Imports, fichier par fichier", "lignes lues", f"tous les imports jusqu'au {last}"
    )
    fig = new_figure(heading)
    if not imports:
        return theme.empty(fig)
    rows = import_rows(imports, zone)
    fig.add_table(
        header={"values": list(TABLE_HEADERS), "fill_color": "#e8eef5", "align": "left"},
        cells={"values": [list(c) for c in zip(*rows, strict=True)], "align": "left"},
        columnwidth=[1.2, 2, 1.2, 0.8, 0.9, 0.9, 0.9, 0.8, 3],
    )
    fig.update_layout(height=min(1200, 160 + 44 * len(rows)))
    return fig


def imports_notice(imports: Sequence[ImportSummary]) -> Html | None:
    """What the table cannot say: imports without their per-file detail (older ones)."""
    older = [i for i in imports if i.files is None]
    if not older:
        return None
    return Html(
        f"<p>{count(len(older))} import(s) antérieur(s) aux rapports par fichier : seuls "
        "leurs totaux, tirés du journal d'audit, sont connus (le détail par fichier n'est "
        "pas disponible pour ces imports).</p>"
    )


def _month_starts(first: dt.date, n: int) -> list[dt.date]:
    return [dt.date(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 1)
            for i in range(n)]  # fmt: skip


def horizon(today: dt.date, months: int = HORIZON_MONTHS) -> dt.date:
    """The first day after the `months` months that start with today's month."""
    return _month_starts(today.replace(day=1), months + 1)[-1]


def expired(frame: pd.DataFrame, today: dt.date) -> int:
    """Records of a `metrics.retention` frame already past their keep period on `today`."""
    return sum(1 for day in frame["keep_until"] if day < today)


def retention(frame: pd.DataFrame, today: dt.date, months: int = HORIZON_MONTHS) -> go.Figure:
    """Records reaching the end of their keep period, month by month from today's month.

    `frame` is `metrics.retention` on `horizon(today, months)`: every record past its
    keep period by then. Those already past today are counted in the title.
    """
    starts = _month_starts(today.replace(day=1), months)
    what = (
        "Dossiers arrivant en fin de conservation "
        f"({count(expired(frame, today))} déjà échus au {day_label(today)})"
    )
    span = f"{theme.month_label(starts[0])} – {theme.month_label(starts[-1])}"
    fig = new_figure(theme.title(what, RETENTION_RULE, span))
    coming = [day.replace(day=1) for day in frame["keep_until"] if day >= today]
    values = [coming.count(m) for m in starts]
    by_month(fig, starts, values, name="Dossiers", colour=theme.VERMILLION,
             hover=count_hover(unit=" dossier(s)"), legend=False)  # fmt: skip
    # Whole numbers only: a few records must not be drawn on ticks 0,2 0,4...
    fig.update_yaxes(title_text="Dossiers", tickformat=",d", range=[0, max(5, *values) * 1.1])
    return fig


def backup_panel(statuses: Sequence[DestinationStatus], zone: ZoneInfo | None = None) -> str:
    """The backups as HTML: one line per destination, or none configured with advice.

    `statuses` come from `backup.statuses()`, which reads what the last runs recorded.
    """
    if not statuses:
        return (
            '<div class="osteo-backups" lang="fr">'
            f"<p><strong>{html.escape(NO_BACKUP)}.</strong></p>"
            f"<p>{html.escape(BACKUP_ADVICE)}</p></div>"
        )

    def when(moment: dt.datetime | None) -> str:
        return "jamais" if moment is None else moment.astimezone(zone).strftime("%d/%m/%Y %H:%M")

    def state(s: DestinationStatus) -> str:
        return "à jour" if s.ok else "à vérifier : " + ", ".join(s.warnings)

    lines = "".join(
        f"<tr><td>{html.escape(s.name)}</td><td>{html.escape(when(s.last_backup))}</td>"
        f"<td>{html.escape(age_text(s.age))}</td>"
        f"<td>{html.escape(when(s.last_check))}</td><td>{html.escape(state(s))}</td></tr>"
        for s in statuses
    )
    return (
        '<div class="osteo-backups" lang="fr"><table><thead><tr><th>Destination</th>'
        "<th>Dernière sauvegarde</th><th>Âge</th><th>Dernière vérification</th><th>État</th>"
        f"</tr></thead><tbody>{lines}</tbody></table></div>"
    )


def build(
    wh: Warehouse,
    filters: Filters,
    unlocked: Unlocked | None = None,
    *,
    backups: Sequence[DestinationStatus] = (),
) -> Page:
    """The quality app's page: imports (from `unlocked`'s reports), retention, backups.

    Retention is judged on the warehouse's today, whatever the period. `backups` are the
    destinations' statuses (`backup.statuses(unlocked)`: cheap, no restic run).
    """
    zone = ZoneInfo(str(wh.settings["timezone"]))
    imports = read_imports(unlocked) if unlocked is not None else []
    kept = call(metrics.retention, wh, filters, as_of=horizon(wh.today))
    notice = imports_notice(imports)
    import_items: list[go.Figure | Html] = [imports_table(imports, zone)]
    if notice is not None:
        import_items.append(notice)
    summed = {k: sum(i.totals.get(k, 0) for i in imports) for k in COUNTS}
    today = day_label(wh.today)
    tiles = [
        Tile("Imports", count(len(imports)), "journal d'audit", f"jusqu'au {today}"),
        Tile("Lignes lues", count(summed["rows_read"]), "tous fichiers", f"jusqu'au {today}"),
        Tile(
            "En quarantaine",
            count(summed["quarantined"]),
            "lignes mises de côté",
            f"jusqu'au {today}",
        ),
        Tile(
            "Dossiers échus",
            count(expired(kept, wh.today)),
            "durée de conservation dépassée",
            f"au {today}",
        ),
    ]
    return Page(
        title=TITLE,
        tiles_html=render(tiles),
        sections=[
            Section("Imports", import_items),
            Section("Conservation des dossiers", [retention(kept, wh.today)]),
            Section("Sauvegardes", [Html(backup_panel(backups, zone))]),
        ],
    )

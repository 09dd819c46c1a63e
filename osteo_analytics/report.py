"""Terminal reports of the command line (rich tables), in French."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from osteo_analytics.formatting import count
from osteo_analytics.ingest import STEPS, ImportResult
from osteo_analytics.quarantine import rule_label
from osteo_analytics.synthetic import SynthSummary


@contextmanager
def import_progress(*, enabled: bool) -> Iterator[Callable[[int, str], None] | None]:
    """A progress bar over the import steps on a terminal (stderr); nothing otherwise."""
    if not enabled:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("import", total=len(STEPS))

        def advance(index: int, label: str) -> None:
            bar.update(task, completed=index, description=f"Import : {label}")

        yield advance
        bar.update(task, completed=len(STEPS))


def print_import(result: ImportResult, console: Console | None = None) -> None:
    """The per-file summary of an import: read = accepted + quarantined + duplicates + excluded."""
    console = console or Console()
    # No cell padding: eight columns then fit an 80-column terminal with every header whole.
    table = Table(title="Import", title_justify="left", padding=(0, 0))
    headers = (
        "fichier",
        "format",
        "lues",
        "acceptées",
        "dont conflits",
        "quarantaine",
        "doublons",
        "exclues",
    )
    for header in headers:
        table.add_column(header, justify="left" if header in ("fichier", "format") else "right")
    for f in result.files:
        table.add_row(
            f.path.name,
            f.format,
            str(f.rows_read),
            str(f.accepted),
            str(f.conflicts),
            str(f.quarantined),
            str(f.duplicates),
            str(f.excluded),
        )
    console.print(table)
    reasons: dict[str, int] = {}
    for f in result.files:
        for rule, n in f.reasons.items():
            reasons[rule] = reasons.get(rule, 0) + n
    for rule, n in sorted(reasons.items()):
        console.print(f"  {rule_label(rule)} : {n}")
    conflicts = sum(f.conflicts for f in result.files)
    if conflicts:
        console.print(
            f"  conflits : {conflicts} ligne(s) acceptée(s) remplacent une version enregistrée"
            " différente (même facture, patient ou consultation) ; la plus récente l'emporte"
        )
    if result.quarantine:
        console.print(f"Lignes refusées chiffrées dans quarantine/{result.quarantine}/")
    if result.changed:
        console.print(f"Nouvel instantané : {result.snapshot}")
    else:
        console.print(f"Rien de nouveau : l'instantané {result.snapshot} reste en vigueur.")


def describe_synth(summary: SynthSummary) -> str:
    """One paragraph about a generated practice, in French."""
    c = summary.consultations
    lines = [
        f"Cabinet fictif du {summary.start:%d/%m/%Y} au {summary.end:%d/%m/%Y} : "
        f"{count(summary.patients)} patients, {count(c['done'])} consultations "
        f"({count(c['cancelled'])} annulées, {count(c['no_show'])} absences), "
        f"{count(summary.invoices)} factures, {count(summary.payments)} règlements "
        f"en {summary.seconds:.1f} s.",
    ]
    for fmt, paths in summary.paths.items():
        lines.append(f"  {fmt}/ : {', '.join(sorted(p.name for p in paths))}")
    return "\n".join(lines)

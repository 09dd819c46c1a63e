"""Terminal reports of the command line (rich tables), in French."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from .ingest import ImportResult

RULE_LABELS = {
    "duplicate": "doublon dans l'import",
    "already_imported": "déjà importé",
    "not_null": "valeur obligatoire absente",
    "unique": "identifiant en double",
    "allowed_values": "valeur non autorisée",
}


def print_import(result: ImportResult, console: Console | None = None) -> None:
    """The per-file summary of an import: read = accepted + quarantined + duplicates + excluded."""
    console = console or Console()
    table = Table(title="Import", title_justify="left")
    for header in ("fichier", "format", "lues", "acceptées", "quarantaine", "doublons", "exclues"):
        table.add_column(header, justify="left" if header in ("fichier", "format") else "right")
    for f in result.files:
        table.add_row(
            f.path.name,
            f.format,
            str(f.rows_read),
            str(f.accepted),
            str(f.quarantined),
            str(f.duplicates),
            str(f.excluded),
        )
    console.print(table)
    reasons: dict[str, int] = {}
    for f in result.files:
        for rule, count in f.reasons.items():
            reasons[rule] = reasons.get(rule, 0) + count
    for rule, count in sorted(reasons.items()):
        console.print(f"  {RULE_LABELS.get(rule, rule)} : {count}")
    if result.quarantine:
        console.print(f"Lignes refusées chiffrées dans quarantine/{result.quarantine}/")
    if result.changed:
        console.print(f"Nouvel instantané : {result.snapshot}")
    else:
        console.print(f"Rien de nouveau : l'instantané {result.snapshot} reste en vigueur.")

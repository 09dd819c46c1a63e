"""`osteo audit`: the hash-chained audit log, checked end to end."""

from __future__ import annotations

import click

from osteo_analytics.cli.tools import Group, unlock


@click.group(cls=Group)
def audit() -> None:
    """Journal d'audit : qui a fait quoi, chaîné et vérifiable."""


@audit.command()
@click.pass_context
def verify(ctx: click.Context) -> None:
    """Vérifie la chaîne du journal d'audit ; signale la première ligne modifiée.

    Le point de contrôle enregistré dans l'instantané courant révèle aussi des lignes
    supprimées à la fin du journal.
    """
    from osteo_analytics import snapshots
    from osteo_analytics.audit import Checkpoint

    unlocked = unlock(ctx)
    checkpoint = None
    name = snapshots.current_snapshot(unlocked.workspace.snapshots_dir)
    if name is not None:
        manifest = snapshots.read_manifest(
            unlocked.workspace.snapshots_dir / name, unlocked.identities
        )
        recorded = manifest.extra.get("audit")
        if isinstance(recorded, dict):
            checkpoint = Checkpoint(int(recorded["count"]), str(recorded["mac"]))
    count = unlocked.audit().verify_or_raise(checkpoint)
    click.echo(f"Journal d'audit intact : {count} entrées.")

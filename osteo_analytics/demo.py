"""`osteo demo`: the main job on the embedded synthetic practice.

Generates a practice with `osteo synth`, creates an encrypted workspace, imports the
LibreOsteo exports, reads the snapshot back (decrypted in memory) and checks the figures
against the generator's ground truth. The dashboards are served from the same workspace
once they exist; until then the demo says so.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import duckdb

from . import snapshots
from .errors import ValidationError
from .formatting import euros
from .ingest import import_paths
from .report import describe_synth
from .synthetic import synthesize
from .workspace import Unlocked, Workspace, init_workspace

DEMO_SEED = 42
DEMO_YEARS = 3


def _headline_totals(unlocked: Unlocked) -> dict[str, object]:
    """A few headline totals computed from the decrypted snapshot, in memory."""
    tables = snapshots.read_snapshot(unlocked.workspace.snapshots_dir, unlocked.identities)
    con = duckdb.connect(":memory:")
    for name, table in tables.items():
        con.register(name, table)
    done, cancelled, no_show = con.execute(
        "SELECT count(*) FILTER (status = 'done'), count(*) FILTER (status = 'cancelled'),"
        " count(*) FILTER (status = 'no_show') FROM consultations"
    ).fetchall()[0]
    (invoiced,) = con.execute(
        "SELECT coalesce(sum(amount), 0) FROM invoices"
        " WHERE status NOT IN ('cancelled', 'credit_note')"
    ).fetchall()[0]
    (received,) = con.execute("SELECT coalesce(sum(amount), 0) FROM payments").fetchall()[0]
    con.close()
    return {
        "consultations_done": done,
        "consultations_cancelled": cancelled,
        "consultations_no_show": no_show,
        "revenue_invoiced": f"{Decimal(invoiced):.2f}",
        "revenue_received": f"{Decimal(received):.2f}",
    }


def run_demo(
    workspace_dir: Path | None, *, serve: bool, echo: Callable[[str], None] = print
) -> dict[str, object]:
    """Run the demo; returns the checked totals. Raises ValidationError on a mismatch."""
    scratch = Path(tempfile.mkdtemp(prefix="osteo-demo-"))
    keep_workspace = workspace_dir is not None
    root = workspace_dir or scratch / "workspace"
    # A throwaway workspace gets a random passphrase that never leaves this process.
    passphrase = os.environ.get("OSTEO_PASSPHRASE") or secrets.token_urlsafe(24)
    try:
        echo(f"1. Génération d'un cabinet fictif ({DEMO_YEARS} ans, graine {DEMO_SEED})…")
        practice = scratch / "practice"
        summary = synthesize(practice, seed=DEMO_SEED, years=DEMO_YEARS)
        echo("   " + describe_synth(summary).replace("\n", "\n   "))
        echo("2. Création de l'espace de travail chiffré…")
        if Workspace(root).exists():
            unlocked = Workspace(root).unlock(passphrase)
        else:
            unlocked = init_workspace(root, passphrase).unlocked
        echo(f"   {root}")
        echo("3. Import des exports LibreOsteo (contrats, pseudonymisation, chiffrement)…")
        result = import_paths(unlocked, [practice / "libreosteo"])
        for f in result.files:
            echo(
                f"   {f.path.name:<20} lues {f.rows_read:>6}  acceptées {f.accepted:>6}"
                f"  quarantaine {f.quarantined:>4}  doublons {f.duplicates:>6}"
            )
        echo(f"   instantané {result.snapshot}")
        echo("4. Vérification : instantané déchiffré en mémoire, comparé à la vérité terrain…")
        truth = json.loads((practice / "libreosteo" / "ground_truth.json").read_text())["totals"]
        found = _headline_totals(unlocked)
        mismatches = [k for k, v in found.items() if str(truth[k]) != str(v)]
        for key, value in found.items():
            shown = euros(str(value)) if key.startswith("revenue") else str(value)
            echo(f"   {key:<24} {shown:>16}   {'ok' if key not in mismatches else 'ÉCART'}")
        if mismatches:
            raise ValidationError(
                f"la démo ne retrouve pas la vérité terrain pour : {', '.join(mismatches)}"
            )
        audit = unlocked.audit().verify()
        echo(f"   journal d'audit intact ({audit.count} entrées)")
        if serve:
            echo(
                "5. Tableaux de bord : pas encore disponibles dans cette version "
                "(les étapes 1 à 4 sont celles qui existent)."
            )
        return found
    finally:
        shutil.rmtree(scratch / "practice", ignore_errors=True)
        if not keep_workspace:
            shutil.rmtree(scratch, ignore_errors=True)

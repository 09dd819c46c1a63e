"""`osteo demo`: the main job on the embedded synthetic practice.

Generates a practice with `osteo synth`, creates an encrypted workspace, imports the
LibreOsteo exports, reads the snapshot back (decrypted in memory) and checks the figures
against the generator's ground truth, then serves the dashboards from the same workspace
(`osteo serve`) until Ctrl-C.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

from osteo_analytics.errors import ValidationError
from osteo_analytics.formatting import count, euros
from osteo_analytics.ingest import import_paths
from osteo_analytics.metrics import headline
from osteo_analytics.report import describe_synth
from osteo_analytics.serve import DEFAULT_PORT, free_port_from
from osteo_analytics.serve import serve as serve_dashboards
from osteo_analytics.synthetic import synthesize
from osteo_analytics.warehouse import open_warehouse
from osteo_analytics.workspace import Workspace, init_workspace

DEMO_SEED = 42
DEMO_YEARS = 3
CHECKED = {
    "consultations_done": "consultations",
    "consultations_cancelled": "annulations",
    "consultations_no_show": "absences",
    "new_patients": "nouveaux patients",
    "revenue_invoiced": "facturé",
    "revenue_received": "encaissé",
    "unpaid_amount": "impayés",
}


def run_demo(
    workspace_dir: Path | None,
    *,
    serve: bool,
    echo: Callable[[str], None] = print,
    port: int = DEFAULT_PORT,
    open_browser: bool = False,
) -> dict[str, object]:
    """Run the demo; returns the checked totals. Raises ValidationError on a mismatch.

    With `serve`, the dashboards are served (on `port`, or the next free one) until Ctrl-C
    or SIGTERM, and opened in the browser when `open_browser`.
    """
    scratch = Path(tempfile.mkdtemp(prefix="osteo-demo-"))
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
        echo("4. Chiffres clés (entrepôt DuckDB en mémoire) comparés à la vérité terrain…")
        truth = json.loads((practice / "libreosteo" / "ground_truth.json").read_text())
        with open_warehouse(unlocked) as wh:
            found = headline(wh, date.fromisoformat(truth["from"]), date.fromisoformat(truth["to"]))
        months_ok = sum(a == b for a, b in zip(found["months"], truth["months"], strict=False))
        echo(f"   mois identiques : {months_ok}/{len(truth['months'])}")
        for key, label in CHECKED.items():
            value, expected = found["totals"][key], truth["totals"][key]
            shown = euros(value) if isinstance(value, str) else count(value)
            echo(f"   {label:<28} {shown:>16}   {'ok' if value == expected else 'ÉCART'}")
        if found != truth:
            raise ValidationError("la démo ne retrouve pas la vérité terrain du générateur")
        audit = unlocked.audit().verify()
        echo(f"   journal d'audit intact ({audit.count} entrées)")
        if serve:
            echo("5. Tableaux de bord (recettes, activité, qualité) sur 127.0.0.1…")
            serve_dashboards(
                unlocked, port=free_port_from(port), echo=echo, open_browser=open_browser
            )
        return dict(found["totals"])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

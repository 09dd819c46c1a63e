"""kill -9 an import at random moments: the previous snapshot stays current and intact.

Invariant 2 (writes are atomic) and invariant 1 (no plaintext, even half-written).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from osteo_analytics import snapshots, workspace
from osteo_analytics.ingest import import_paths
from osteo_analytics.synthetic import synthesize
from tests.conftest import PASSPHRASE, ROOT

TRIALS = 20
# Files of a workspace that are not age files, and what they may hold.
PLAIN_FILES = {"CURRENT", "recipients.txt", "config.toml", "audit.log"}


def _start_import(ws: Path, export: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSTEO_")}
    env.update({"OSTEO_WORKSPACE": str(ws), "OSTEO_PASSPHRASE": PASSPHRASE})
    return subprocess.Popen(
        [sys.executable, "-m", "osteo_analytics.cli", "import", str(export)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _family_names(export: Path) -> list[bytes]:
    import csv

    with (export / "patients.csv").open(newline="", encoding="utf-8") as f:
        names = {row["family_name"] for row in csv.DictReader(f)}
    return sorted(n.encode() for n in names if len(n) >= 6)[:50]


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory, libreosteo_sample: Path) -> dict:
    base = tmp_path_factory.mktemp("crash")
    export = base / "practice"
    synthesize(export, seed=7, years=1, patients=150, formats=("libreosteo",))
    ws = base / "ws"
    # A cheap scrypt work factor: the trials measure crash safety, not key stretching.
    unlocked = workspace.init_workspace(ws, PASSPHRASE, work_factor=10).unlocked
    first = import_paths(unlocked, [libreosteo_sample]).snapshot
    workspace.forget_unlocked()
    # How long a whole import of the synthetic export takes, to aim the kills inside it.
    probe = base / "probe"
    import shutil

    shutil.copytree(ws, probe)
    started = time.monotonic()
    assert _start_import(probe, export / "libreosteo").wait(timeout=300) == 0
    duration = time.monotonic() - started
    return {
        "ws": ws,
        "export": export / "libreosteo",
        "first": first,
        "duration": duration,
        "names": _family_names(export / "libreosteo"),
    }


def _assert_consistent(ws: Path, first: str, names: list[bytes]) -> str:
    unlocked = workspace.Workspace(ws).unlock(PASSPHRASE)
    current = snapshots.current_snapshot(ws / "snapshots")
    assert current is not None
    # The previous snapshot is always intact, whatever became current.
    tables = snapshots.read_snapshot(ws / "snapshots", unlocked.identities, name=first)
    assert tables["consultations"].num_rows == 250
    snapshots.read_snapshot(ws / "snapshots", unlocked.identities)
    for path in ws.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.name in PLAIN_FILES or path.name.startswith(".CURRENT."):
            assert not any(name in data for name in names), path
        else:
            assert data.startswith(b"age-encryption.org/v1\n"), path
    return current


def test_kill_9_during_imports_never_breaks_the_workspace(setting: dict) -> None:
    rng = random.Random(20261129)
    outcomes = {"previous": 0, "new": 0}
    for _ in range(TRIALS):
        process = _start_import(setting["ws"], setting["export"])
        time.sleep(rng.uniform(0.05, setting["duration"] * 1.1))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        current = _assert_consistent(setting["ws"], setting["first"], setting["names"])
        workspace.forget_unlocked()
        outcomes["previous" if current == setting["first"] else "new"] += 1
        if current != setting["first"]:
            # Start each trial again from the first snapshot, so later kills still matter.
            snapshots.set_current(setting["ws"] / "snapshots", setting["first"])
    print(f"kill -9 outcomes over {TRIALS} trials: {outcomes}")
    assert sum(outcomes.values()) == TRIALS

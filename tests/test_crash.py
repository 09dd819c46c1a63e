"""kill -9 an import at random moments: the previous snapshot stays current and intact.

Invariant 2 (writes are atomic) and invariant 1 (no plaintext, even half-written).
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from osteo_analytics import snapshots, workspace
from tests.conftest import PASSPHRASE, start_osteo

TRIALS = 20
# Files of a workspace that are not age files, and what they may hold.
PLAIN_FILES = {"CURRENT", "recipients.txt", "config.toml", "audit.log"}


def _start_import(ws: Path, export: Path) -> subprocess.Popen[bytes]:
    return start_osteo("import", str(export), workspace=ws, env={"OSTEO_PASSPHRASE": PASSPHRASE})


def _family_names(export: Path) -> list[bytes]:
    import csv

    with (export / "patients.csv").open(newline="", encoding="utf-8") as f:
        names = {row["family_name"] for row in csv.DictReader(f)}
    return sorted(n.encode() for n in names if len(n) >= 6)[:50]


@pytest.fixture(scope="module")
def setting(
    tmp_path_factory: pytest.TempPathFactory, sample_workspace: Path, practice: Path
) -> dict:
    """The sample's workspace (cheap scrypt: the trials measure crash safety, not key
    stretching), and the shared synthetic practice's export to import into it."""
    base = tmp_path_factory.mktemp("crash")
    export = practice / "libreosteo"
    ws = base / "ws"
    shutil.copytree(sample_workspace, ws)
    first = snapshots.current_snapshot(ws / "snapshots")
    # How long a whole import of the synthetic export takes, to aim the kills inside it.
    probe = base / "probe"
    shutil.copytree(ws, probe)
    started = time.monotonic()
    assert _start_import(probe, export).wait(timeout=300) == 0
    duration = time.monotonic() - started
    return {
        "ws": ws,
        "export": export,
        "first": first,
        "duration": duration,
        "names": _family_names(export),
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

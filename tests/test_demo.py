"""`osteo demo`, the README's main job, end to end through the real command line."""

from __future__ import annotations

import signal
import subprocess
import urllib.request
from pathlib import Path

from osteo_analytics import snapshots
from tests.conftest import OSTEO, PASSPHRASE, ROOT, free_port, osteo, osteo_env


def test_demo_generates_imports_and_checks_the_practice(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    result = osteo("demo", "--no-serve", workspace=ws, env={"OSTEO_PASSPHRASE": PASSPHRASE})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for step in ("1. ", "2. ", "3. ", "4. "):
        assert step in out
    assert "mois identiques : 36/36" in out
    checks = [line for line in out.splitlines() if line.rstrip().endswith((" ok", "ÉCART"))]
    assert len(checks) == 7 and all(line.rstrip().endswith(" ok") for line in checks)
    assert "€" in out and "journal d'audit intact" in out
    # The workspace given with --workspace is kept, encrypted, with one current snapshot.
    assert snapshots.current_snapshot(ws / "snapshots") is not None
    assert all(p.read_bytes().startswith(b"age-encryption.org/v1") for p in ws.rglob("*.age"))


def test_the_throwaway_demo_workspace_is_removed(tmp_path: Path) -> None:
    env = {"TMPDIR": str(tmp_path)}
    result = osteo("demo", "--no-serve", env=env)
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_demo_serves_the_dashboards_until_ctrl_c(tmp_path: Path) -> None:
    """`make demo`'s command: checks, then the three apps served; Ctrl-C leaves nothing."""
    env = osteo_env(None, {"TMPDIR": str(tmp_path)})
    process = subprocess.Popen(
        [*OSTEO, "demo", "--port", str(free_port()), "--no-open"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("Tableaux de bord prêts : "):
            break
    url = lines[-1].split(" : ", 1)[1].strip()
    assert url.startswith("http://127.0.0.1:") and "?token=" in url
    with urllib.request.urlopen(url, timeout=60) as response:
        landing = response.read().decode()
    assert all(title in landing for title in ("Recettes", "Activité", "Qualité"))
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "mois identiques : 36/36" in "".join(lines)
    assert list(tmp_path.iterdir()) == []

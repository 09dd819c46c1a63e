"""`osteo demo`, the README's main job, end to end through the real command line."""

from __future__ import annotations

from pathlib import Path

from osteo_analytics import snapshots
from tests.conftest import PASSPHRASE, osteo


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

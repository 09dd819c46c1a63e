"""`osteo backup` with the real restic: add, run, status, verify, restore, and the faults.

Faults of issue 12, each with the real restic binary: a destination unplugged, a pack
corrupted in one repository, `osteo` killed with -9 mid-backup, a destination out of
space (a small tmpfs when the machine lets root mount one, and restic's writes stopped
at a file size limit: both run where they can).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from osteo_analytics import backup
from osteo_analytics.dashboards import quality
from osteo_analytics.errors import InputError, UsageError
from osteo_analytics.workspace import Unlocked
from tests.conftest import (
    OSTEO,
    PASSPHRASE,
    ROOT,
    copy_workspace,
    digests,
    osteo,
    osteo_env,
    osteo_on_terminal,
    start_osteo,
)

ENV = {"OSTEO_PASSPHRASE": PASSPHRASE}


def osteo_backup(*args: str, ws: Path) -> subprocess.CompletedProcess[str]:
    return osteo("backup", *args, workspace=ws, env=ENV)


def restic_snapshots(unlocked: Unlocked, destination: Path) -> list[dict[str, object]]:
    """The snapshots of the repository under `destination`, read by restic itself."""
    (repository,) = destination.glob("osteo-analytics-*/restic")
    result = subprocess.run(
        ["restic", "-r", str(repository), "--no-cache", "snapshots", "--json"],
        input=unlocked.secrets.restic_password,  # restic reads it from stdin off a terminal
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "HOME": str(destination)},
        check=True,
    )
    return list(json.loads(result.stdout.splitlines()[-1]))  # after "reading ... from stdin"


def status_json(ws: Path) -> dict[str, dict[str, object]]:
    result = osteo_backup("status", "--format", "json", ws=ws)
    assert result.returncode == 0, result.stderr
    return {entry["name"]: entry for entry in json.loads(result.stdout)}


@pytest.fixture
def practice_ws(tmp_path: Path, sample_workspace: Path) -> Unlocked:
    return copy_workspace(sample_workspace, tmp_path / "ws")


@pytest.fixture
def two(practice_ws: Unlocked, tmp_path: Path) -> tuple[Unlocked, Path, Path]:
    """The sample practice with two destinations added: `disque` and `nas`."""
    disk, nas = tmp_path / "disque", tmp_path / "nas"
    disk.mkdir()
    nas.mkdir()
    backup.add(practice_ws, "disque", disk)
    backup.add(practice_ws, "nas", nas)
    return practice_ws, disk, nas


def test_add_run_status_verify_restore(practice_ws: Unlocked, tmp_path: Path) -> None:
    ws = practice_ws.workspace.root
    disk, nas = tmp_path / "disque", tmp_path / "nas"
    disk.mkdir()
    nas.mkdir()
    refused = osteo_backup("add", "ici", str(ws / "archive"), ws=ws)
    assert refused.returncode == 2 and "dans l'espace de travail" in refused.stderr
    with pytest.raises(UsageError, match="n'est pas un dossier"):
        backup.add(practice_ws, "usb", tmp_path / "débranché")
    with pytest.raises(UsageError, match="nom de destination invalide"):
        backup.add(practice_ws, "--from", tmp_path)
    for name, folder in (("disque", disk), ("nas", nas)):
        added = osteo_backup("add", name, str(folder), ws=ws)
        assert added.returncode == 0, added.stderr
    with pytest.raises(UsageError, match="« disque » existe déjà"):
        backup.add(practice_ws, "disque", tmp_path)
    with pytest.raises(UsageError, match="déjà la destination « nas »"):
        backup.add(practice_ws, "autre", nas)

    ran = osteo_backup("run", ws=ws)
    assert ran.returncode == 0, ran.stderr
    assert "« disque » : sauvegarde" in ran.stdout and "« nas » : sauvegarde" in ran.stdout
    assert "Sauvegarde vers" not in ran.stdout + ran.stderr  # progress: terminals only
    recovery = (ws / "keys/identity.recovery.age").read_bytes()
    for folder in (disk, nas):
        (snap,) = restic_snapshots(practice_ws, folder)
        assert snap["tags"] == ["osteo-analytics"] and snap["hostname"] == "osteo-analytics"
        (root,) = folder.glob("osteo-analytics-*")
        assert (root / "identity.recovery.age").read_bytes() == recovery
    status = status_json(ws)
    assert list(status) == ["disque", "nas"]
    for entry in status.values():
        assert entry["ok"] is True and entry["warnings"] == [] and entry["last_check"] is None
        assert isinstance(entry["age_seconds"], int) and 0 <= entry["age_seconds"] < 600

    target = tmp_path / "restauré"
    restored = osteo_backup("restore", "--to", str(target), ws=ws)
    assert restored.returncode == 0, restored.stderr
    assert "« disque »" in restored.stdout and "contrôlé (777 ligne(s))" in restored.stdout
    assert digests(target / "snapshots") == digests(ws / "snapshots")
    assert digests(target / "keys") == digests(ws / "keys")
    assert not (target / backup.RESTIC_TMP).exists()
    again = osteo_backup("restore", "--to", str(target), ws=ws)
    assert again.returncode == 2 and "n'est pas un dossier vide" in again.stderr

    # The restored snapshot is checked against its manifest: a file altered in the
    # workspace before a backup is caught after the restore, on every destination.
    current = (ws / "snapshots/CURRENT").read_text().strip()
    victim = ws / "snapshots" / current / "patients.parquet.age"
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 1
    victim.write_bytes(bytes(data))
    assert all(o.error is None for o in backup.run(practice_ws))
    bad = osteo_backup("restore", "--to", str(tmp_path / "bis"), "--from", "nas", ws=ws)
    assert bad.returncode == 1 and "patients.parquet.age" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr

    password = practice_ws.secrets.restic_password
    for text in (ran.stdout, ran.stderr, (ws / "audit.log").read_text()):
        assert password not in text
    assert password not in (ws / backup.STATE).read_text()
    actions = [json.loads(line) for line in (ws / "audit.log").read_text().splitlines()]
    runs = [a for a in actions if a["action"] == "backup.run"]
    assert runs[0]["counts"]["destinations"] == 2 and runs[0]["counts"]["failed"] == 0
    assert [a["action"] for a in actions].count("backup.add") == 2


def _write_config(ws: Path, line: str) -> None:
    (ws / "config.toml").write_text(line + "\n", encoding="utf-8")


def test_retention_follows_the_setting_and_progress_shows_on_a_terminal(
    practice_ws: Unlocked, tmp_path: Path
) -> None:
    ws = practice_ws.workspace.root
    disk = tmp_path / "disque"
    disk.mkdir()
    backup.add(practice_ws, "disque", disk)
    backup.run(practice_ws)
    backup.run(practice_ws)
    # The default (7 daily, 5 weekly...): one snapshot a day is kept.
    assert len(restic_snapshots(practice_ws, disk)) == 1
    _write_config(ws, "backup_keep = { last = 3, daily = 7 }")
    code, screen = osteo_on_terminal("backup", "run", workspace=ws, env=ENV)
    assert code == 0, screen
    assert "Sauvegarde vers « disque »…" in screen
    assert len(restic_snapshots(practice_ws, disk)) == 2

    _write_config(ws, "backup_keep = { hourly = 3 }")
    refused = osteo_backup("run", ws=ws)
    assert refused.returncode == 2 and "backup_keep" in refused.stderr
    assert "hourly" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    _write_config(ws, "backup_keep = { daily = 0 }")
    with pytest.raises(InputError, match="au moins un non nul"):
        backup.keep_policy(practice_ws.workspace)

    # A second copy of this workspace (same keys) adopts the repository it finds.
    other = copy_workspace(ws, tmp_path / "copie")
    (other.workspace.root / backup.STATE).unlink()
    backup.add(other, "disque", disk)
    assert len(restic_snapshots(practice_ws, disk)) == 2


def test_an_unreachable_destination_fails_alone(
    two: tuple[Unlocked, Path, Path], tmp_path: Path
) -> None:
    unlocked, disk, nas = two
    ws = unlocked.workspace.root
    nas.rename(tmp_path / "nas-débranché")
    ran = osteo_backup("run", ws=ws)
    assert ran.returncode == 1
    (line,) = ran.stderr.strip().splitlines()
    assert line.startswith("Erreur : destination « nas » injoignable")
    assert "« disque » : sauvegarde" in ran.stdout
    assert len(restic_snapshots(unlocked, disk)) == 1
    status = status_json(ws)
    assert status["disque"]["ok"] is True
    assert status["nas"]["ok"] is False
    assert "injoignable" in status["nas"]["warnings"]  # type: ignore[operator]
    assert "dernière sauvegarde en échec" in status["nas"]["warnings"]  # type: ignore[operator]
    (tmp_path / "nas-débranché").rename(nas)
    assert osteo_backup("run", ws=ws).returncode == 0
    assert status_json(ws)["nas"]["ok"] is True


def _corrupt_largest_pack(destination: Path) -> None:
    packs = sorted(destination.glob("osteo-analytics-*/restic/data/*/*"), key=os.path.getsize)
    pack = packs[-1]
    pack.chmod(0o600)  # restic writes packs read-only
    data = bytearray(pack.read_bytes())
    data[len(data) // 2] ^= 0x40
    pack.write_bytes(bytes(data))


def test_a_corrupted_pack_is_found_by_verify_and_the_other_copy_restores(
    two: tuple[Unlocked, Path, Path], tmp_path: Path
) -> None:
    unlocked, disk, _ = two
    ws = unlocked.workspace.root
    assert all(o.error is None for o in backup.run(unlocked))
    _corrupt_largest_pack(disk)
    deep = osteo_backup("verify", "--deep", ws=ws)
    assert deep.returncode == 1
    (line,) = deep.stderr.strip().splitlines()
    assert "« disque »" in line and "endommagé" in line and "« nas »" not in line
    assert "« nas » : vérification complète réussie" in deep.stdout
    status = status_json(ws)
    assert status["disque"]["warnings"] == ["dernière vérification en échec"]
    assert status["nas"]["ok"] is True

    # Without --from the damaged copy is tried first, fails, and the other one restores.
    restored = osteo_backup("restore", "--to", str(tmp_path / "r"), ws=ws)
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.startswith("Restauré depuis « nas »"), restored.stdout
    assert digests(tmp_path / "r" / "snapshots") == digests(ws / "snapshots")
    unknown = osteo_backup("restore", "--to", str(tmp_path / "x"), "--from", "cloud", ws=ws)
    assert unknown.returncode == 2 and "destination inconnue" in unknown.stderr


def _children(pid: int, name: bytes) -> Iterator[int]:
    """Processes whose parent is `pid` and whose program is `name`."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            status = (proc / "status").read_bytes()
        except OSError:
            continue
        fields = dict(line.split(b":\t", 1) for line in status.splitlines() if b":\t" in line)
        if (
            fields.get(b"Name", b"").strip() == name
            and fields.get(b"PPid", b"").strip() == str(pid).encode()
        ):
            yield int(proc.name)


def test_kill_9_mid_backup_leaves_both_repositories_sound_and_no_secret_in_proc(
    two: tuple[Unlocked, Path, Path],
) -> None:
    unlocked, disk, nas = two
    ws = unlocked.workspace.root
    # Enough bytes for the backup to last: restic writes several packs of it.
    (ws / "archive" / "big.bin").write_bytes(os.urandom(32 * 1024 * 1024))
    data = next(disk.glob("osteo-analytics-*/restic/data"))
    packs_before = set(data.rglob("*"))
    process = start_osteo("backup", "run", workspace=ws, env=ENV)
    password = unlocked.secrets.restic_password.encode()
    sampled = 0
    restic: list[int] = []
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and process.poll() is None:
            for pid in _children(process.pid, b"restic"):
                try:
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                    environ = Path(f"/proc/{pid}/environ").read_bytes()
                except OSError:
                    continue
                assert password not in cmdline and password not in environ
                assert PASSPHRASE.encode() not in cmdline + environ
                assert b"RESTIC_PASSWORD_FILE=/dev/fd/" in environ
                sampled += 1
                if b"backup" in cmdline.split(b"\0"):
                    restic.append(pid)
            if restic and set(data.rglob("*")) - packs_before:
                break  # restic is writing packs to the first destination
            time.sleep(0.01)
        assert restic and process.poll() is None, "the backup ended before it could be killed"
        process.kill()
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert sampled > 0
    gone = time.monotonic() + 10
    while Path(f"/proc/{restic[-1]}").exists() and time.monotonic() < gone:
        time.sleep(0.05)
    assert not Path(f"/proc/{restic[-1]}").exists(), "restic outlived osteo"

    checked = osteo_backup("verify", ws=ws)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.count("vérification de structure réussie") == 2
    assert all(e["last_check"] is not None for e in status_json(ws).values())
    ran = osteo_backup("run", ws=ws)
    assert ran.returncode == 0, ran.stderr
    assert len(restic_snapshots(unlocked, disk)) == 1 and len(restic_snapshots(unlocked, nas)) == 1
    assert all(e["ok"] for e in status_json(ws).values())


def _limit_file_size() -> None:
    limit = 2 * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.parametrize("full", ["tmpfs", "file-size-limit"])
def test_a_full_destination_is_one_clear_line(
    full: str, practice_ws: Unlocked, tmp_path: Path
) -> None:
    ws = practice_ws.workspace.root
    (ws / "archive" / "big.bin").write_bytes(os.urandom(6 * 1024 * 1024))
    usb = tmp_path / "usb"
    usb.mkdir()
    mounted = False
    if full == "tmpfs":
        mount = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(usb)], capture_output=True
        )
        if mount.returncode != 0:
            pytest.skip("this machine does not let the tests mount a small tmpfs")
        mounted = True
    try:
        backup.add(practice_ws, "usb", usb)
        result = subprocess.run(
            [*OSTEO, "backup", "run"],
            capture_output=True,
            text=True,
            env=osteo_env(ws, ENV),
            cwd=ROOT,
            timeout=120,
            preexec_fn=_limit_file_size if full == "file-size-limit" else None,
        )
    finally:
        if mounted:
            subprocess.run(["umount", str(usb)], check=True)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Erreur : sauvegarde sur « usb » : support plein"), line
    assert "libérez de la place" in line
    assert status_json(ws)["usb"]["ok"] is False


def test_status_warns_from_what_the_runs_recorded_and_feeds_the_dashboard(
    tmp_path: Path, blank_workspace: Path
) -> None:
    unlocked = copy_workspace(blank_workspace, tmp_path / "ws")
    ws = unlocked.workspace.root
    now = datetime.now(UTC).replace(microsecond=0)

    def stamp(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    roots = {}
    for name in ("ancien", "récent"):
        roots[name] = tmp_path / name / "osteo-analytics-0"
        (roots[name] / "restic").mkdir(parents=True)
        (roots[name] / "restic" / "config").write_bytes(b"")
    state = {
        "version": 1,
        "destinations": [
            {"name": "ancien", "root": str(roots["ancien"]),
             "last_backup": stamp(now - timedelta(days=8))},
            {"name": "récent", "root": str(roots["récent"]),
             "last_backup": stamp(now - timedelta(hours=1)), "last_check": stamp(now)},
            {"name": "<neuf>", "root": str(tmp_path / "débranché")},
        ],
    }  # fmt: skip
    (ws / backup.STATE).write_text(json.dumps(state), encoding="utf-8")
    status = status_json(ws)
    assert status["ancien"]["warnings"] == ["dernière sauvegarde il y a plus de 7 jours"]
    assert status["récent"]["ok"] is True and 3500 < status["récent"]["age_seconds"] < 4000  # type: ignore[operator]
    assert status["<neuf>"]["warnings"] == ["jamais sauvegardée", "injoignable"]
    table = osteo_backup("status", ws=ws)
    assert table.returncode == 0 and "attention : jamais sauvegardée" in table.stdout
    assert "il y a 8 jours" in table.stdout and "il y a 1 h" in table.stdout

    # The dashboard reads the same record, without probing the media (no restic, no stat).
    panel = quality.backup_panel(backup.statuses(unlocked, now=now))
    assert "à vérifier : dernière sauvegarde il y a plus de 7 jours" in panel
    assert "il y a 8 jours" in panel and "à jour" in panel and "injoignable" not in panel
    assert "&lt;neuf&gt;" in panel and "à vérifier : jamais sauvegardée" in panel

    _write_config(ws, "backup_max_age_days = 10")
    assert status_json(ws)["ancien"]["ok"] is True

"""Workspace: init, unlock once, passphrase change, recovery, rotation, crash repair."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from osteo_analytics import keys, snapshots, vault, workspace
from osteo_analytics.errors import DecryptionError, Hint, WeakPassphraseError, WorkspaceError
from tests.test_snapshots import small_tables

PASSPHRASE = "cheval agrafe batterie correcte"
NEW_PASSPHRASE = "tilleul marée granit orange"
FAST = 10  # scrypt work factor for tests that are not about scrypt's cost


@pytest.fixture(autouse=True)
def _fresh_process_cache() -> None:
    workspace.forget_unlocked()


def make(root: Path) -> workspace.InitResult:
    return workspace.init_workspace(root, PASSPHRASE, work_factor=FAST)


def test_init_lays_out_the_workspace_with_private_permissions(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    result = make(root)
    for name in ("keys", "snapshots", "quarantine", "archive"):
        assert (root / name).is_dir()
        assert (root / name).stat().st_mode & 0o077 == 0
    for name in (workspace.IDENTITY, workspace.RECOVERY):
        data = (root / name).read_bytes()
        assert data.startswith(b"age-encryption.org/v1\n-> scrypt ")
        assert (root / name).stat().st_mode & 0o077 == 0
    assert (root / workspace.RECIPIENTS).read_text().splitlines()[
        1
    ] == result.unlocked.secrets.recipient
    assert (root / "config.toml").exists() and (root / "audit.log").exists()
    # The recovery code opens the recovery file, the passphrase the main one.
    assert vault.decrypt_with_passphrase(
        (root / workspace.RECOVERY).read_bytes(),
        keys.normalize_recovery_code(result.recovery_code),
    ) == vault.decrypt_with_passphrase((root / workspace.IDENTITY).read_bytes(), PASSPHRASE)


def test_init_refuses_an_existing_workspace_or_a_non_empty_folder(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    make(root)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    with pytest.raises(WorkspaceError, match="déjà un espace de travail"):
        make(root)
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("x")
    with pytest.raises(WorkspaceError, match="n'est pas vide"):
        make(other)


def test_init_refuses_a_weak_passphrase_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(WeakPassphraseError):
        workspace.init_workspace(tmp_path / "ws", "azerty123", work_factor=FAST)
    assert not (tmp_path / "ws").exists()


def test_unlock_happens_once_per_process(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    make(root)
    workspace.forget_unlocked()
    ws = workspace.Workspace(root)
    first = ws.unlock(PASSPHRASE)
    # Once unlocked, the key file is not read again in this process.
    os.chmod(root / workspace.IDENTITY, 0)
    try:
        assert ws.unlock(PASSPHRASE).secrets is first.secrets
    finally:
        os.chmod(root / workspace.IDENTITY, 0o600)


def test_wrong_passphrase_is_a_clear_error(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    make(root)
    workspace.forget_unlocked()
    with pytest.raises(DecryptionError, match="phrase de passe incorrecte") as info:
        workspace.Workspace(root).unlock("pas la bonne phrase du tout")
    assert "pas la bonne" not in str(info.value)


def test_passwd_then_recover(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    result = make(root)
    ws = workspace.Workspace(root)
    workspace.change_passphrase(ws, PASSPHRASE, NEW_PASSPHRASE, work_factor=FAST)
    workspace.forget_unlocked()
    with pytest.raises(DecryptionError):
        ws.unlock(PASSPHRASE)
    assert ws.unlock(NEW_PASSPHRASE).secrets == result.unlocked.secrets
    workspace.forget_unlocked()
    with pytest.raises(DecryptionError, match="code de secours incorrect"):
        workspace.recover(ws, keys.recovery_code(), PASSPHRASE, work_factor=FAST)
    code = result.recovery_code.lower().replace("-", " ")  # as typed from paper
    workspace.recover(ws, code, PASSPHRASE, work_factor=FAST)
    workspace.forget_unlocked()
    assert ws.unlock(PASSPHRASE).secrets == result.unlocked.secrets
    assert ws.unlock(PASSPHRASE).audit().verify().ok


def test_rotation_reencrypts_every_snapshot_and_keeps_pseudonyms(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    result = make(root)
    old = result.unlocked
    ws = old.workspace
    names = [
        snapshots.write_snapshot(ws.snapshots_dir, small_tables(), old.recipients())
        for _ in range(2)
    ]
    quarantined = ws.quarantine_dir / "20261129T000000Z" / "rows.parquet.age"
    quarantined.parent.mkdir()
    quarantined.write_bytes(vault.encrypt(b"rejected rows", old.recipients()))
    before = snapshots.read_snapshot(ws.snapshots_dir, old.identities)

    new, code = workspace.rotate(ws, PASSPHRASE, work_factor=FAST)

    assert new.secrets.identity != old.secrets.identity
    assert new.pseudonym_key() == old.pseudonym_key()  # pseudonyms unchanged
    assert new.secrets.retired_identities == ()
    assert ws.recipients() == [new.secrets.recipient]
    for name in names:
        with pytest.raises(DecryptionError):
            snapshots.read_snapshot(ws.snapshots_dir, [old.secrets.identity], name=name)
        tables = snapshots.read_snapshot(ws.snapshots_dir, new.identities, name=name)
        assert all(tables[d].equals(before[d]) for d in before)
    assert vault.decrypt(quarantined.read_bytes(), new.identities) == b"rejected rows"
    assert not [p for p in ws.root.rglob(".*") if p.name.startswith((".rot-", ".old-", ".tmp-"))]
    workspace.forget_unlocked()
    with pytest.raises(DecryptionError):  # the old recovery code opens nothing now
        ws.unlock_with_recovery_code(result.recovery_code)
    assert ws.unlock_with_recovery_code(code) == new.secrets
    assert ws.unlock(PASSPHRASE).audit().verify().ok


def test_a_rotation_interrupted_mid_swap_is_repaired_on_unlock(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    unlocked = make(root).unlocked
    ws = unlocked.workspace
    name = snapshots.write_snapshot(ws.snapshots_dir, small_tables(), unlocked.recipients())
    # The state a crash between the two renames of a folder swap leaves behind.
    os.rename(ws.snapshots_dir / name, ws.snapshots_dir / f".old-{name}-abcd1234")
    (ws.snapshots_dir / f".rot-{name}-abcd1234").mkdir()
    workspace.forget_unlocked()
    again = ws.unlock(PASSPHRASE)
    assert snapshots.list_snapshots(ws.snapshots_dir) == [name]
    assert not [p for p in ws.snapshots_dir.iterdir() if p.name.startswith(".")]
    assert snapshots.read_snapshot(ws.snapshots_dir, again.identities)["patients"].num_rows == 2


def test_commands_refuse_a_missing_workspace(tmp_path: Path) -> None:
    # What went wrong; the advice (`osteo init`) is the command line's, from the hint.
    with pytest.raises(WorkspaceError, match="aucun espace de travail") as caught:
        workspace.Workspace(tmp_path / "nothing").unlock(PASSPHRASE)
    assert caught.value.hint is Hint.CREATE_WORKSPACE

"""The workspace on disk: keys, snapshots, quarantine, archive, audit log, settings.

```
keys/identity.age            age scrypt (passphrase): the workspace secrets
keys/identity.recovery.age   the same secrets, age scrypt under the recovery code
keys/recipients.txt          age recipient(s) every data file is encrypted to
snapshots/  quarantine/  imports/  archive/  audit.log  config.toml
```

The secrets are decrypted once per process (scrypt costs about a second on purpose) and
kept in memory only. Every key file is replaced atomically, and rotation writes the whole
new generation of files before the first one replaces an old one.
"""

from __future__ import annotations

import os
import secrets as _random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from osteo_analytics import keys, snapshots, vault
from osteo_analytics.atomic import atomic_write, fsync_dir, make_private_dir
from osteo_analytics.audit import AuditLog, audit_key
from osteo_analytics.errors import DecryptionError, Hint, WorkspaceError
from osteo_analytics.pseudonymize.primitives import derive_key

IDENTITY = "keys/identity.age"
RECOVERY = "keys/identity.recovery.age"
RECIPIENTS = "keys/recipients.txt"
# "accountant" in an accountant's workspace (`osteo keys new`); absent in a practice's.
ROLE = "keys/role"
ROLES = ("practitioner", "accountant")
FOLDERS = ("keys", "snapshots", "quarantine", "archive")
IMPORTS = "imports"  # per-file import reports (import_reports.py), made by the first import
PRACTICE_DOMAIN = "practice"

CONFIG_TEMPLATE = """\
# osteo-analytics workspace settings (no secrets here). Uncomment to change a default;
# `osteo --help` and the README list every setting.
# timezone = "Europe/Paris"
# memory_limit = "4GB"
# retention_years = 20
"""

# Unlocked secrets of this process, by workspace folder: unlock once, never written.
_UNLOCKED: dict[Path, keys.Secrets] = {}


@dataclass(frozen=True)
class Workspace:
    """A workspace folder; `unlock()` gives access to what is encrypted in it."""

    root: Path

    @property
    def snapshots_dir(self) -> Path:
        return self.root / "snapshots"

    @property
    def quarantine_dir(self) -> Path:
        return self.root / "quarantine"

    @property
    def audit_path(self) -> Path:
        return self.root / "audit.log"

    def exists(self) -> bool:
        return (self.root / IDENTITY).is_file()

    @property
    def role(self) -> str:
        """ "accountant" for an accountant's workspace, else "practitioner" (a practice)."""
        try:
            text = (self.root / ROLE).read_text("ascii").strip()
        except (OSError, UnicodeDecodeError):
            return "practitioner"
        return "accountant" if text == "accountant" else "practitioner"

    def require(self) -> Workspace:
        if not self.exists():
            raise WorkspaceError(
                f"aucun espace de travail dans {self.root}", hint=Hint.CREATE_WORKSPACE
            )
        return self

    def recipients(self) -> list[str]:
        """The age recipients data files are encrypted to."""
        return vault.parse_recipients((self.require().root / RECIPIENTS).read_text("ascii"))

    def repair(self) -> None:
        """Finish or undo what a crash interrupted (temporary files never hold the only copy).

        During rotation the key files hold both identities while snapshot folders are
        swapped, so putting a half-swapped folder back is always safe.
        """
        snap_dir = self.snapshots_dir
        if not snap_dir.is_dir():
            return
        for path in sorted(snap_dir.iterdir()):
            if path.name.startswith(".old-"):
                original = snap_dir / path.name[len(".old-") :].rsplit("-", 1)[0]
                if original.exists():
                    snapshots.remove_tree(path)
                else:
                    os.rename(path, original)
        for path in sorted(snap_dir.iterdir()):
            if path.name.startswith(".rot-"):
                snapshots.remove_tree(path)
        snapshots.remove_stale_temporaries(snap_dir)
        for path in _encrypted_data_files(self.root, pattern=".rot-*"):
            path.unlink()

    def unlock(self, passphrase: str) -> Unlocked:
        """Decrypt the secrets with the passphrase (once per process)."""
        self.require().repair()
        key = self.root.resolve()
        cached = _UNLOCKED.get(key)
        if cached is None:
            data = (self.require().root / IDENTITY).read_bytes()
            try:
                cached = keys.Secrets.from_bytes(vault.decrypt_with_passphrase(data, passphrase))
            except DecryptionError:
                raise DecryptionError(
                    "phrase de passe incorrecte", hint=Hint.RECOVER_PASSPHRASE
                ) from None
            _UNLOCKED[key] = cached
        return Unlocked(self, cached)

    def unlock_with_recovery_code(self, code: str) -> keys.Secrets:
        data = (self.require().root / RECOVERY).read_bytes()
        try:
            return keys.Secrets.from_bytes(
                vault.decrypt_with_passphrase(data, keys.normalize_recovery_code(code))
            )
        except DecryptionError:
            raise DecryptionError("code de secours incorrect") from None


@dataclass(frozen=True)
class Unlocked:
    """A workspace whose secrets are in memory."""

    workspace: Workspace
    secrets: keys.Secrets

    @property
    def identities(self) -> list[str]:
        return self.secrets.identities()

    def recipients(self) -> list[str]:
        return self.workspace.recipients()

    def pseudonym_key(self, domain: str = PRACTICE_DOMAIN) -> bytes:
        return derive_key(self.secrets.pseudonym_key, domain)

    def audit(self) -> AuditLog:
        return AuditLog(self.workspace.audit_path, audit_key(self.secrets.pseudonym_key))


@dataclass(frozen=True)
class InitResult:
    unlocked: Unlocked
    recovery_code: str


def forget_unlocked() -> None:
    """Drop every unlocked secret of this process (tests, and after a passphrase change)."""
    _UNLOCKED.clear()


def _write_key_files(
    root: Path,
    secrets: keys.Secrets,
    passphrase: str,
    recovery_code: str | None,
    work_factor: int | None,
) -> None:
    plain = secrets.to_bytes()
    atomic_write(
        root / IDENTITY, vault.encrypt_with_passphrase(plain, passphrase, work_factor=work_factor)
    )
    if recovery_code is not None:
        atomic_write(
            root / RECOVERY,
            vault.encrypt_with_passphrase(
                plain, keys.normalize_recovery_code(recovery_code), work_factor=work_factor
            ),
        )


def init_workspace(
    root: Path,
    passphrase: str,
    *,
    now: datetime | None = None,
    work_factor: int | None = None,
    role: str = "practitioner",
) -> InitResult:
    """Create a new workspace. Refuses to touch an existing one or a non-empty folder.

    `role` "accountant" makes an accountant's workspace (`osteo keys new --role
    accountant`): the same key files, used to open the bundles a practice shares.
    """
    if role not in ROLES:
        raise WorkspaceError(f"rôle inconnu : {role}")
    workspace = Workspace(root)
    if workspace.exists():
        raise WorkspaceError(f"{root} contient déjà un espace de travail : rien n'a été modifié")
    if root.exists() and any(root.iterdir()):
        raise WorkspaceError(f"{root} n'est pas vide : choisissez un dossier vide ou nouveau")
    keys.check_passphrase_strength(passphrase)
    secrets = keys.Secrets.generate(now=now)
    code = keys.recovery_code()
    for folder in FOLDERS:
        make_private_dir(root / folder)
    atomic_write(root / RECIPIENTS, f"# {secrets.key_id}\n{secrets.recipient}\n".encode())
    atomic_write(root / "config.toml", CONFIG_TEMPLATE.encode())
    if role == "accountant":
        atomic_write(root / ROLE, b"accountant\n")
    # The identity file goes last: its presence is what makes the folder a workspace.
    _write_key_files(root, secrets, passphrase, code, work_factor)
    fsync_dir(root)
    unlocked = Unlocked(workspace, secrets)
    _UNLOCKED[root.resolve()] = secrets
    unlocked.audit().append("init", actor=role, now=now)
    return InitResult(unlocked, code)


def change_passphrase(
    workspace: Workspace, old: str, new: str, *, work_factor: int | None = None
) -> None:
    """Re-encrypt the secrets under a new passphrase (the recovery file is unchanged)."""
    unlocked = workspace.unlock(old)
    keys.check_passphrase_strength(new)
    _write_key_files(workspace.root, unlocked.secrets, new, None, work_factor)
    unlocked.audit().append("keys_passwd", actor="practitioner")


def recover(
    workspace: Workspace, recovery_code: str, new: str, *, work_factor: int | None = None
) -> Unlocked:
    """Set a new passphrase from the recovery code."""
    secrets = workspace.unlock_with_recovery_code(recovery_code)
    keys.check_passphrase_strength(new)
    _write_key_files(workspace.root, secrets, new, None, work_factor)
    _UNLOCKED[workspace.root.resolve()] = secrets
    unlocked = Unlocked(workspace, secrets)
    unlocked.audit().append("keys_recover", actor="practitioner")
    return unlocked


def _encrypted_data_files(root: Path, pattern: str = "*.age") -> list[Path]:
    """Loose age files outside snapshots and keys (quarantine, import reports, archive)."""
    found: list[Path] = []
    for folder in ("quarantine", IMPORTS, "archive"):
        base = root / folder
        if base.is_dir():
            found.extend(p for p in sorted(base.rglob(pattern)) if p.is_file())
    return found


def rotate(
    workspace: Workspace,
    passphrase: str,
    *,
    work_factor: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[Unlocked, str]:
    """Replace the workspace's age identity; returns the unlocked workspace and a new recovery code.

    Pseudonyms do not change (the pseudonym key is kept). Order, so that a crash at any
    point leaves every file readable:
    1. every snapshot and loose data file is re-encrypted to the new identity into
       temporary files, fsynced (the old files stay current meanwhile);
    2. the key files are replaced by secrets that hold BOTH identities;
    3. the new files replace the old ones;
    4. the key files are replaced by secrets holding the new identity only.
    A new recovery code is issued because the old one only opens the old key file.
    """
    unlocked = workspace.unlock(passphrase)
    old = unlocked.secrets
    new = old.rotated()
    recipients = [new.recipient]
    token = _random.token_hex(4)
    pending: list[tuple[Path, Path]] = []
    snap_dir = workspace.snapshots_dir
    for name in snapshots.list_snapshots(snap_dir):
        target = snap_dir / f".rot-{name}-{token}"
        snapshots.reencrypt_snapshot(snap_dir / name, old.identities(), recipients, target)
        pending.append((target, snap_dir / name))
        if progress:
            progress(name)
    for path in _encrypted_data_files(workspace.root):
        target = path.with_name(f".rot-{path.name}-{token}")
        data = vault.encrypt(vault.decrypt(path.read_bytes(), old.identities()), recipients)
        atomic_write(target, data)
        pending.append((target, path))
    code = keys.recovery_code()
    _write_key_files(workspace.root, new.with_retired(old.identity), passphrase, code, work_factor)
    atomic_write(workspace.root / RECIPIENTS, f"# {new.key_id}\n{new.recipient}\n".encode())
    for target, final in pending:
        if target.is_dir():
            backup = final.with_name(f".old-{final.name}-{token}")
            os.rename(final, backup)
            os.rename(target, final)
            snapshots.remove_tree(backup)
        else:
            os.replace(target, final)
        fsync_dir(final.parent)
    _write_key_files(workspace.root, new, passphrase, code, work_factor)
    _UNLOCKED[workspace.root.resolve()] = new
    result = Unlocked(workspace, new)
    result.audit().append("keys_rotate", actor="practitioner", counts={"files": len(pending)})
    return result, code

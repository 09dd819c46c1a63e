"""Append-only, hash-chained audit log: the workspace's ``audit.log`` (DESIGN.md).

One JSON object per line, serialized canonically (sorted keys, no spaces, ASCII)::

    {"action":"import","actor":"cli","counts":{"accepted":250},"mac":"…","prev":"…",
     "snapshot":"20250303T080000Z","time":"2025-03-03T08:00:00Z"}

``mac`` is HMAC-SHA256 (hex) under ``audit_key(pseudonym_key)`` over the canonical JSON of
the line without ``mac``; that includes ``prev``, the previous line's ``mac`` (GENESIS for
the first line). Without the key nobody can edit, insert, delete or reorder lines
without ``verify`` pointing at the first line concerned.

What the chain cannot see on its own: lines removed from the *end* (or the whole file,
which ``verify`` treats as an empty log). Record ``VerifyResult.checkpoint`` somewhere
else (a snapshot manifest) and pass it back to ``verify`` to detect that too.

No personal data can be written: actor, action, snapshot and count names are short
ASCII identifiers and counts are integers; anything else is refused with AuditError,
whose message never repeats the refused value.
"""

from __future__ import annotations

import hmac as std_hmac
import json
import os
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from osteo_analytics.errors import AuditError, Hint

if sys.platform != "win32":
    import fcntl

GENESIS = "0" * 64
_FIELDS = frozenset({"action", "actor", "counts", "mac", "prev", "snapshot", "time"})
_ACTION_RE = re.compile(r"[a-z][a-z0-9_.-]{0,39}")
_ACTOR_RE = re.compile(r"[a-z][a-z0-9_.:-]{0,79}")  # e.g. "cli", "accountant:<key id>"
_SNAPSHOT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
_COUNT_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")
_MAX_COUNTS = 64
_TAIL_BYTES = 16384  # far more than the longest line the checks above allow

_KINDS = {
    "edited": "ligne modifiée ou forgée, ou clé d'un autre espace de travail",
    "inserted": "ligne forgée ou copiée insérée ici",
    "deleted": "des lignes ont été supprimées avant celle-ci",
    "reordered": "lignes déplacées : celle-ci appartient à un autre endroit du journal",
    "truncated": "dernière ligne incomplète (fichier tronqué ou écriture interrompue)",
    "rewritten": "le journal ne correspond plus au point de contrôle enregistré",
}


def audit_key(pseudonym_key: bytes) -> bytes:
    """Derive the audit log's HMAC key from the workspace pseudonym key.

    HKDF-SHA256 with its own info string, so the audit key is independent of every
    pseudonymisation key (``pseudonymize.derive_key``) and the log reveals nothing about
    them.
    """
    if len(pseudonym_key) < 32:
        raise ValueError("pseudonym key must be at least 32 bytes")
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"osteo-analytics/hkdf-salt/v1",
        info=b"osteo-analytics/audit-log/v1",
    )
    return hkdf.derive(pseudonym_key)


@dataclass(frozen=True)
class Checkpoint:
    """Number of lines and last MAC of a verified log, to be kept outside the log."""

    count: int
    mac: str


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of AuditLog.verify.

    ``count`` is the number of lines verified good (all of them when ``ok``); ``line`` is
    the 1-based number of the first bad line and ``kind`` one of edited, inserted,
    deleted, reordered, truncated, rewritten (see ``message``).
    """

    ok: bool
    count: int
    head: str = GENESIS
    line: int | None = None
    kind: str | None = None

    @property
    def checkpoint(self) -> Checkpoint:
        """Checkpoint of the good part of the log (the whole log when ``ok``)."""
        return Checkpoint(self.count, self.head)

    def message(self) -> str:
        """One line for a person: what is wrong, where, and what to do."""
        if self.ok:
            return f"journal d'audit intact : {self.count} entrées"
        return (
            f"journal d'audit rompu à la ligne {self.line} : {_KINDS[self.kind or 'edited']} ; "
            "restaurez audit.log depuis une sauvegarde et cherchez qui l'a modifié"
        )


def _canonical(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


class AuditLog:
    """The audit log at ``path``, keyed with ``key`` (from ``audit_key``)."""

    def __init__(self, path: Path, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("audit key must be 32 bytes (use audit_key)")
        self.path = Path(path)
        self._base = hmac.HMAC(key, hashes.SHA256())

    def _mac(self, record: dict[str, Any]) -> str:
        mac = self._base.copy()
        mac.update(_canonical({k: v for k, v in record.items() if k != "mac"}).encode("ascii"))
        return mac.finalize().hex()

    # --- writing ---------------------------------------------------------------------

    def append(
        self,
        action: str,
        *,
        actor: str,
        snapshot: str | None = None,
        counts: dict[str, int] | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Append one entry and return it as written (with ``prev`` and ``mac``).

        ``counts`` None is written as ``{}``. ``now`` (default: the current time) must be
        timezone-aware; it is stored in UTC to the second. Raises AuditError for a value
        that is not allowed, or when the log ends with an incomplete line (appending
        would glue the new entry onto it).
        """
        record = _checked_entry(action, actor, snapshot, counts, now)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            if sys.platform != "win32":
                fcntl.flock(fd, fcntl.LOCK_EX)  # two writers must not chain on one line
            was_empty = os.fstat(fd).st_size == 0
            record["prev"] = self._last_mac()
            record["mac"] = self._mac(record)
            data = (_canonical(record) + "\n").encode("ascii")
            while data:
                data = data[os.write(fd, data) :]
            os.fsync(fd)
        finally:
            os.close(fd)  # also releases the lock
        if was_empty:
            _fsync_dir(self.path.parent)  # make the new file's name durable too
        return record

    def _last_mac(self) -> str:
        # The stored MAC of the last line is chained on without checking it: a forged
        # last line then stays detectable by verify, and later entries stay valid.
        with open(self.path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            if size == 0:
                return GENESIS
            f.seek(max(0, size - _TAIL_BYTES))
            tail = f.read()
            if not tail.endswith(b"\n"):
                raise AuditError(
                    "audit.log se termine par une ligne incomplète", hint=Hint.VERIFY_AUDIT
                )
            # A last line longer than the tail is cut here and fails below: entries this
            # module writes are far shorter, so such a line is not one of ours anyway.
            last = tail[:-1].rsplit(b"\n", 1)[-1]
        try:
            mac = json.loads(last)["mac"]
        except (ValueError, KeyError, TypeError):
            mac = None
        if not (isinstance(mac, str) and re.fullmatch(r"[0-9a-f]{64}", mac)):
            raise AuditError(
                "audit.log : la dernière ligne n'est pas une entrée du journal",
                hint=Hint.VERIFY_AUDIT,
            )
        return mac

    # --- checking --------------------------------------------------------------------

    def verify(self, checkpoint: Checkpoint | None = None) -> VerifyResult:
        """Check the whole chain and report the first bad line and what happened to it.

        A missing or empty file is an empty, intact log, unless ``checkpoint`` says it
        had lines. With ``checkpoint``, a log shorter than the checkpoint is reported as
        lines deleted from the end, and a different MAC at its line as rewritten.
        """
        lines = self._read_lines()
        records = [self._parse(raw) for raw in lines]
        macs: list[str] = []
        for i in range(len(lines)):
            kind = _break_kind(i, lines, records, macs)
            if kind:
                return VerifyResult(False, i, macs[-1] if macs else GENESIS, i + 1, kind)
            record = records[i]
            assert record is not None  # _break_kind returns a kind for unparsed lines
            macs.append(record["mac"])
        head = macs[-1] if macs else GENESIS
        if checkpoint is not None and checkpoint.count > 0:
            if len(macs) < checkpoint.count:
                return VerifyResult(False, len(macs), head, len(macs) + 1, "deleted")
            if macs[checkpoint.count - 1] != checkpoint.mac:
                good = checkpoint.count - 1
                prior = macs[good - 1] if good else GENESIS
                return VerifyResult(False, good, prior, checkpoint.count, "rewritten")
        return VerifyResult(True, len(macs), head)

    def _parse(self, raw: bytes) -> dict[str, Any] | None:
        """The record if ``raw`` is a line this module wrote under this key, else None."""
        try:
            record = json.loads(raw)
        except ValueError:
            return None
        if not (isinstance(record, dict) and set(record) == _FIELDS):
            return None
        # Byte-exact: a re-serialized or reformatted line is an edited line.
        if raw.rstrip(b"\n") != _canonical(record).encode("ascii"):
            return None
        mac = record["mac"]
        if not (
            isinstance(mac, str)
            and mac.isascii()
            and std_hmac.compare_digest(mac, self._mac(record))
        ):
            return None
        return record

    def _read_lines(self) -> list[bytes]:
        try:
            with open(self.path, "rb") as f:
                if sys.platform != "win32":
                    fcntl.flock(f.fileno(), fcntl.LOCK_SH)  # never read half an append
                data = f.read()
        except FileNotFoundError:
            return []
        lines = data.split(b"\n")
        return [line + b"\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])

    def verify_or_raise(self, checkpoint: Checkpoint | None = None) -> int:
        """verify, returning the number of entries; AuditError (one line) if broken."""
        result = self.verify(checkpoint)
        if not result.ok:
            raise AuditError(result.message())
        return result.count


def _checked_entry(
    action: str,
    actor: str,
    snapshot: str | None,
    counts: dict[str, int] | None,
    now: datetime | None,
) -> dict[str, Any]:
    def refuse(what: str) -> AuditError:
        # Never echo the value: a refused value may be exactly the personal data we keep out.
        return AuditError(f"audit entry refused: {what}")

    if not (isinstance(action, str) and _ACTION_RE.fullmatch(action)):
        raise refuse("action must be a short lower-case ASCII identifier")
    if not (isinstance(actor, str) and _ACTOR_RE.fullmatch(actor)):
        raise refuse("actor must be a short lower-case ASCII identifier")
    if snapshot is not None and not (
        isinstance(snapshot, str) and _SNAPSHOT_RE.fullmatch(snapshot)
    ):
        raise refuse("snapshot must be a snapshot name")
    counts = {} if counts is None else counts
    if not isinstance(counts, dict) or len(counts) > _MAX_COUNTS:
        raise refuse(f"counts must be a mapping of at most {_MAX_COUNTS} entries")
    for name, value in counts.items():
        if not (isinstance(name, str) and _COUNT_NAME_RE.fullmatch(name)):
            raise refuse("count names must be short lower-case ASCII identifiers")
        if type(value) is not int or not 0 <= value < 2**53:
            raise refuse("counts must be non-negative integers")
    now = datetime.now(UTC) if now is None else now
    if now.tzinfo is None or now.utcoffset() is None:
        raise refuse("the time must be timezone-aware")
    return {
        "time": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "actor": actor,
        "action": action,
        "snapshot": snapshot,
        "counts": dict(counts),
    }


def _break_kind(
    i: int, lines: list[bytes], records: list[dict[str, Any] | None], macs: list[str]
) -> str | None:
    """Why line i breaks the chain (lines before it are good, ``macs``), or None."""
    expected = macs[-1] if macs else GENESIS
    record = records[i]
    if i == len(lines) - 1 and not lines[i].endswith(b"\n"):
        return "truncated"
    if record is None:
        # A forged line pushed in between leaves the chain around it intact.
        nxt = records[i + 1] if i + 1 < len(records) else None
        return "inserted" if nxt is not None and nxt["prev"] == expected else "edited"
    if record["prev"] == expected:
        return None
    if record["mac"] in macs:
        return "inserted"  # a genuine line, repeated
    if record["prev"] == GENESIS or any(r and r["mac"] == record["prev"] for r in records):
        return "reordered"  # its predecessor is in the file, elsewhere
    return "deleted"  # its predecessor is nowhere


def _fsync_dir(directory: Path) -> None:
    if sys.platform == "win32":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

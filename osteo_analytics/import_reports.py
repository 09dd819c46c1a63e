"""What each import read, file by file: the encrypted ``imports/<stamp>.json.age`` reports.

The audit log records one line per import with its totals only: a file's name may hold a
patient's name (a Word file is often called after its patient), so no file label may
enter it. Each `osteo import` therefore also writes, under the stamp it used for its
quarantine set, an age-encrypted report (atomic write, to the workspace's recipients)
with, per file: its label (what `osteo quarantine` shows), adapter, kind and format, rows
read, accepted, quarantined, duplicates, excluded, conflicts and the rows set aside by
reason. A loose file rather than a part of the snapshot manifest because an import that
changes nothing writes no snapshot, yet its files were read and must be accounted for.

:func:`read_imports` returns every import the verified audit log records, oldest first,
each with its per-file report when one exists; imports made before reports existed (or
whose report is missing) keep their totals from the audit log and ``files`` None.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from osteo_analytics import vault
from osteo_analytics.atomic import atomic_write, make_private_dir
from osteo_analytics.errors import DecryptionError, IntegrityError
from osteo_analytics.workspace import IMPORTS, Unlocked

FORMAT = "osteo-import-report/1"
_SUFFIX = ".json.age"
_TIME = "%Y-%m-%dT%H:%M:%SZ"  # the audit log's resolution: one second
COUNTS = ("rows_read", "accepted", "quarantined", "duplicates", "excluded", "conflicts")


@dataclass(frozen=True)
class FileCounts:
    """One file of one import: where its rows went (read = accepted + quarantined +
    duplicates + excluded; conflicts are a part of accepted), and why, by reason."""

    label: str
    adapter: str
    kind: str
    format: str
    rows_read: int
    accepted: int
    quarantined: int
    duplicates: int
    excluded: int
    conflicts: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        parts = self.accepted + self.quarantined + self.duplicates + self.excluded
        return parts == self.rows_read

    @classmethod
    def from_dict(cls, item: dict[str, Any]) -> FileCounts:
        return cls(
            label=str(item["label"]),
            adapter=str(item["adapter"]),
            kind=str(item["kind"]),
            format=str(item["format"]),
            **{key: int(item[key]) for key in COUNTS},
            reasons={str(k): int(v) for k, v in dict(item["reasons"]).items()},
        )


@dataclass(frozen=True)
class ImportSummary:
    """One import as the audit log records it, with its files when its report exists."""

    time: datetime
    snapshot: str | None
    totals: dict[str, int]
    files: tuple[FileCounts, ...] | None = None  # None: no per-file report for this import


def import_entries(unlocked: Unlocked) -> list[dict[str, Any]]:
    """The verified import entries of the audit log (a broken tail is ignored here)."""
    good = unlocked.audit().verify().count
    try:
        lines = unlocked.workspace.audit_path.read_bytes().splitlines()[:good]
    except FileNotFoundError:
        return []
    entries = [json.loads(line) for line in lines]
    return [e for e in entries if e.get("action") == "import"]


def write_report(
    unlocked: Unlocked,
    stamp: str,
    *,
    now: datetime,
    snapshot: str | None,
    files: Sequence[FileCounts],
) -> Path:
    """Encrypt the per-file report of the import `stamp` to the workspace's recipients."""
    folder = unlocked.workspace.root / IMPORTS
    make_private_dir(folder)
    document = {
        "format": FORMAT,
        "stamp": stamp,
        "time": now.astimezone(UTC).strftime(_TIME),
        "snapshot": snapshot,
        "files": [asdict(f) for f in files],
    }
    path = folder / f"{stamp}{_SUFFIX}"
    data = json.dumps(document, ensure_ascii=False, sort_keys=True).encode()
    atomic_write(path, vault.encrypt(data, unlocked.recipients()))
    return path


def read_report(unlocked: Unlocked, path: Path) -> dict[str, Any]:
    """One report decrypted: its document, files as :class:`FileCounts`.

    DecryptionError or IntegrityError, naming the file's place in the workspace only.
    """
    label = f"{IMPORTS}/{path.name}"
    try:
        document = json.loads(vault.decrypt(path.read_bytes(), unlocked.identities))
        document["files"] = tuple(FileCounts.from_dict(f) for f in document["files"])
    except DecryptionError:
        raise DecryptionError(f"{label} : déchiffrement impossible avec cette clé") from None
    except (IntegrityError, ValueError, KeyError, TypeError):
        raise IntegrityError(
            f"{label} : fichier altéré ou tronqué ; restaurez-le depuis une sauvegarde"
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise IntegrityError(f"{label} : contenu inattendu ; restaurez-le depuis une sauvegarde")
    return document


def read_imports(unlocked: Unlocked) -> list[ImportSummary]:
    """Every import of the audit log, oldest first, with its per-file report when it has one."""
    folder = unlocked.workspace.root / IMPORTS
    paths = sorted(folder.glob(f"*{_SUFFIX}")) if folder.is_dir() else []
    reports = [read_report(unlocked, p) for p in paths]  # sorted by stamp: oldest first
    return [_summary(entry, reports) for entry in import_entries(unlocked)]


def _summary(entry: dict[str, Any], reports: list[dict[str, Any]]) -> ImportSummary:
    """The import of an audit entry; takes (removes) its report from `reports` if there."""
    match = next(
        (
            r
            for r in reports
            if r["time"] == entry.get("time") and r["snapshot"] == entry.get("snapshot")
        ),
        None,
    )
    if match is not None:
        reports.remove(match)
    return ImportSummary(
        time=datetime.strptime(str(entry["time"]), _TIME).replace(tzinfo=UTC),
        snapshot=entry.get("snapshot"),
        totals={str(k): int(v) for k, v in dict(entry.get("counts") or {}).items()},
        files=None if match is None else match["files"],
    )


def totals(files: Iterable[FileCounts]) -> dict[str, int]:
    """The audit log's totals of an import: files, then each count summed over them."""
    items = list(files)
    return {"files": len(items), **{key: sum(getattr(f, key) for f in items) for key in COUNTS}}

"""Backups of the workspace on two media or more, with the real `restic` program.

A destination is a folder the practitioner names (external disk, NAS mount, synced cloud
folder): everything in the workspace is already encrypted, so any medium will do. `add`
makes `PATH/osteo-analytics-<key id>/` there, holding:

```
restic/                    the restic repository (its password: the workspace's restic password)
identity.recovery.age      a copy of keys/identity.recovery.age (opens with the recovery code)
LISEZMOI.txt               how to recover with age and restic alone (README, same commands)
```

The copy of the recovery file is what breaks the circle: the restic password lives inside
it, so it cannot live only inside the repository.

The restic password reaches restic through a pipe named by `RESTIC_PASSWORD_FILE=/dev/fd/N`:
never on disk, in argv or in an environment value. restic runs with `--no-cache` and a
clean environment, so nothing of the practice is written outside the workspace and the
destinations, and nothing restic prints is shown (archived file names may be patients').

What the last runs and checks found is kept in `backups.json` in the workspace, in clear:
destination names, folders, times and counts, never a secret (the dashboard reads it
without running restic). Retention (`forget --prune`) follows the setting `backup_keep`.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from osteo_analytics import snapshots
from osteo_analytics.atomic import atomic_write, make_private_dir
from osteo_analytics.errors import BackupError, Hint, InputError, OsteoError, UsageError
from osteo_analytics.formatting import count
from osteo_analytics.settings import load_settings
from osteo_analytics.workspace import RECOVERY, Unlocked, Workspace

STATE = "backups.json"
STATE_VERSION = 1
REPOSITORY = "restic"
RECOVERY_COPY = "identity.recovery.age"
INSTRUCTIONS = "LISEZMOI.txt"
# restic's temporary pack files go here, in the workspace, never in /tmp (and are not backed up).
RESTIC_TMP = ".restic-tmp"
# Fixed, so that a workspace restored on a new computer goes on in the same history.
HOST = "osteo-analytics"
TAG = "osteo-analytics"
# Not backed up: files being written (atomic writes, snapshot folders), restic's own.
_EXCLUDES = ("--exclude", ".*.tmp", "--exclude", ".tmp-*", "--exclude", RESTIC_TMP)
KEEP_NAMES = ("last", "daily", "weekly", "monthly", "yearly")
# A restic exit code for a backup that could not read every file: the snapshot is partial.
RESTIC_INCOMPLETE = 3
PROGRESS_EVERY = 2.0  # seconds between two progress lines
_NAME = re.compile(r"^[\w][\w.-]{0,39}$")
_SNAPSHOT_ID = re.compile(r"^(latest|[0-9a-f]{8,64})$")
# What restic reports, mapped to what the person can do. restic's own text is never shown.
_FAULTS = (
    (("no space left on device", "disk quota exceeded", "file too large"), "support plein"),
    (
        ("wrong password", "no key found"),
        "dépôt d'un autre espace de travail (mot de passe refusé)",
    ),
    (("already locked",), "dépôt occupé par une autre opération ; réessayez plus tard"),
    (("read-only file system", "permission denied"), "écriture refusée sur la destination"),
)
FULL_ADVICE = "libérez de la place sur la destination ou choisissez un support plus grand"

Progress = Callable[[str], None]

INSTRUCTIONS_TEXT = """\
Sauvegarde osteo-analytics (dépôt restic, données chiffrées avec age)

Pour tout récupérer sans le logiciel, avec le code de secours écrit sur papier, dans un
dossier de travail sur un poste sûr (DEST = le chemin de ce dossier-ci) :
  age -d -o identity.txt "$DEST/identity.recovery.age"
  restic -r "$DEST/restic" --password-command "sed -n 's/^# restic-password: //p' identity.txt" \\
    restore latest --target workspace
  age -d -i identity.txt -o patients.parquet \\
    "workspace/snapshots/$(cat workspace/snapshots/CURRENT)/patients.parquet.age"
Le README d'osteo-analytics, section « Recover your data without this software »,
détaille ces étapes. Les fichiers obtenus sont en clair : travaillez sur un poste sûr.
"""


@dataclass(frozen=True)
class Destination:
    """A destination as `add` recorded it: its name and its folder on the medium."""

    name: str
    root: Path  # PATH/osteo-analytics-<key id>

    @property
    def repository(self) -> Path:
        return self.root / REPOSITORY


@dataclass(frozen=True)
class DestinationStatus:
    """One destination as `osteo backup status` reports it and the quality app shows it."""

    name: str
    location: str
    last_backup: datetime | None
    last_check: datetime | None
    age: timedelta | None  # of the last successful backup, at the time of the status
    warnings: tuple[str, ...] = ()  # French, one short phrase each

    @property
    def ok(self) -> bool:
        return not self.warnings


@dataclass(frozen=True)
class Outcome:
    """What one destination did during a run or a check: an error, or counts."""

    name: str
    error: BackupError | None = None
    counts: dict[str, int] | None = None
    snapshot: str | None = None  # restic's short snapshot id, after a backup


@dataclass(frozen=True)
class Restored:
    """A restore: where from, which restic snapshot, and the restored snapshot's rows."""

    name: str
    snapshot: str
    workspace_snapshot: str | None
    rows: dict[str, int]
    files: int


# --- the state file --------------------------------------------------------------------


def _state_path(workspace: Workspace) -> Path:
    return workspace.root / STATE


def _load(workspace: Workspace) -> dict[str, Any]:
    path = _state_path(workspace)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"version": STATE_VERSION, "destinations": []}
    except (OSError, ValueError) as exc:
        raise InputError(f"{STATE} illisible ({exc.__class__.__name__})") from None
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        raise InputError(f"{STATE} : format inconnu")
    return data


def _save(workspace: Workspace, state: dict[str, Any]) -> None:
    text = json.dumps(state, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    atomic_write(_state_path(workspace), text.encode("utf-8"))


def _record(workspace: Workspace, name: str, **values: Any) -> None:
    state = _load(workspace)
    for entry in state["destinations"]:
        if entry["name"] == name:
            entry.update(values)
    _save(workspace, state)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _moment(text: Any) -> datetime | None:
    return datetime.fromisoformat(text) if isinstance(text, str) else None


def destinations(workspace: Workspace) -> list[Destination]:
    """The destinations added to this workspace, in the order they were added."""
    return [Destination(e["name"], Path(e["root"])) for e in _load(workspace)["destinations"]]


def _select(workspace: Workspace, name: str | None) -> list[Destination]:
    found = destinations(workspace)
    if not found:
        raise BackupError("aucune destination de sauvegarde", hint=Hint.ADD_BACKUP)
    if name is None:
        return found
    chosen = [d for d in found if d.name == name]
    if not chosen:
        raise UsageError(f"destination inconnue : « {name} »", hint=Hint.LIST_BACKUPS)
    return chosen


# --- settings ----------------------------------------------------------------------------


def keep_policy(workspace: Workspace) -> dict[str, int]:
    """The retention policy (setting `backup_keep`), checked: restic's --keep-* values."""
    settings = load_settings(workspace.root)
    policy = settings["backup_keep"]
    unknown = sorted(set(policy) - set(KEEP_NAMES))
    if unknown:
        raise InputError(
            f"config.toml : « backup_keep » ne connaît pas « {unknown[0]} »"
            f" (clés : {', '.join(KEEP_NAMES)})"
        )
    if any(type(v) is not int or v < 0 for v in policy.values()) or not any(policy.values()):
        raise InputError(
            "config.toml : « backup_keep » attend des nombres entiers positifs, au moins un non nul"
        )
    return {k: int(policy[k]) for k in KEEP_NAMES if k in policy}


# --- running restic ------------------------------------------------------------------------


def _die_with_parent() -> None:
    """In the child before exec: killed if `osteo` dies (kill -9 included), never orphaned."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@dataclass(frozen=True)
class _Ran:
    code: int
    stdout: list[str]
    stderr: str


def _restic(
    unlocked: Unlocked,
    repository: Path,
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    on_line: Callable[[str], None] | None = None,
) -> _Ran:
    """Run restic on `repository`; the password goes through a pipe, never disk/argv/env."""
    scratch = unlocked.workspace.root / RESTIC_TMP
    make_private_dir(scratch)
    read_end, write_end = os.pipe()
    try:
        # A few bytes: they fit the pipe's buffer, restic reads them when it starts.
        os.write(write_end, unlocked.secrets.restic_password.encode("ascii"))
    finally:
        os.close(write_end)
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env.update(
        RESTIC_PASSWORD_FILE=f"/dev/fd/{read_end}", RESTIC_PROGRESS_FPS="0.5", TMPDIR=str(scratch)
    )
    argv = [shutil.which("restic") or "restic", "-r", str(repository), "--no-cache", *args]
    try:
        process = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            pass_fds=(read_end,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            preexec_fn=_die_with_parent,
        )
    except FileNotFoundError:
        raise BackupError(
            "restic est introuvable : installez-le (paquet Debian « restic »)"
        ) from None
    finally:
        os.close(read_end)
    errors: list[str] = []
    stdout, stderr = process.stdout, process.stderr
    assert stdout is not None and stderr is not None
    # stderr is read meanwhile, so that restic never blocks on a full pipe.
    drain = threading.Thread(target=lambda: errors.append(stderr.read()), daemon=True)
    drain.start()
    lines = []
    for line in stdout:
        lines.append(line)
        if on_line is not None:
            on_line(line)
    code = process.wait()
    drain.join()
    return _Ran(code, lines, "".join(errors))


def _fault(
    name: str,
    what: str,
    ran: _Ran | None = None,
    error: OSError | None = None,
    otherwise: str | None = None,
) -> BackupError:
    """A one-line error naming the destination and what to do, never restic's own text.

    `otherwise` is the message when restic's report matches no known fault.
    """
    text = (ran.stderr if ran is not None else str(error or "")).lower()
    if ran is not None and ran.code == -signal.SIGXFSZ:  # killed at the file size limit
        text += " file too large"
    for needles, meaning in _FAULTS:
        if any(n in text for n in needles):
            advice = f" : {FULL_ADVICE}" if meaning == "support plein" else ""
            return BackupError(f"{what} sur « {name} » : {meaning}{advice}")
    if otherwise is not None:
        return BackupError(otherwise)
    if ran is not None:
        return BackupError(f"{what} sur « {name} » impossible (restic, code {ran.code})")
    reason = f" ({error.strerror})" if error is not None and error.strerror else ""
    return BackupError(f"{what} sur « {name} » impossible{reason}")


def _unreachable(destination: Destination) -> BackupError | None:
    """An error when the destination's repository cannot be seen (unplugged, unmounted)."""
    if (destination.repository / "config").is_file():
        return None
    return BackupError(
        f"destination « {destination.name} » injoignable ({destination.root}) :"
        " branchez le support ou montez le partage"
    )


def _remove_stale_locks(unlocked: Unlocked, destination: Destination) -> None:
    """Locks left by a process that died (kill -9, power loss) would block prune and check.

    `restic unlock` removes only stale ones (its rule: the process is gone from this host,
    or the lock is old); it runs only when there are locks at all.
    """
    locks = destination.repository / "locks"
    if locks.is_dir() and any(locks.iterdir()):
        _restic(unlocked, destination.repository, ["unlock"])


def _copy_recovery(workspace: Workspace, destination: Destination) -> None:
    atomic_write(destination.root / RECOVERY_COPY, (workspace.root / RECOVERY).read_bytes())
    atomic_write(destination.root / INSTRUCTIONS, INSTRUCTIONS_TEXT.encode("utf-8"))


# --- add ---------------------------------------------------------------------------------


def add(unlocked: Unlocked, name: str, path: Path) -> Destination:
    """Add a destination: create (or adopt) its restic repository in `path`."""
    workspace = unlocked.workspace
    if not _NAME.match(name):
        raise UsageError(
            "nom de destination invalide : lettres, chiffres, « - », « _ » ou « . »,"
            " 40 caractères au plus"
        )
    if not path.is_dir():
        raise UsageError(f"{path} n'est pas un dossier : branchez le support ou créez le dossier")
    target = path.resolve()
    if target.is_relative_to(workspace.root.resolve()):
        raise UsageError(
            "la destination est dans l'espace de travail : choisissez un autre support"
        )
    destination = Destination(name, target / f"osteo-analytics-{unlocked.secrets.key_id}")
    state = _load(workspace)
    for entry in state["destinations"]:
        if entry["name"] == name:
            raise UsageError(f"la destination « {name} » existe déjà", hint=Hint.LIST_BACKUPS)
        if Path(entry["root"]) == destination.root:
            raise UsageError(f"ce dossier est déjà la destination « {entry['name']} »")
    try:
        make_private_dir(destination.root)
        if (destination.repository / "config").is_file():  # ours from before: adopt it
            ran = _restic(unlocked, destination.repository, ["cat", "config"])
            adopted = True
        else:
            ran = _restic(unlocked, destination.repository, ["init"])
            adopted = False
        if ran.code != 0:
            raise _fault(name, "création du dépôt", ran)
        _copy_recovery(workspace, destination)
    except OSError as exc:
        raise _fault(name, "création du dépôt", error=exc) from None
    state["destinations"].append(
        {"name": name, "root": str(destination.root), "added": _stamp(datetime.now(UTC))}
    )
    _save(workspace, state)
    unlocked.audit().append(
        "backup.add",
        actor="practitioner",
        counts={"destinations": len(state["destinations"]), "adopted": int(adopted)},
    )
    return destination


# --- run -----------------------------------------------------------------------------------


def _progress_lines(name: str, progress: Progress | None) -> Callable[[str], None]:
    """Turns restic's JSON status lines into a French line every few seconds."""
    last = [time.monotonic()]

    def on_line(line: str) -> None:
        if progress is None or '"status"' not in line:
            return
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY:
            return
        last[0] = now
        with contextlib.suppress(ValueError, TypeError):
            status = json.loads(line)
            percent = int(float(status.get("percent_done", 0)) * 100)
            done, total = status.get("files_done", 0), status.get("total_files", 0)
            progress(f"  {name} : {percent} % ({count(done)} / {count(total)} fichiers)")

    return on_line


def _summary(lines: Sequence[str]) -> dict[str, Any]:
    for line in reversed(lines):
        with contextlib.suppress(ValueError):
            data = json.loads(line)
            if isinstance(data, dict) and data.get("message_type") == "summary":
                return data
    return {}


def _backup_one(
    unlocked: Unlocked, destination: Destination, policy: dict[str, int], progress: Progress | None
) -> Outcome:
    workspace, name = unlocked.workspace, destination.name
    unreachable = _unreachable(destination)
    if unreachable is not None:
        return Outcome(name, unreachable)
    try:
        _copy_recovery(workspace, destination)
    except OSError as exc:
        return Outcome(name, _fault(name, "sauvegarde", error=exc))
    _remove_stale_locks(unlocked, destination)
    ran = _restic(
        unlocked,
        destination.repository,
        ["backup", "--json", "--host", HOST, "--tag", TAG, *_EXCLUDES, "."],
        cwd=workspace.root,
        on_line=_progress_lines(name, progress),
    )
    summary = _summary(ran.stdout)
    if ran.code != 0 or not summary.get("snapshot_id"):
        partial = f"sauvegarde sur « {name} » incomplète : des fichiers sont illisibles"
        return Outcome(
            name,
            _fault(name, "sauvegarde", ran, otherwise=partial)
            if ran.code == RESTIC_INCOMPLETE
            else _fault(name, "sauvegarde", ran),
        )
    keep = [f"--keep-{k}={v}" for k, v in policy.items() if v]
    forgot = _restic(
        unlocked,
        destination.repository,
        ["forget", "--host", HOST, "--tag", TAG, "--group-by", "host,tags", *keep, "--prune"],
    )
    if forgot.code != 0:
        return Outcome(name, _fault(name, "nettoyage des anciennes sauvegardes", forgot))
    counts = {
        "files": int(summary.get("total_files_processed", 0)),
        "files_new": int(summary.get("files_new", 0)),
        "files_changed": int(summary.get("files_changed", 0)),
        "bytes_added": int(summary.get("data_added", 0)),
    }
    return Outcome(name, counts=counts, snapshot=str(summary["snapshot_id"])[:8])


def run(unlocked: Unlocked, *, progress: Progress | None = None) -> list[Outcome]:
    """Back the workspace up to every destination; one failing does not stop the others.

    Each success is followed by retention (`forget --prune`, setting `backup_keep`). The
    outcome of each destination is recorded in backups.json and the audit log (counts).
    """
    workspace = unlocked.workspace
    policy = keep_policy(workspace)
    outcomes = []
    for destination in _select(workspace, None):
        if progress is not None:
            progress(f"Sauvegarde vers « {destination.name} »…")
        outcome = _backup_one(unlocked, destination, policy, progress)
        now = _stamp(datetime.now(UTC))
        if outcome.error is None:
            _record(
                workspace,
                destination.name,
                last_backup=now,
                last_attempt=now,
                last_error=None,
                last_snapshot=outcome.snapshot,
                **(outcome.counts or {}),
            )
        else:
            _record(workspace, destination.name, last_attempt=now, last_error=str(outcome.error))
        outcomes.append(outcome)
    done = [o for o in outcomes if o.error is None]
    unlocked.audit().append(
        "backup.run",
        actor="practitioner",
        counts={
            "destinations": len(outcomes),
            "failed": len(outcomes) - len(done),
            "files": max((o.counts or {}).get("files", 0) for o in outcomes),
            "bytes_added": sum((o.counts or {}).get("bytes_added", 0) for o in done),
        },
    )
    return outcomes


# --- verify ----------------------------------------------------------------------------------


def verify(unlocked: Unlocked, *, deep: bool = False, name: str | None = None) -> list[Outcome]:
    """`restic check` of every destination (`deep`: also read and check every data pack)."""
    workspace = unlocked.workspace
    outcomes = []
    for destination in _select(workspace, name):
        error = _unreachable(destination)
        if error is None:
            _remove_stale_locks(unlocked, destination)
            ran = _restic(
                unlocked,
                destination.repository,
                ["check", *(["--read-data"] if deep else [])],
            )
            if ran.code != 0:
                error = _fault(
                    destination.name,
                    "vérification",
                    ran,
                    otherwise=f"dépôt « {destination.name} » endommagé : restaurez depuis une"
                    " autre destination, puis refaites une sauvegarde",
                )
        now = _stamp(datetime.now(UTC))
        _record(
            workspace,
            destination.name,
            last_check=now,
            last_check_deep=deep,
            check_ok=error is None,
            check_error=None if error is None else str(error),
        )
        outcomes.append(Outcome(destination.name, error))
    unlocked.audit().append(
        "backup.verify",
        actor="practitioner",
        counts={
            "destinations": len(outcomes),
            "failed": sum(o.error is not None for o in outcomes),
            "deep": int(deep),
        },
    )
    return outcomes


# --- status ------------------------------------------------------------------------------------


def statuses(
    where: Workspace | Unlocked, *, now: datetime | None = None, probe: bool = False
) -> list[DestinationStatus]:
    """Every destination's last success, its age and last check, with French warnings.

    Cheap: reads what the last runs recorded. `probe` also looks whether each repository
    is reachable now (a stat on the medium; the command line does, a dashboard does not).
    """
    workspace = where.workspace if isinstance(where, Unlocked) else where
    now = now or datetime.now(UTC)
    settings = load_settings(workspace.root)
    max_age = int(settings["backup_max_age_days"])
    found = []
    for entry in _load(workspace)["destinations"]:
        last_backup, last_check = (
            _moment(entry.get("last_backup")),
            _moment(entry.get("last_check")),
        )
        age = None if last_backup is None else now - last_backup
        warnings = []
        if last_backup is None:
            warnings.append("jamais sauvegardée")
        elif age is not None and age > timedelta(days=max_age):
            warnings.append(f"dernière sauvegarde il y a plus de {max_age} jours")
        if entry.get("last_error"):
            warnings.append("dernière sauvegarde en échec")
        if entry.get("check_ok") is False:
            warnings.append("dernière vérification en échec")
        if probe and _unreachable(Destination(entry["name"], Path(entry["root"]))) is not None:
            warnings.append("injoignable")
        found.append(
            DestinationStatus(
                entry["name"], entry["root"], last_backup, last_check, age, tuple(warnings)
            )
        )
    return found


def age_text(age: timedelta | None) -> str:
    """`il y a 3 jours`, `il y a 2 h`, `il y a 5 min`, or `jamais`."""
    if age is None:
        return "jamais"
    minutes = max(0, int(age.total_seconds() // 60))
    if minutes < 60:
        return f"il y a {minutes} min"
    if minutes < 48 * 60:
        return f"il y a {minutes // 60} h"
    return f"il y a {count(minutes // (24 * 60))} jours"


# --- restore -------------------------------------------------------------------------------------


def _empty_target(target: Path, workspace: Workspace) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(
            f"{target} n'est pas un dossier vide : choisissez un dossier vide ou nouveau"
        )
    if target.resolve().is_relative_to(workspace.root.resolve()):
        raise UsageError("restaurez hors de l'espace de travail : choisissez un autre dossier")


@contextlib.contextmanager
def _cleared_on_failure(target: Path) -> Iterator[None]:
    """Removes what a failed restore left in `target`, so that the next destination can try."""
    try:
        yield
    except BaseException:
        for path in target.iterdir() if target.is_dir() else []:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        raise


def _check_restored(target: Path, identities: Sequence[str]) -> tuple[str | None, dict[str, int]]:
    """The restored workspace's current snapshot, read and checked against its manifest."""
    folder = target / "snapshots"
    name = snapshots.current_snapshot(folder)
    if name is None:
        return None, {}
    tables = snapshots.read_snapshot(folder, identities, name=name)  # every file's sha256
    return name, {dataset: table.num_rows for dataset, table in tables.items()}


def restore(
    unlocked: Unlocked,
    target: Path,
    *,
    name: str | None = None,
    snapshot: str = "latest",
) -> Restored:
    """Restore a backup into `target` (empty or absent) and check the restored snapshot.

    Without `name`, the destinations are tried in order until one restores. The restored
    workspace's current snapshot is read back: every file's sha256 and row count must
    match its manifest.
    """
    workspace = unlocked.workspace
    if not _SNAPSHOT_ID.match(snapshot):
        raise UsageError("identifiant de sauvegarde invalide (8 à 64 chiffres hexadécimaux)")
    candidates = _select(workspace, name)
    _empty_target(target, workspace)
    make_private_dir(target)
    failures: list[OsteoError] = []
    for destination in candidates:
        error = _unreachable(destination)
        if error is not None:
            failures.append(error)
            continue
        filters = ["--host", HOST, "--tag", TAG] if snapshot == "latest" else []
        try:
            with _cleared_on_failure(target):
                ran = _restic(
                    unlocked,
                    destination.repository,
                    ["restore", snapshot, *filters, "--target", str(target)],
                )
                if ran.code != 0:
                    raise _fault(destination.name, "restauration", ran)
                current, rows = _check_restored(target, unlocked.identities)
        except OsteoError as exc:  # this copy is unusable: the next destination may be sound
            failures.append(exc)
            continue
        files = sum(1 for p in target.rglob("*") if p.is_file())
        unlocked.audit().append(
            "backup.restore",
            actor="practitioner",
            snapshot=current,
            counts={"files": files, **{f"rows_{k}": v for k, v in rows.items()}},
        )
        return Restored(destination.name, snapshot, current, rows, files)
    raise failures[-1]

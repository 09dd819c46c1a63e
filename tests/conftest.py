"""Shared fixtures: the test data in tests/data, the real `osteo` command, shared practices.

Session fixtures are made once per session (once per xdist worker) and are read-only: a
test that changes one works on a copy (`copy_workspace`, `shutil.copytree`). Each checks at
the end of the session that no test changed it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from osteo_analytics import workspace
from osteo_analytics.ingest import import_paths
from osteo_analytics.synthetic import synthesize
from tests.agetty import run_on_terminal

ROOT = Path(__file__).resolve().parents[1]
# Every test reads its data from here: a clone of the repository alone passes `make test`.
DATA = ROOT / "tests" / "data"
LIBREOSTEO_SAMPLE = DATA / "libreosteo-sample"
AGE_VECTORS = DATA / "age-cctv"
ODCS_SCHEMA = DATA / "odcs" / "odcs-json-schema-v3.1.0.json"
PASSPHRASE = "cheval agrafe batterie correcte"
# A cheap scrypt work factor for workspaces whose tests are not about key stretching.
FAST = 10

# The command a user types, run from the checkout (cwd = ROOT) so that this very tree's
# `osteo_analytics` is the one imported.
OSTEO = (sys.executable, "-m", "osteo_analytics.cli")
# What a login shell gives every program. Nothing else of the environment running the tests
# reaches `osteo`: not the developer's OSTEO_* settings, PYTHON* or XDG_* variables.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER")
# The synthetic practice most tests share: one year, 150 patients, every format.
PRACTICE = {"seed": 7, "years": 1, "patients": 150}
# The means of payment of the headline document's received_by_method, in its order.
METHODS = ("cb", "cheque", "especes", "virement", "autre")
# A sheet of visits as a practitioner keeps it: its headers and the fields they map to.
VISIT_COLUMNS = {
    "Date": "consulted_on",
    "Heure": "start_time",
    "Nom": "family_name",
    "Prénom": "first_name",
    "Né(e) le": "birth_date",
    "N° facture": "invoice_number",
    "Montant": "amount",
    "Règlement": "payment_method",
}


def by_method(**amounts: str) -> dict[str, str]:
    """A received_by_method document: `amounts` by method, "0.00" for the others."""
    assert set(amounts) <= set(METHODS), set(amounts) - set(METHODS)
    return {method: amounts.get(method, "0.00") for method in METHODS}


def visit_mapping(*without: str) -> str:
    """The osteo-mapping/1 document of a VISIT_COLUMNS sheet, less the fields `without`."""
    lines = ["format: osteo-mapping/1", "feeds: [consultations, invoices, payments]"]
    lines += ["practitioner: Gaëlle Tanguy", "columns:"]
    lines += [f"  {h}: {f}" for h, f in VISIT_COLUMNS.items() if f not in without]
    return "\n".join(lines) + "\n"


def osteo_env(workspace: Path | None = None, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of an `osteo` run: INHERITED, the workspace if given, then `env`."""
    clean = {name: os.environ[name] for name in INHERITED if name in os.environ}
    if workspace is not None:
        clean["OSTEO_WORKSPACE"] = str(workspace)
    clean.update(env or {})
    return clean


def osteo(
    *args: str,
    workspace: Path | None = None,
    env: dict[str, str] | None = None,
    input: str | None = None,
    program: Sequence[str] = OSTEO,
    cwd: Path = ROOT,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run the real `osteo` command line in a subprocess, as a user would (see osteo_env).

    `program` is the command to run: this checkout's by default, an installed one for
    tests/test_wheel.py.
    """
    return subprocess.run(
        [*program, *args],
        capture_output=True,
        text=True,
        input=input,
        env=osteo_env(workspace, env),
        timeout=timeout,
        cwd=cwd,
    )


def osteo_ok(*args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    """`osteo(*args, **options)`, which must succeed (its stderr is shown if it does not)."""
    result = osteo(*args, **options)
    assert result.returncode == 0, result.stderr
    return result


def osteo_json(*args: str, **options: Any) -> Any:
    """The document a successful `osteo ... --json` (or `--format json`) prints."""
    return json.loads(osteo_ok(*args, **options).stdout)


def start_osteo(
    *args: str,
    workspace: Path | None = None,
    env: dict[str, str] | None = None,
    log: Path | None = None,
) -> subprocess.Popen[bytes]:
    """`osteo` started in the background, its output in `log` or discarded."""
    with open(log or os.devnull, "ab") as out:
        return subprocess.Popen(
            [*OSTEO, *args],
            env=osteo_env(workspace, env),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def osteo_on_terminal(
    *args: str,
    answer: Callable[[bytes], bytes] = lambda screen: b"",
    workspace: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> tuple[int, str]:
    """`osteo` on a pseudo-terminal, `answer` typing at its prompts; (exit code, screen)."""
    argv = [*OSTEO, *args]
    return run_on_terminal(argv, answer, env=osteo_env(workspace, env), cwd=ROOT, timeout=timeout)


def digests(folder: Path) -> dict[str, str]:
    """sha256 of every file below `folder`, by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def copy_workspace(source: Path, target: Path) -> workspace.Unlocked:
    """A copy of the workspace `source` at `target`, unlocked: same keys, same pseudonyms."""
    shutil.copytree(source, target)
    workspace.forget_unlocked()
    return workspace.Workspace(target).unlock(PASSPHRASE)


def _unchanged(folder: Path, what: str) -> Iterator[Path]:
    """Yield `folder`, then check that no test changed a byte of it."""
    before = digests(folder)
    yield folder
    assert digests(folder) == before, f"a test changed {what}: copy it before changing it"


@pytest.fixture(scope="session")
def libreosteo_sample() -> Path:
    assert LIBREOSTEO_SAMPLE.is_dir(), f"{LIBREOSTEO_SAMPLE} is missing from the repository"
    return LIBREOSTEO_SAMPLE


@pytest.fixture(scope="session")
def practice(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The shared synthetic practice (PRACTICE): out/libreosteo, out/ledger, their truths."""
    out = tmp_path_factory.mktemp("practice") / "practice"
    synthesize(out, **PRACTICE)  # type: ignore[arg-type]
    yield from _unchanged(out, "the shared synthetic practice")


@pytest.fixture(scope="session")
def blank_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An empty workspace (cheap scrypt); tests import into copies of it (copy_workspace)."""
    root = tmp_path_factory.mktemp("blank") / "ws"
    workspace.init_workspace(root, PASSPHRASE, work_factor=FAST)
    yield from _unchanged(root, "the shared blank workspace")


@pytest.fixture(scope="session")
def sample_workspace(
    tmp_path_factory: pytest.TempPathFactory, libreosteo_sample: Path
) -> Iterator[Path]:
    """A workspace (cheap scrypt) whose current snapshot is the LibreOsteo sample."""
    root = tmp_path_factory.mktemp("sample") / "ws"
    unlocked = workspace.init_workspace(root, PASSPHRASE, work_factor=FAST).unlocked
    import_paths(unlocked, [libreosteo_sample])
    yield from _unchanged(root, "the shared workspace of the LibreOsteo sample")


# --- a real `osteo serve` ------------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    """A running `osteo serve`: where it listens, its token and the cookie the token gives."""

    port: int
    token: str
    cookie: str
    workspace: Path
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, lines: int = 80) -> str:
        """The end of the server's output (Voila's log), to explain a failed wait."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/?token={self.token}"


def served_workspace(blank: Path, practice: Path, target: Path) -> Path:
    """A copy of the blank workspace holding the shared synthetic practice (LibreOsteo)."""
    unlocked = copy_workspace(blank, target)
    import_paths(unlocked, [practice / "libreosteo"])
    return target


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(
    ws: Path, folder: Path, *args: str, command: str = "serve", timeout: float = 180
) -> Served:
    """`osteo serve` (or `command`) on a free port until its token file appears, then its
    login cookie."""
    port = free_port()
    token_file = folder / "token"
    process = start_osteo(
        command,
        "--port",
        str(port),
        "--token-file",
        str(token_file),
        "--log",
        str(folder / "server.log"),
        *args,
        workspace=ws,
        env={"OSTEO_PASSPHRASE": PASSPHRASE},
        log=folder / "osteo.log",
    )
    deadline = time.monotonic() + timeout
    while not token_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"osteo {command} did not start (exit {process.poll()})")
        time.sleep(0.2)
    token = token_file.read_text().strip()
    page = "lab" if command == "lab" else ""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/{page}?token={token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        cookies = [c.split(";", 1)[0] for c in response.headers.get_all("Set-Cookie") or []]
    return Served(port, token, "; ".join(cookies), ws, process, folder / "server.log")


def stop_server(served: Served) -> None:
    served.process.send_signal(signal.SIGINT)
    try:
        served.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        served.process.kill()
        served.process.wait()


@pytest.fixture(scope="session")
def served(
    tmp_path_factory: pytest.TempPathFactory, blank_workspace: Path, practice: Path
) -> Iterator[Served]:
    """One `osteo serve` of the three apps over the shared practice, for this test worker."""
    folder = tmp_path_factory.mktemp("served")
    ws = served_workspace(blank_workspace, practice, folder / "ws")
    server = start_server(ws, folder)
    # Ready means each app has rendered once: at start three kernels decrypt the warehouse
    # and build their pages at once, which on a loaded 2-core machine takes minutes.
    for app in ("revenue", "activity", "quality"):
        request = urllib.request.Request(
            f"{server.base}/voila/render/{app}.ipynb", headers={"Cookie": server.cookie}
        )
        with urllib.request.urlopen(request, timeout=900) as response:
            assert response.status == 200 and b"jp-OutputArea" in response.read()
    yield server
    stop_server(server)

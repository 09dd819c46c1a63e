"""`osteo serve` and `osteo lab`: the dashboards as read-only Voila apps, or JupyterLab, on
127.0.0.1.

One `Server` = the unlock agent (in this process), a private runtime folder (0700: the
apps' notebooks, kernel connection files, IPython's profile, every temporary file), and
the Voila process of `serve/voila.py` (or JupyterLab's, `serve/lab.py`) with a fresh
random token. The tokenized URL opens a landing
page that sets the login cookie. Stopping (Ctrl-C, SIGTERM, or `close()`) stops Voila and
its kernels, then removes the runtime folder, the agent's socket and the token file:
nothing is left behind.
"""

from __future__ import annotations

import contextlib
import html
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import webbrowser
from collections import deque
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from types import TracebackType

from osteo_analytics.agent import Agent
from osteo_analytics.atomic import atomic_write
from osteo_analytics.errors import OsteoError, UsageError
from osteo_analytics.settings import ENV_WORKSPACE
from osteo_analytics.share import ENV_BUNDLE
from osteo_analytics.workspace import Unlocked

APPS = ("revenue", "activity", "quality")
# The accountant's explorer: over an accountant's bundle (`--bundle`), or the practice's data.
ACCOUNTANT = "accountant"
_REDIRECT = (
    '<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={url}">'
    "<title>osteo-analytics</title>"
)
DEFAULT_PORT = 8866
# Variables a kernel must not inherit: secrets of this process, and Jupyter settings
# that would point Voila at another configuration or kernel.
_WITHHELD = (
    "OSTEO_PASSPHRASE",
    "OSTEO_EXCEL_PASSWORD",
    "OSTEO_BUNDLE",
    "JUPYTER_TOKEN",
    "JUPYTER_CONFIG_DIR",
    "JUPYTER_CONFIG_PATH",
    "JUPYTER_PATH",
    "JUPYTER_DATA_DIR",
    "IPYTHONDIR",
    "PYTHONSTARTUP",
)


class ServeError(OsteoError):
    """The Voila server could not start or stopped on its own."""


def notebooks_dir() -> Path:
    """The apps' notebooks: the wheel's `osteo_analytics/notebooks/`, else the checkout's."""
    packaged = resources.files("osteo_analytics") / "notebooks"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "notebooks"


def lab_dir(workspace_root: Path) -> Path:
    """Where `osteo lab` roots JupyterLab: a git checkout's `notebooks/` (saves carry no
    output, so git gets code only), else `notebooks/` of the workspace, given a copy of
    `explore.ipynb` the first time."""
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / ".git").exists() and (checkout / "notebooks").is_dir():
        return checkout / "notebooks"
    target = workspace_root / "notebooks"
    target.mkdir(mode=0o700, exist_ok=True)
    if not (target / "explore.ipynb").exists():
        shutil.copyfile(notebooks_dir() / "explore.ipynb", target / "explore.ipynb")
    return target


def check_apps(apps: Sequence[str]) -> list[str]:
    chosen = list(dict.fromkeys(apps))
    unknown = [a for a in chosen if not (notebooks_dir() / f"{a}.ipynb").is_file()]
    if unknown or not chosen:
        raise UsageError(f"application inconnue : {', '.join(unknown) or '(aucune)'}")
    return chosen


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_from(port: int, tries: int = 20) -> int:
    """`port` if it is free on 127.0.0.1, else the next free one (UsageError after `tries`)."""
    for candidate in range(port, min(port + tries, 65536)):
        if port_is_free(candidate):
            return candidate
    raise UsageError(f"aucun port libre entre {port} et {port + tries - 1} sur 127.0.0.1")


class Server:
    """The agent, the runtime folder and the Voila process, started together."""

    def __init__(
        self,
        unlocked: Unlocked,
        *,
        apps: Sequence[str] = APPS,
        port: int = DEFAULT_PORT,
        token_file: Path | None = None,
        startup_timeout: float = 120,
        lab_root: Path | None = None,
        preheat: bool = True,
        extra: Sequence[Path] = (),
        log_file: Path | None = None,
        bundle: Path | None = None,
    ) -> None:
        """Voila serving `apps`; or, given `lab_root`, JupyterLab rooted there (`osteo lab`).

        `bundle`: an accountant's bundle the accountant app opens (its path reaches the
        kernels in OSTEO_BUNDLE; the key to open it comes from the agent, as ever).

        `preheat` False starts each app's kernel when its page is asked for (cold), and
        `extra` notebooks are served beside the apps: both for the benchmarks only.
        `log_file` receives Voila's (or JupyterLab's) log, appended, mode 0600.
        """
        self.lab = lab_root is not None
        self.apps = [] if self.lab else check_apps(apps)
        if not 1024 <= port <= 65535:
            raise UsageError(f"port {port} invalide : choisissez-en un entre 1024 et 65535")
        if not port_is_free(port):
            raise UsageError(f"le port {port} est déjà utilisé sur 127.0.0.1")
        self.port = port
        self.token = secrets.token_urlsafe(32)
        self.token_file = token_file
        self.bundle = bundle.resolve() if bundle is not None else None
        self.runtime = Path(tempfile.mkdtemp(prefix="osteo-serve-"))
        self._log: deque[str] = deque(maxlen=40)
        self._log_file = log_file
        self.process: subprocess.Popen[str] | None = None
        self.agent: Agent | None = None
        try:
            self.agent = Agent(unlocked)
            for folder in ("jupyter", "tmp"):
                (self.runtime / folder).mkdir()
            if lab_root is not None:
                root, program = lab_root, "osteo_analytics.serve.lab"
            else:
                root, program = self.runtime / "apps", "osteo_analytics.serve.voila"
                root.mkdir()
                for app in self.apps:
                    shutil.copyfile(notebooks_dir() / f"{app}.ipynb", root / f"{app}.ipynb")
                for notebook in extra:
                    shutil.copyfile(notebook, root / notebook.name)
            self.process = subprocess.Popen(
                [sys.executable, "-m", program, str(root), str(port), str(int(preheat))],
                env=self._environment(unlocked),
                cwd=self.runtime,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,  # Ctrl-C reaches us; we stop Voila in order
            )
            threading.Thread(target=self._drain, daemon=True).start()
            self._wait_until_listening(startup_timeout)
            if token_file is not None:
                atomic_write(token_file, self.token.encode() + b"\n")  # mode 0600
        except BaseException:
            self.close()
            raise

    @property
    def url(self) -> str:
        """The landing page (JupyterLab for the lab) with the token: it sets the cookie."""
        page = "lab" if self.lab else ""
        return f"http://127.0.0.1:{self.port}/{page}?token={self.token}"

    def app_url(self, app: str) -> str:
        return f"http://127.0.0.1:{self.port}/voila/render/{app}.ipynb"

    def open_browser(self) -> bool:
        """Open the landing page in the desktop's browser; False when there is none.

        The browser is given a private file that redirects to the tokenized URL (and is
        removed at stop): a browser's command line, which any local user can read, never
        holds the token.
        """
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and (
            sys.platform.startswith("linux")
        ):
            return False
        page = self.runtime / "ouvrir.html"
        atomic_write(page, _REDIRECT.format(url=html.escape(self.url)).encode())
        return webbrowser.open(page.as_uri())

    def _environment(self, unlocked: Unlocked) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _WITHHELD}
        assert self.agent is not None
        env.update(self.agent.environment)
        env.update(
            {
                ENV_WORKSPACE: str(unlocked.workspace.root.resolve()),
                **({ENV_BUNDLE: str(self.bundle)} if self.bundle is not None else {}),
                "JUPYTER_TOKEN": self.token,  # read and removed by serve/voila.py
                "JUPYTER_RUNTIME_DIR": str(self.runtime / "jupyter"),
                "JUPYTER_NO_CONFIG": "1",  # no config file of the machine or the user
                "IPYTHONDIR": str(self.runtime / "ipython"),
                "TMPDIR": str(self.runtime / "tmp"),  # removed with the runtime folder
                "PLOTLY_RENDERER": "plotly_mimetype",
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        # Voila and its kernels import this very osteo_analytics (a checkout's, not another
        # installed copy): they run from the runtime folder, not from here.
        source = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
        return env

    def _drain(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        copy = None
        if self._log_file is not None:
            try:
                fd = os.open(self._log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                copy = os.fdopen(fd, "a", encoding="utf-8", buffering=1)
            except OSError as exc:
                self._log.append(f"journal {self._log_file} impossible à écrire : {exc.strerror}")
        try:
            for line in self.process.stdout:
                self._log.append(line.rstrip())
                if copy is not None:
                    copy.write(line)
        finally:
            if copy is not None:
                copy.close()

    def _wait_until_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServeError(f"le serveur s'est arrêté au démarrage ({self._last_error()})")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise ServeError(f"le serveur n'a pas démarré en {timeout:.0f} s")

    def _last_error(self) -> str:
        lines = [line for line in self._log if line.strip()]
        return lines[-1][-200:] if lines else "sans message"

    def wait(self) -> int:
        """Block until Voila exits (it does on SIGTERM or a crash); its exit code."""
        assert self.process is not None
        return self.process.wait()

    def close(self) -> None:
        """Stop Voila and its kernels, then remove everything this server wrote."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # Voila shuts its kernels down
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.process is not None:
            # Kernels left in Voila's session group (after a SIGKILL of Voila itself), and
            # any process still working in the runtime folder (a kernel Voila was starting
            # as it stopped): killed, and waited for, before the folder goes.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            _kill_and_wait(_processes_in(self.runtime, self.process.pid))
        if self.agent is not None:
            self.agent.close()
        if self.token_file is not None:
            self.token_file.unlink(missing_ok=True)
        shutil.rmtree(self.runtime, ignore_errors=True)

    def __enter__(self) -> Server:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _processes_in(folder: Path, group: int) -> list[int]:
    """Processes of this user in process group `group` or working in `folder` (Linux /proc;
    elsewhere none are found and the group kill above is what stops them)."""
    found = []
    root = str(folder)
    for entry in Path("/proc").glob("[0-9]*"):
        pid = int(entry.name)
        if pid == os.getpid():
            continue
        try:
            if os.getpgid(pid) == group or os.readlink(entry / "cwd").startswith(root):
                found.append(pid)
        except OSError:  # gone, or another user's
            continue
    return found


def _kill_and_wait(pids: Sequence[int], timeout: float = 10) -> None:
    """SIGKILL `pids` and wait until none is left (a kill returns before the process dies)."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    left = list(pids)
    while left and time.monotonic() < deadline:
        left = [pid for pid in left if Path(f"/proc/{pid}").exists() and not _zombie(pid)]
        if left:
            time.sleep(0.05)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return True


def serve(
    unlocked: Unlocked,
    *,
    apps: Sequence[str] = APPS,
    port: int = DEFAULT_PORT,
    token_file: Path | None = None,
    echo: Callable[[str], None] = print,
    open_browser: bool = False,
    lab_root: Path | None = None,
    log_file: Path | None = None,
    bundle: Path | None = None,
) -> int:
    """Serve until Ctrl-C or SIGTERM; print the URL once ready (and open it when
    `open_browser` and the desktop has a browser). Returns 0 once stopped."""
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        with Server(
            unlocked,
            apps=apps,
            port=port,
            token_file=token_file,
            lab_root=lab_root,
            log_file=log_file,
            bundle=bundle,
        ) as server:
            echo(f"{'JupyterLab prêt' if server.lab else 'Tableaux de bord prêts'} : {server.url}")
            if not (open_browser and server.open_browser()):
                echo("Ouvrez cette adresse dans le navigateur.")
            echo("Ctrl-C arrête tout (serveur, noyaux, fichiers temporaires).")
            while not stop.is_set():
                if server.process is not None and server.process.poll() is not None:
                    raise ServeError(f"le serveur s'est arrêté ({server._last_error()})")
                stop.wait(0.5)
            return 0
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)

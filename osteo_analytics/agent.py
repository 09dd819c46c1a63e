"""The unlock agent: an unlocked workspace lent to the kernels of `osteo serve` and `osteo lab`.

Unlocking costs seconds of scrypt and needs the passphrase; a dashboard kernel has neither
the time nor the right to ask for it. `osteo serve` unlocks once and runs an `Agent`: a
Unix socket in a fresh 0700 directory, answering each connection with the workspace
secrets, and only to a process of the same user (the kernel's uid is read from the socket
itself, SO_PEERCRED; any other caller is closed on without a byte). The kernels find the
socket by its path in `OSTEO_AGENT`: the secrets never touch the disk, argv, environment
values or widget state, and a browser cannot reach a Unix socket.

Protocol (version 1): the server writes ``OSTEO-AGENT 1\\n``, then the length of the
secrets (8 bytes, big-endian), then `keys.Secrets.to_bytes()`, then closes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import struct
import tempfile
import threading
from pathlib import Path
from types import TracebackType

from osteo_analytics import keys
from osteo_analytics.errors import Hint, UsageError
from osteo_analytics.settings import ENV_WORKSPACE
from osteo_analytics.workspace import Unlocked, Workspace

ENV_AGENT = "OSTEO_AGENT"
_GREETING = b"OSTEO-AGENT 1\n"
_LENGTH = struct.Struct(">Q")
_UCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid
_MAX_SECRETS = 1 << 20


class Agent:
    """Serve `unlocked`'s secrets on a Unix socket to processes of this user, until closed."""

    def __init__(self, unlocked: Unlocked) -> None:
        self._payload = _GREETING + _framed(unlocked.secrets.to_bytes())
        self.directory = Path(tempfile.mkdtemp(prefix="osteo-agent-"))  # mode 0700
        self.path = self.directory / "agent.sock"
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(self.path))
        self._server.listen(16)
        self.refused = 0  # callers of another uid, closed on without an answer
        self._thread = threading.Thread(target=self._serve, name="osteo-agent", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:  # closed
                return
            with conn:
                try:
                    _, uid, _ = _UCRED.unpack(
                        conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
                    )
                    if uid != os.getuid():
                        self.refused += 1
                        continue
                    conn.sendall(self._payload)
                except OSError:  # the caller went away: nothing to clean
                    continue

    @property
    def environment(self) -> dict[str, str]:
        """What a child process needs to find the agent: its socket's path, no secret."""
        return {ENV_AGENT: str(self.path)}

    def close(self) -> None:
        """Stop answering and remove the socket and its directory."""
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        self._thread.join(timeout=5)
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Agent:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _framed(data: bytes) -> bytes:
    return _LENGTH.pack(len(data)) + data


def fetch_secrets(path: str | Path) -> keys.Secrets:
    """Ask the agent at `path` for the workspace secrets (UsageError when it cannot answer)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(10)
            conn.connect(str(path))
            data = _read_all(conn)
    except OSError:
        raise UsageError(
            "l'agent de déverrouillage ne répond pas (serveur arrêté ?)", hint=Hint.AGENT
        ) from None
    if not data.startswith(_GREETING) or len(data) < len(_GREETING) + _LENGTH.size:
        raise UsageError("l'agent de déverrouillage a refusé la demande", hint=Hint.AGENT)
    (length,) = _LENGTH.unpack_from(data, len(_GREETING))
    body = data[len(_GREETING) + _LENGTH.size :]
    if length > _MAX_SECRETS or len(body) != length:
        raise UsageError("réponse de l'agent de déverrouillage tronquée", hint=Hint.AGENT)
    return keys.Secrets.from_bytes(body)


def _read_all(conn: socket.socket) -> bytes:
    chunks = []
    size = 0
    while chunk := conn.recv(65536):
        chunks.append(chunk)
        size += len(chunk)
        if size > _MAX_SECRETS + 64:
            break
    return b"".join(chunks)


def connect(environ: dict[str, str] | None = None) -> Unlocked:
    """The unlocked workspace of the `osteo serve` or `osteo lab` that started this kernel.

    Reads `OSTEO_AGENT` (the socket) and `OSTEO_WORKSPACE` (the folder) from `environ`
    (default: this process's environment).
    """
    env = os.environ if environ is None else environ
    path, root = env.get(ENV_AGENT), env.get(ENV_WORKSPACE)
    if not path or not root:
        raise UsageError(
            "ce carnet doit être ouvert par le serveur de tableaux de bord", hint=Hint.AGENT
        )
    return Unlocked(Workspace(Path(root)).require(), fetch_secrets(path))

"""`osteo serve` from the outside: a real server on 127.0.0.1, attacked over HTTP and websockets.

One server per test worker (the `served` fixture of conftest.py) serves the three apps from
a workspace holding the shared synthetic practice. Browser tests of the apps' content are in
tests/test_apps.py.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from tests.conftest import PASSPHRASE, Served, free_port, served_workspace, start_osteo

# The tests of the served apps run on one test worker, beside one shared server.
pytestmark = pytest.mark.xdist_group("served")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def get(url: str, *, cookie: str = "", host: str = "", method: str = "GET") -> tuple[int, str]:
    """(status, body) of one request, redirects not followed."""
    request = urllib.request.Request(url, method=method)
    if cookie:
        request.add_header("Cookie", cookie)
    if host:
        request.add_header("Host", host)
    try:
        with _OPENER.open(request, timeout=180) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def test_the_landing_page_needs_the_token_and_lists_the_apps(served: Served) -> None:
    status, body = get(served.base + "/")
    assert status in (302, 403) and "Recettes" not in body
    status, body = get(served.base + "/?token=" + "x" * 43)
    assert status in (302, 403) and "Recettes" not in body
    status, body = get(served.url)
    assert status == 200
    links = re.findall(r'href="([^"]+)"', body)
    assert links == [f"/voila/render/{app}.ipynb" for app in ("revenue", "activity", "quality")]
    assert "token" not in "".join(links)


@pytest.mark.parametrize("app", ["revenue", "activity", "quality"])
def test_an_app_without_the_cookie_is_refused(served: Served, app: str) -> None:
    status, body = get(f"{served.base}/voila/render/{app}.ipynb")
    assert status in (302, 403)
    assert "kernelId" not in body and "vnd.plotly" not in body


def test_the_rendered_page_shows_no_code_and_loads_nothing_from_elsewhere(served: Served) -> None:
    status, body = get(f"{served.base}/voila/render/revenue.ipynb", cookie=served.cookie)
    assert status == 200
    assert "osteo_analytics" not in body  # strip_sources: no line of the notebook
    assert "Traceback" not in body
    remote = {u for u in re.findall(r'(?:src|href)="(https?://[^"]+)"', body)}
    assert not remote, remote


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/voila/files/revenue.ipynb", "GET"),
        ("/voila/files/../../keys/identity.age", "GET"),
        ("/voila/files/%2e%2e/%2e%2e/etc/passwd", "GET"),
        ("/voila/render/..%2f..%2f..%2fetc%2fpasswd", "GET"),
        ("/voila/static/..%2f..%2f..%2f..%2fetc%2fpasswd", "GET"),
        ("/voila/tree/..", "GET"),
        ("/api/contents", "GET"),
        ("/api/contents/revenue.ipynb", "GET"),
        ("/tree", "GET"),
        ("/lab", "GET"),
        ("/api/kernels", "POST"),
        ("/api/kernels", "GET"),
        ("/api/sessions", "GET"),
        ("/api/terminals", "POST"),
    ],
)
def test_files_api_and_traversal_are_refused_even_with_the_cookie(
    served: Served, path: str, method: str
) -> None:
    status, body = get(served.base + path, cookie=served.cookie, method=method)
    assert status in (302, 403, 404, 405), (path, status)
    assert "AGE-SECRET" not in body and "root:" not in body and '"cells"' not in body


def test_the_contents_listing_needs_the_token(served: Served) -> None:
    status, body = get(served.base + "/voila/api/contents")
    assert status in (302, 403) and "ipynb" not in body


def test_a_foreign_host_header_is_refused(served: Served) -> None:
    """DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends its own Host."""
    for host in (f"evil.example:{served.port}", "evil.example"):
        status, _ = get(served.url, host=host)
        assert status == 403
        status, _ = get(
            f"{served.base}/voila/render/revenue.ipynb", cookie=served.cookie, host=host
        )
        assert status == 403


def test_the_kernels_request_socket_refuses_a_foreign_host(served: Served) -> None:
    """`/voila/query/<kernel>` has no login (the kernel connects without a cookie): the
    Host header must name this machine."""
    kernel = _kernel_id(served)

    async def connect(host: str) -> None:
        request = HTTPRequest(
            f"ws://127.0.0.1:{served.port}/voila/query/{kernel}",
            headers={"Host": host, "Origin": f"http://{host}"},
        )
        conn = await websocket_connect(request)
        conn.close()

    with pytest.raises(HTTPClientError) as refused:
        asyncio.run(connect(f"evil.example:{served.port}"))
    assert refused.value.code == 403
    asyncio.run(connect(f"127.0.0.1:{served.port}"))  # the kernel's own way in still works


def _kernel_id(served: Served) -> str:
    _, body = get(f"{served.base}/voila/render/quality.ipynb", cookie=served.cookie)
    found = re.search(r'"kernelId": "([0-9a-f-]{36})"', body)
    assert found, "no kernel in the rendered page"
    return found.group(1)


def _message(msg_type: str, content: dict[str, object], channel: str = "shell") -> str:
    return json.dumps(
        {
            "header": {
                "msg_id": uuid.uuid4().hex,
                "msg_type": msg_type,
                "session": uuid.uuid4().hex,
                "username": "attaquant",
                "version": "5.3",
                "date": "2026-01-01T00:00:00Z",
            },
            "parent_header": {},
            "metadata": {},
            "content": content,
            "channel": channel,
            "buffers": [],
        }
    )


async def _send_and_listen(served: Served, kernel: str, messages: list[str]) -> list[dict]:
    request = HTTPRequest(
        f"ws://127.0.0.1:{served.port}/api/kernels/{kernel}/channels",
        headers={"Cookie": served.cookie, "Origin": served.base},
    )
    conn = await websocket_connect(request)
    for message in messages:
        await conn.write_message(message)
    received: list[dict] = []
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:
        try:
            raw = await asyncio.wait_for(conn.read_message(), timeout=1)
        except TimeoutError:
            continue
        if raw is None:
            break
        if isinstance(raw, str):
            received.append(json.loads(raw))
    conn.close()
    return received


def test_code_sent_over_the_kernel_websocket_never_runs(served: Served, tmp_path: Path) -> None:
    witness = tmp_path / "pwned"
    code = f"open({str(witness)!r}, 'w').write('x')"
    kernel = _kernel_id(served)
    replies = asyncio.run(
        _send_and_listen(
            served,
            kernel,
            [
                _message("execute_request", {"code": code, "silent": False}),
                _message("inspect_request", {"code": code, "cursor_pos": 3, "detail_level": 1}),
                _message("complete_request", {"code": code, "cursor_pos": 3}),
                _message(
                    "history_request",
                    {"output": True, "raw": True, "hist_access_type": "tail", "n": 10},
                ),
                _message("execute_request", {"code": code}, channel="control"),
            ],
        )
    )
    time.sleep(1)
    assert not witness.exists()
    kinds = {r.get("msg_type") or r.get("header", {}).get("msg_type") for r in replies}
    assert not kinds & {"execute_reply", "inspect_reply", "complete_reply", "history_reply"}


def test_a_malformed_widget_message_gets_no_traceback(served: Served) -> None:
    kernel = _kernel_id(served)
    replies = asyncio.run(
        _send_and_listen(
            served,
            kernel,
            [
                _message("comm_msg", {"comm_id": "0" * 32, "data": {"method": "update"}}),
                _message("comm_msg", {"comm_id": None, "data": "pas un objet"}),
                _message(
                    "comm_open",
                    {
                        "comm_id": "x",
                        "target_name": "jupyter.widget",
                        "data": {"state": {"_model_name": "../../x"}},
                    },
                ),
                "{ceci n'est pas du JSON",
            ],
        )
    )
    text = json.dumps(replies)
    assert "Traceback" not in text and '"ename"' not in text and "osteo_analytics" not in text


def _processes() -> Iterator[tuple[int, bytes, bytes]]:
    """(pid, argv, environment) of every process this user can read."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            yield int(proc.name), (proc / "cmdline").read_bytes(), (proc / "environ").read_bytes()
        except OSError:
            continue


def test_no_secret_in_argv_or_in_a_kernel_environment(served: Served) -> None:
    """The token reaches Voila in its environment only (never argv); the passphrase reaches
    neither Voila nor a kernel; kernels do not inherit the token either."""
    voila, kernels = [], []
    for _, cmdline, environ in _processes():
        assert served.token.encode() not in cmdline
        assert PASSPHRASE.encode() not in cmdline
        if b"osteo_analytics.serve.voila" in cmdline:
            voila.append(environ)
        elif b"ipykernel" in cmdline and f"OSTEO_WORKSPACE={served.workspace}".encode() in environ:
            kernels.append(environ)
    assert voila and kernels
    assert not [env for env in voila if PASSPHRASE.encode() in env]
    assert not [env for env in kernels if PASSPHRASE.encode() in env]
    assert not [env for env in kernels if served.token.encode() in env]
    assert all(b"OSTEO_AGENT=" in env for env in kernels)


def _kernel_pids(served: Served) -> list[int]:
    mine = f"OSTEO_WORKSPACE={served.workspace}".encode()
    return [pid for pid, argv, env in _processes() if b"ipykernel" in argv and mine in env]


def _listening_tcp() -> dict[str, str]:
    """Socket inode → local address (hex, as in /proc/net/tcp) of every TCP listener."""
    listeners = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # LISTEN
                listeners[fields[9]] = fields[1]
    return listeners


def test_kernels_talk_over_private_unix_sockets_only(served: Served) -> None:
    """A kernel's channels are Unix sockets in the server's private folder, not TCP ports
    where any local user could subscribe to its outputs; its interpreter is this one.

    The one TCP listener ipykernel keeps is its pipe for the output of forked
    subprocesses: on 127.0.0.1, write-only, and it drops any message without its random key.
    """
    pids = _kernel_pids(served)
    assert pids
    listening = _listening_tcp()
    for pid in pids:
        argv = (Path("/proc") / str(pid) / "cmdline").read_bytes().decode().split("\0")
        assert Path(argv[0]).resolve() == Path(sys.executable).resolve()
        info = json.loads(Path(argv[argv.index("-f") + 1]).read_text())
        assert info["transport"] == "ipc"
        private = [p for p in Path(info["ip"]).parents if p.stat().st_mode & 0o077 == 0]
        assert private, info["ip"]  # a folder on the way is closed to other users
        sockets = {
            link.readlink().as_posix()[len("socket:[") : -1]
            for link in (Path("/proc") / str(pid) / "fd").iterdir()
            if link.readlink().as_posix().startswith("socket:[")
        }
        tcp = [listening[inode] for inode in sockets & listening.keys()]
        assert len(tcp) <= 1 and all(a.startswith("0100007F:") for a in tcp), tcp


def test_the_server_log_holds_no_token(served: Served) -> None:
    """`--log` keeps Voila's log for a diagnosis, 0600, without the token of the URL."""
    assert served.log.exists() and served.log.stat().st_mode & 0o777 == 0o600
    text = served.log.read_text(errors="replace")
    assert "Kernel started" in text
    assert served.token not in text


def test_a_stop_leaves_no_file_and_no_process(
    blank_workspace: Path, practice: Path, tmp_path: Path
) -> None:
    """Ctrl-C (SIGINT, as a terminal sends it) stops Voila and its kernels and removes the
    runtime folder (notebooks, connection files, temporary files), the agent's socket
    folder and the token file."""
    ws = served_workspace(blank_workspace, practice, tmp_path / "ws")
    token_file = tmp_path / "jeton"
    process = start_osteo(
        "serve",
        "--app",
        "quality",
        "--port",
        str(free_port()),
        "--token-file",
        str(token_file),
        workspace=ws,
        env={"OSTEO_PASSPHRASE": PASSPHRASE},
    )
    deadline = time.monotonic() + 180
    while not token_file.exists():
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    assert token_file.stat().st_mode & 0o777 == 0o600
    children = _descendants(process.pid)
    assert children  # Voila, and its preheated kernel
    written = _folders_of(children)
    assert {"runtime", "agent"} <= set(written) and all(p.is_dir() for p in written.values())
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    assert not [p for p in written.values() if p.exists()] and not token_file.exists()
    time.sleep(1)
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()]


def _folders_of(pids: list[int]) -> dict[str, Path]:
    """The runtime and agent folders named in the environment of these processes."""
    found: dict[str, Path] = {}
    for pid in pids:
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for entry in environ:
            name, _, value = entry.decode(errors="replace").partition("=")
            if name == "JUPYTER_RUNTIME_DIR":
                found["runtime"] = Path(value).parent
            elif name == "OSTEO_AGENT":
                found["agent"] = Path(value).parent
    return found


def _descendants(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    parents = {int(a): int(b) for a, b in (line.split() for line in out.splitlines())}
    found, frontier = [], {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found += frontier
    return found

"""`osteo lab`: JupyterLab on 127.0.0.1 with a token, kernels unlocked by the agent, and
notebooks saved without outputs."""

from __future__ import annotations

import asyncio
import json
import shutil
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from tests.conftest import ROOT, Served, served_workspace, start_server, stop_server

# The tests of the served apps run on one test worker, beside one shared server.
pytestmark = pytest.mark.xdist_group("served")


@pytest.fixture(scope="module")
def lab(
    tmp_path_factory: pytest.TempPathFactory, blank_workspace: Path, practice: Path
) -> Iterator[tuple[Served, Path]]:
    folder = tmp_path_factory.mktemp("lab")
    ws = served_workspace(blank_workspace, practice, folder / "ws")
    notebooks = folder / "carnets"
    notebooks.mkdir()
    shutil.copyfile(ROOT / "notebooks" / "explore.ipynb", notebooks / "explore.ipynb")
    server = start_server(ws, folder, "--dir", str(notebooks), command="lab")
    yield server, notebooks
    stop_server(server)


def api(served: Served, path: str, method: str = "GET", body: object = None) -> object:
    request = urllib.request.Request(
        f"{served.base}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {served.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def test_the_lab_needs_the_token(lab: tuple[Served, Path]) -> None:
    served, _ = lab
    try:
        urllib.request.urlopen(f"{served.base}/api/contents", timeout=30)
        raise AssertionError("the contents API answered without a token")
    except urllib.error.HTTPError as error:
        assert error.code == 403
    listing = api(served, "/api/contents")
    assert isinstance(listing, dict)
    assert [item["name"] for item in listing["content"]] == ["explore.ipynb"]


def test_a_saved_notebook_keeps_its_code_and_loses_its_outputs(lab: tuple[Served, Path]) -> None:
    served, notebooks = lab
    output = {"output_type": "stream", "name": "stdout", "text": "CA 2026 : 61 234,50 €\n"}
    content = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"widgets": {"state": {"x": {"value": "Dupont"}}}},
        "cells": [
            {
                "id": "a1",
                "cell_type": "code",
                "source": "print(1)",
                "metadata": {},
                "execution_count": 3,
                "outputs": [output],
            }
        ],
    }
    api(served, "/api/contents/analyse.ipynb", "PUT", {"type": "notebook", "content": content})
    saved = json.loads((notebooks / "analyse.ipynb").read_text())
    assert "".join(saved["cells"][0]["source"]) == "print(1)"
    assert saved["cells"][0]["outputs"] == [] and saved["cells"][0]["execution_count"] is None
    assert "widgets" not in saved["metadata"]
    everything = b"".join(p.read_bytes() for p in notebooks.rglob("*") if p.is_file())
    assert b"61 234,50" not in everything and b"Dupont" not in everything


def test_a_lab_kernel_opens_the_warehouse_through_the_agent(lab: tuple[Served, Path]) -> None:
    served, _ = lab
    kernel = api(served, "/api/kernels", "POST", {"name": "python3"})
    assert isinstance(kernel, dict)
    code = (
        "from osteo_analytics.agent import connect\n"
        "from osteo_analytics.warehouse import open_warehouse\n"
        "import os\n"
        "wh = open_warehouse(connect())\n"
        "n = int(wh.query('SELECT count(*) AS n FROM consultations')['n'][0])\n"
        "print('consultations', n, 'OSTEO_PASSPHRASE' in os.environ, 'JUPYTER_TOKEN' in os.environ)"
    )
    printed = asyncio.run(_execute(served, kernel["id"], code))
    words = printed.split()
    assert words[0] == "consultations" and int(words[1]) > 100, printed
    assert words[2:] == ["False", "False"]
    api(served, f"/api/kernels/{kernel['id']}", "DELETE")


async def _execute(served: Served, kernel: str, code: str) -> str:
    request = HTTPRequest(
        f"ws://127.0.0.1:{served.port}/api/kernels/{kernel}/channels",
        headers={"Authorization": f"token {served.token}"},
    )
    conn = await websocket_connect(request)
    msg_id = uuid.uuid4().hex
    await conn.write_message(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "session": "t",
                    "username": "t",
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "content": {"code": code, "silent": False},
                "channel": "shell",
            }
        )
    )
    printed = []
    while True:
        raw = await asyncio.wait_for(conn.read_message(), timeout=120)
        assert raw is not None
        message = json.loads(raw)
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind = message["header"]["msg_type"]
        if kind == "stream":
            printed.append(message["content"]["text"])
        elif kind == "error":
            raise AssertionError(message["content"]["ename"])
        elif kind == "status" and message["content"]["execution_state"] == "idle":
            break
    conn.close()
    return "".join(printed)

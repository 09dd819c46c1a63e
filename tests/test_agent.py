"""The unlock agent: secrets lent over a Unix socket to this user's processes only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from osteo_analytics import agent, workspace
from osteo_analytics.errors import UsageError
from tests.conftest import PASSPHRASE


@pytest.fixture(scope="module")
def unlocked(blank_workspace: Path) -> workspace.Unlocked:
    return workspace.Workspace(blank_workspace).unlock(PASSPHRASE)


def test_a_process_of_this_user_gets_the_secrets(unlocked: workspace.Unlocked) -> None:
    with agent.Agent(unlocked) as server:
        env = {**server.environment, "OSTEO_WORKSPACE": str(unlocked.workspace.root)}
        assert set(server.environment) == {"OSTEO_AGENT"}
        assert "AGE-SECRET-KEY" not in repr(server.environment)
        # Another process (a kernel), with only the socket's path in its environment.
        code = (
            "import json, sys\n"
            "from osteo_analytics import agent\n"
            "u = agent.connect()\n"
            "print(json.dumps([u.secrets.key_id, u.pseudonym_key().hex()]))\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code],
            env={"PATH": os.environ["PATH"], **env},
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parents[1],
        ).stdout
        assert out.strip() == (f'["{unlocked.secrets.key_id}", "{unlocked.pseudonym_key().hex()}"]')
        got = agent.connect(env)
        assert got.secrets == unlocked.secrets
        assert got.workspace.root == unlocked.workspace.root


def test_the_socket_is_private_and_gone_after_close(unlocked: workspace.Unlocked) -> None:
    server = agent.Agent(unlocked)
    mode = stat.S_IMODE(server.directory.stat().st_mode)
    assert mode == 0o700 and stat.S_ISSOCK(server.path.stat().st_mode)
    server.close()
    assert not server.directory.exists()
    with pytest.raises(UsageError, match="ne répond pas"):
        agent.fetch_secrets(server.path)


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to run a client as another user")
def test_another_user_gets_nothing(unlocked: workspace.Unlocked) -> None:
    """Even with the folder opened up, a process of another uid is closed on, unanswered."""
    with agent.Agent(unlocked) as server:
        server.directory.chmod(0o755)
        server.path.chmod(0o777)
        code = (
            "import os, socket, sys\n"
            "os.setgid(65534); os.setuid(65534)\n"
            "s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])\n"
            "print(len(s.recv(65536)))\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code, str(server.path)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "0"
        assert server.refused == 1


def test_a_notebook_outside_the_server_is_told_so() -> None:
    with pytest.raises(UsageError, match="serveur de tableaux de bord"):
        agent.connect({"OSTEO_WORKSPACE": "/nowhere"})

"""The JupyterLab process of `osteo lab`: `python -m osteo_analytics.serve.lab ROOT PORT`.

Run by `serve.Server`, never by hand; configured in code like `serve/voila.py`: token from
`JUPYTER_TOKEN` (removed before any kernel starts), 127.0.0.1, Host check on, no config
file read (`JUPYTER_NO_CONFIG`, set by the server), only this Python's kernel over Unix
sockets (`serve/kernels.py`), no terminal, no news or update check (they fetch from the
internet). Every notebook is saved without outputs, execution counts or widget state
(`strip_outputs`, a pre-save hook): what the lab writes holds code, never practice data,
and nothing computed can reach git.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from traitlets.config import Config

from osteo_analytics.serve.kernels import configure_kernels


def strip_outputs(model: dict[str, Any], **_: Any) -> None:
    """Pre-save hook: a notebook's outputs, execution counts and widget state dropped."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    content = model["content"]
    for cell in content.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)
    content.get("metadata", {}).pop("widgets", None)


def configure(root: Path, port: int, token: str, runtime: Path) -> Config:
    """The whole configuration, in code."""
    config = Config()
    server = config.ServerApp
    server.ip = "127.0.0.1"
    server.port = port
    server.port_retries = 0
    server.open_browser = False
    server.root_dir = str(root)
    server.allow_remote_access = False
    server.allow_root = True  # CI and containers run as root; the bind is what protects
    server.terminals_enabled = False
    server.jpserver_extensions = {"jupyterlab": True}
    config.IdentityProvider.token = token
    config.FileContentsManager.pre_save_hook = strip_outputs
    configure_kernels(config)
    config.LabApp.news_url = None
    config.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
    config.LabApp.workspaces_dir = str(runtime / "lab-workspaces")
    config.LabApp.user_settings_dir = str(runtime / "lab-settings")
    return config


def main(argv: list[str]) -> None:
    from jupyterlab.labapp import LabApp

    root, port = Path(argv[0]), int(argv[1])
    token = os.environ.pop("JUPYTER_TOKEN", "")
    if len(token) < 32:
        sys.exit("osteo lab: jeton absent ou trop court")
    runtime = Path(os.environ["JUPYTER_RUNTIME_DIR"]).parent
    # Not `launch_instance`: it drops its keyword arguments, and with them this config.
    server = LabApp.initialize_server(argv=[], config=configure(root, port, token, runtime))
    server.start()


if __name__ == "__main__":
    main(sys.argv[1:])

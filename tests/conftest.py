"""Shared fixtures: paths to the test data in tests/data, the real `osteo` command, workspaces."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Every test reads its data from here: a clone of the repository alone passes `make test`.
DATA = ROOT / "tests" / "data"
LIBREOSTEO_SAMPLE = DATA / "libreosteo-sample"
AGE_VECTORS = DATA / "age-cctv"
ODCS_SCHEMA = DATA / "odcs" / "odcs-json-schema-v3.1.0.json"
PASSPHRASE = "cheval agrafe batterie correcte"


def osteo(
    *args: str,
    workspace: Path | None = None,
    env: dict[str, str] | None = None,
    input: str | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run the real `osteo` command line in a subprocess, as a user would."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("OSTEO_")}
    if workspace is not None:
        full_env["OSTEO_WORKSPACE"] = str(workspace)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "osteo_analytics.cli", *args],
        capture_output=True,
        text=True,
        input=input,
        env=full_env,
        timeout=timeout,
        cwd=ROOT,
    )


@pytest.fixture(scope="session")
def libreosteo_sample() -> Path:
    assert LIBREOSTEO_SAMPLE.is_dir(), f"{LIBREOSTEO_SAMPLE} is missing from the repository"
    return LIBREOSTEO_SAMPLE

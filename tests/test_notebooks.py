"""The notebooks in git: thin, and never an output (invariant 1: no plaintext on disk)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
APPS = ("revenue", "activity", "quality", "accountant")


def test_every_app_has_its_notebook() -> None:
    assert {p.stem for p in NOTEBOOKS} >= set(APPS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_output_no_execution_count_no_widget_state(path: Path) -> None:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"{path.name}: a cell has outputs"
            assert cell["execution_count"] is None
    # Saved widget state is data a kernel computed: never in git either.
    assert "widgets" not in notebook["metadata"]


@pytest.mark.parametrize("app", APPS)
def test_an_app_notebook_is_thin_no_sql_no_path_no_key(app: str) -> None:
    path = ROOT / "notebooks" / f"{app}.ipynb"
    notebook = json.loads(path.read_text(encoding="utf-8"))
    source = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    assert not re.search(r"\b(select|from\s+\w+\s+(where|group)|group by)\b", source, re.I), "SQL"
    assert not re.search(r"[\"'](/|~|[A-Za-z]:\\)", source), "a path in a notebook"
    assert "AGE-SECRET-KEY" not in source and "OSTEO_PASSPHRASE" not in source
    code_lines = [line for line in source.splitlines() if line.strip() and not line.startswith("#")]
    assert len(code_lines) <= 4, f"{path.name} is not thin: {len(code_lines)} lines of code"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_path_and_no_key_in_any_notebook(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "AGE-SECRET-KEY" not in text and "OSTEO_PASSPHRASE" not in text
    assert "/home/" not in text and "/tmp/" not in text and "/root" not in text

"""environment.yml and pyproject.toml must describe the same runtime environment."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# Programs (not Python packages) that conda provides and pip cannot.
CONDA_ONLY = {"python", "pip", "restic", "age"}
_REQ = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$")


def _split(req: str) -> tuple[str, str]:
    match = _REQ.match(req)
    assert match, req
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def _pyproject() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return dict(_split(r) for r in data["project"]["dependencies"])


def _environment() -> dict[str, str]:
    data = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert data["channels"] == ["conda-forge"]
    deps = [d for d in data["dependencies"] if isinstance(d, str)]
    return dict(_split(d.replace("=3.11", "==3.11")) for d in deps)


def test_environment_yml_lists_the_runtime_dependencies_of_pyproject() -> None:
    conda = {k: v for k, v in _environment().items() if k not in CONDA_ONLY}
    assert conda == _pyproject()


def test_environment_yml_pins_python_311_and_brings_the_programs() -> None:
    env = _environment()
    assert env["python"] == "==3.11"
    assert {"restic", "age"} <= env.keys()


def test_every_runtime_dependency_is_justified_by_a_comment() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    block = text.split("dependencies = [", 1)[1].split("]", 1)[0]
    lines = [line for line in block.splitlines() if line.strip().startswith('"')]
    assert lines
    for line in lines:
        assert "#" in line and len(line.split("#", 1)[1].strip()) > 10, line


def test_no_test_reads_outside_the_repository() -> None:
    """A clone of the repository alone passes `make test`: test data lives in tests/data."""
    outside = re.compile(r"parents\[[2-9]\]|\.\./shared|ROOT\.parent|REPO\.parent|\"shared\"\s*/")
    offenders = [
        f"{path.name}:{number}"
        for path in sorted((ROOT / "tests").glob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if outside.search(line)
    ]
    assert offenders == []


@pytest.mark.parametrize("folder", ["age-cctv", "libreosteo-sample", "odcs"])
def test_copied_test_data_carries_its_licence_and_source(folder: str) -> None:
    here = ROOT / "tests" / "data" / folder
    assert any(here.glob("*LICENSE")), folder
    assert (here / "SOURCE.md").is_file(), folder

"""Documentation cannot fall behind: every command and every setting is in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from osteo_analytics.settings import SETTINGS
from tests.test_cli import ALL_COMMANDS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_the_two_commands_open_the_readme() -> None:
    head = README.split("\n## ", 1)[0]
    assert "make demo" in head and "make test" in head


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=" ".join)
def test_every_command_is_documented(path: tuple[str, ...]) -> None:
    assert f"`osteo {' '.join(path)}" in README, f"osteo {' '.join(path)} is not in README.md"


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented(setting: object) -> None:
    name = setting.name  # type: ignore[attr-defined]
    assert f"`{name}`" in README, f"setting {name} is not in README.md"

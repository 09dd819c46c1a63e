"""Documentation cannot fall behind: every command and every setting is in the README."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from osteo_analytics.settings import SETTINGS
from tests.test_cli import ALL_COMMANDS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PACKAGE = ROOT / "osteo_analytics"


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


def _readme_settings() -> list[str]:
    """Names in the first column of README's "Settings" table."""
    section = README.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE)


def _settings_read_by_the_package() -> set[str]:
    """Keys read as `<...>settings["name"]` or `<...>settings.get("name")` outside settings.py."""
    names: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if path == PACKAGE / "settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Subscript):
                target, key = node.value, node.slice
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and node.args
            ):
                target, key = node.func.value, node.args[0]
            else:
                continue
            holder = ast.unparse(target).rsplit(".", 1)[-1]
            if holder.endswith("settings") and isinstance(key, ast.Constant):
                names.add(str(key.value))
    return names


def test_the_settings_table_lists_exactly_the_settings() -> None:
    assert _readme_settings() == [s.name for s in SETTINGS]


@pytest.mark.parametrize("name", sorted({*_readme_settings(), *(s.name for s in SETTINGS)}))
def test_every_documented_setting_is_read_by_the_package(name: str) -> None:
    assert name in _settings_read_by_the_package(), (
        f"setting {name} is documented but no code reads it: wire it or remove it"
    )

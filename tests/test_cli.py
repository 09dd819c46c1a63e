"""The command line contract: help everywhere, one-line errors, exit codes 0/1/2."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from osteo_analytics.cli import cli


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


ALL_COMMANDS = list(_commands(cli))


def _resolve(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def osteo(*args: str, env: dict[str, str] | None = None, input: str | None = None):
    """Run the installed `osteo` entry point for real, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "osteo_analytics.cli", *args],
        capture_output=True,
        text=True,
        input=input,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=" ".join)
def test_every_command_has_help_text(path: tuple[str, ...]) -> None:
    command = _resolve(path)
    assert command.help and len(command.help.strip()) > 20, f"osteo {' '.join(path)} has no help"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"osteo {' '.join(path)} {param.opts[0]} has no help"
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage :" in result.output


def test_the_group_has_help_and_a_workspace_option() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "--workspace" in result.output and "OSTEO_WORKSPACE" in result.output


def test_unknown_command_is_bad_usage_exit_2() -> None:
    result = osteo("no-such-command")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_missing_required_option_is_exit_2() -> None:
    result = osteo("synth")
    assert result.returncode == 2
    assert "--out" in result.stderr


def test_library_errors_become_one_line_with_their_exit_code(tmp_path: Path) -> None:
    result = osteo("synth", "--out", str(tmp_path / "x"), "--years", "0")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Erreur : ")
    assert "Traceback" not in result.stderr


def test_workspace_option_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from osteo_analytics.settings import default_workspace, resolve_workspace

    monkeypatch.setenv("OSTEO_WORKSPACE", str(tmp_path))
    assert resolve_workspace(None) == tmp_path
    assert resolve_workspace(tmp_path / "other") == tmp_path / "other"
    monkeypatch.delenv("OSTEO_WORKSPACE")
    assert resolve_workspace(None) == default_workspace()

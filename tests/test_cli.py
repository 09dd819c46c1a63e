"""The command line contract: help everywhere, one-line errors, exit codes 0/1/2."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from osteo_analytics import __version__
from osteo_analytics.cli import cli
from tests.conftest import INHERITED, osteo


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


def test_osteo_runs_in_a_clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests' `osteo` sees a login shell's variables and the test's own, nothing else."""
    for name, value in {
        "OSTEO_WORKSPACE": str(tmp_path / "developer"),
        "OSTEO_PASSPHRASE": "the developer's own",
        "PYTHONPATH": str(tmp_path),
        "PYTHONWARNINGS": "error",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "HOME": str(tmp_path / "home"),
        "LANG": "fr_FR.UTF-8",
    }.items():
        monkeypatch.setenv(name, value)
    printenv = (sys.executable, "-c", "import json, os; print(json.dumps(dict(os.environ)))")
    result = osteo(workspace=tmp_path / "ws", env={"OSTEO_PASSPHRASE": "x"}, program=printenv)
    seen = json.loads(result.stdout)
    assert set(seen) - {"LC_CTYPE"} <= {*INHERITED, "OSTEO_WORKSPACE", "OSTEO_PASSPHRASE"}
    assert seen["OSTEO_WORKSPACE"] == str(tmp_path / "ws") and seen["OSTEO_PASSPHRASE"] == "x"
    assert (seen["HOME"], seen["LANG"]) == (str(tmp_path / "home"), "fr_FR.UTF-8")


@pytest.mark.parametrize(("args", "code"), [(("--version",), 0), (("synth",), 2)])
def test_leaving_keeps_python_exit_work(tmp_path: Path, args: tuple[str, ...], code: int) -> None:
    """`osteo` leaves by os._exit (Arrow's thread pools can abort at C++ teardown): the
    atexit handlers still run, everything printed is flushed, and the exit code is kept."""
    marker = tmp_path / "atexit-ran"
    script = (
        "import atexit, pathlib, sys\n"
        f"atexit.register(pathlib.Path({str(marker)!r}).write_text, 'oui')\n"
        "sys.stdout.write('x' * 100_000)\n"
        f"sys.argv = ['osteo', *{list(args)!r}]\n"
        "from osteo_analytics.cli import main\n"
        "main()\n"
    )
    result = osteo(program=(sys.executable, "-c", script))
    assert result.returncode == code, result.stderr
    assert marker.read_text() == "oui"
    assert result.stdout.startswith("x" * 100_000)
    if code == 0:
        assert result.stdout.endswith(f"osteo, version {__version__}\n")
    else:
        assert "Erreur : " in result.stderr and "--out" in result.stderr

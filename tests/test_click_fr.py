"""Everything click prints for `osteo` is French: help screens, usage errors, prompts.

The English strings looked for are read from the installed click's own source (its `_()`
and `ngettext()` calls, its type names), so a click upgrade cannot make the list stale.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from osteo_analytics import __version__
from osteo_analytics.cli import cli
from osteo_analytics.cli import french as click_fr
from tests.conftest import ROOT, osteo, osteo_on_terminal
from tests.test_cli import ALL_COMMANDS

CLICK_SOURCE = Path(click.__file__).parent
PLACEHOLDER = re.compile(r"\{[^}]*\}|%\([a-z]+\)s")


@cache
def click_strings() -> tuple[set[str], set[tuple[str, str]], set[str]]:
    """(msgids of `_()`, (singular, plural) of `ngettext()`, type names) in click's source."""
    singles: set[str] = set()
    plurals: set[tuple[str, str]] = set()
    type_names: set[str] = set()
    for path in sorted(CLICK_SOURCE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                literals = [
                    a.value
                    for a in node.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)
                ]
                if node.func.id == "_" and literals:
                    singles.add(literals[0])
                elif node.func.id == "ngettext" and len(literals) >= 2:
                    plurals.add((literals[0], literals[1]))
            if path.name == "types.py" and isinstance(node, ast.ClassDef):
                for stmt in node.body:
                    target = stmt.target if isinstance(stmt, ast.AnnAssign) else None
                    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                        target = stmt.targets[0]
                    value = getattr(stmt, "value", None)
                    if (
                        isinstance(target, ast.Name)
                        and target.id == "name"
                        and isinstance(value, ast.Constant)
                        and isinstance(value.value, str)
                    ):
                        type_names.add(value.value)
    return singles, plurals, type_names


def _fragments(english: str, french: str) -> set[str]:
    """The English words of a message that its French translation does not contain."""
    pieces = {p.strip() for p in PLACEHOLDER.split(english)}
    return {p for p in pieces if len(re.sub(r"\W", "", p)) >= 3 and p not in french}


@cache
def english_patterns() -> re.Pattern[str]:
    singles, plurals, type_names = click_strings()
    words: set[str] = set()
    for msgid in singles:
        words |= _fragments(msgid, click_fr.gettext(msgid))
    for singular, plural in plurals:
        french = " ".join(click_fr.ngettext(singular, plural, n) for n in (1, 2))
        words |= _fragments(singular, french) | _fragments(plural, french)
    # Not passed through gettext by click: type names (as words and as metavars), the
    # metavar of a group's subcommands, the environment-variable hint of an option.
    for name in type_names | {"file", "directory", "path"}:
        if click_fr.gettext(name) != name:
            words |= {name, name.upper()}
    words |= {"COMMAND [ARGS]", "[COMMAND]", "env var"}
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    # Not inside an option's name: `--token-file` is a name, not click's word "file".
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")


def assert_french(text: str) -> None:
    found = sorted(set(english_patterns().findall(text)))
    assert not found, f"English click strings {found} in:\n{text}"


# --- the catalogue ---------------------------------------------------------------------


def test_the_catalogue_translates_every_string_of_the_installed_click() -> None:
    singles, plurals, type_names = click_strings()
    assert len(singles) > 40 and len(plurals) > 5  # the source was really read
    assert singles - set(click_fr.MESSAGES) == set()
    assert plurals - set(click_fr.PLURALS) == set()
    assert type_names - set(click_fr.MESSAGES) == set()


def test_the_english_list_catches_what_click_prints_untranslated() -> None:
    """The detector itself: click's English output is caught, the French one is not."""
    english = "Usage: osteo synth [OPTIONS]\nTry 'osteo synth --help' for help.\n\n"
    assert english_patterns().findall(english + "Error: Missing option '--out'.")
    assert english_patterns().findall("  --seed INTEGER  Graine.  [default: 42]")
    assert english_patterns().findall("Usage : osteo [OPTIONS] COMMAND [ARGS]...")
    assert_french("Usage : osteo synth [OPTIONS]\nErreur : option manquante : '--out'.")


def test_french_plurals_use_the_singular_for_zero_and_one() -> None:
    singular, plural = (
        "Got unexpected extra argument ({args})",
        "Got unexpected extra arguments ({args})",
    )
    assert click_fr.ngettext(singular, plural, 0) == "argument en trop ({args})"
    assert click_fr.ngettext(singular, plural, 1) == "argument en trop ({args})"
    assert click_fr.ngettext(singular, plural, 2) == "arguments en trop ({args})"


def test_french_whatever_the_locale_variables() -> None:
    env = {"LANGUAGE": "en_US", "LC_ALL": "C.UTF-8", "LC_MESSAGES": "en_US", "LANG": "en_US"}
    result = osteo("synth", env=env)
    assert result.returncode == 2
    assert "Erreur : option manquante : '--out'." in result.stderr
    assert_french(result.stderr)


# --- help screens ------------------------------------------------------------------------


@pytest.mark.parametrize("path", [(), *ALL_COMMANDS], ids=lambda p: " ".join(p) or "osteo")
def test_every_help_screen_is_french(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="osteo")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage : osteo {' '.join(path)}".rstrip())
    assert "Options :" in result.output and "Afficher ce message et quitter." in result.output
    assert_french(result.output)


def test_the_real_command_prints_french_help_and_version() -> None:
    result = osteo("-h")
    assert result.returncode == 0, result.stderr
    for french in ("Usage : osteo [OPTIONS] COMMANDE [ARGS]...", "Commandes :"):
        assert french in result.stdout
    assert "Afficher la version et quitter." in result.stdout
    assert "[variable d'environnement : OSTEO_WORKSPACE]" in " ".join(result.stdout.split())
    assert_french(result.stdout)
    version = osteo("--version")
    assert (version.returncode, version.stdout) == (0, f"osteo, version {__version__}\n")


def test_a_group_without_a_command_shows_its_french_help() -> None:
    result = osteo("keys")
    assert result.returncode == 2
    assert result.stderr.startswith("Usage : osteo keys [OPTIONS] COMMANDE [ARGS]...")
    assert_french(result.stderr)


def _all_params() -> list[tuple[str, click.Parameter]]:
    found = [("osteo", p) for p in cli.params]
    for path in ALL_COMMANDS:
        command: click.Command = cli
        for name in path:
            assert isinstance(command, click.Group)
            command = command.commands[name]
        found += [(" ".join(path), p) for p in command.params]
    return found


def test_arguments_have_french_metavars_and_env_options_french_hints() -> None:
    """Click shows an argument as its Python name and adds an English env-var hint."""
    from osteo_analytics.cli.tools import EnvVarOption, Group

    for where, param in _all_params():
        if isinstance(param, click.Argument):
            assert param.metavar, f"osteo {where}: argument {param.name} needs a French metavar"
        if isinstance(param, click.Option) and param.show_envvar:
            assert isinstance(param, EnvVarOption), f"osteo {where} {param.opts[0]}"
    groups = [cli] + [c for c in cli.commands.values() if isinstance(c, click.Group)]
    assert all(isinstance(g, Group) for g in groups), "groups must be clitools.Group"


# --- usage errors ------------------------------------------------------------------------

USAGE_ERRORS = {
    "missing option": (["synth"], "option manquante : '--out'"),
    "option without its value": (["synth", "--out", "x", "--seed"], "« --seed » demande"),
    "no such option": (["metrics", "--form", "x"], "option inconnue : « --form »"),
    "no such command": (["metrixs"], "Vouliez-vous dire 'metrics' ?"),
    "missing command": (["--workspace", "."], "commande manquante"),
    "extra arguments": (["synth", "--out", "x", "a", "b"], "arguments en trop (a b)"),
    "bad choice": (["import", "--format", "xls", "f"], "« xls » n'est pas l'un de"),
    "bad integer": (["synth", "--out", "x", "--years", "trois"], "n'est pas un entier"),
    "bad number": (["synth", "--out", "x", "--scale", "z"], "n'est pas un nombre valide"),
    "bad date": (["metrics", "--from", "2024-13-01"], "ne correspond pas au format"),
    "directory for a file": (["import", "--suggest-mapping", "."], "est un dossier"),
    "file for a directory": (["--workspace", "pyproject.toml", "audit", "verify"], "fichier"),
}


@pytest.mark.parametrize("case", USAGE_ERRORS, ids=str)
def test_usage_errors_are_french_one_line_exit_2(case: str) -> None:
    args, expected = USAGE_ERRORS[case]
    result = osteo(*args)
    assert result.returncode == 2, result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Erreur : ")]
    assert len(errors) == 1 and result.stderr.rstrip().endswith(errors[0]), result.stderr
    assert expected in errors[0]
    if result.stderr.startswith("Usage"):
        usage, hint = result.stderr.splitlines()[:2]
        assert usage.startswith("Usage : osteo")
        assert re.fullmatch(r"Essayez « osteo[a-z ]* --help » pour l'aide\.", hint)
    assert_french(result.stderr)


def test_an_environment_variable_is_named_in_french_in_an_error() -> None:
    result = osteo("audit", "verify", env={"OSTEO_WORKSPACE": str(ROOT / "pyproject.toml")})
    assert result.returncode == 2
    assert "'--workspace' (variable d'environnement 'OSTEO_WORKSPACE')" in result.stderr
    assert_french(result.stderr)


# --- prompts -----------------------------------------------------------------------------


def _answers(answers: list[tuple[bytes, bytes]]) -> Callable[[bytes], bytes]:
    """What to type on the screen so far: each answer once its prompt shows up."""
    seen, pending = 0, list(answers)

    def answer(screen: bytes) -> bytes:
        nonlocal seen
        typed = b""
        while pending and (at := screen.find(pending[0][0], seen)) >= 0:
            seen = at + len(pending[0][0])
            typed += pending.pop(0)[1]
        return typed

    return answer


def test_prompts_and_their_errors_are_french(tmp_path: Path) -> None:
    code, screen = osteo_on_terminal(
        "init",
        workspace=tmp_path / "ws",
        answer=_answers(
            [
                (b"Nouvelle phrase de passe : ", b"cheval agrafe batterie\n"),
                (b"Confirmez : ", b"cheval agrafe pile\n"),
                (b"Nouvelle phrase de passe : ", b"\x04"),  # end of input: the user gives up
            ]
        ),
    )
    assert "Erreur : les deux saisies ne correspondent pas." in screen
    assert code == 1 and screen.rstrip().endswith("Erreur : interrompu."), screen
    assert "cheval" not in screen  # hidden input
    assert_french(screen)
    assert not (tmp_path / "ws").exists()

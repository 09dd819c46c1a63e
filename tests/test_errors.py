"""Library errors say what went wrong; only the surface (the command line here) says how to fix it.

A library message never names an `osteo` option, command or environment variable: a
dashboard would read it wrong. The error carries a `Hint` instead, and `cli.ADVICE` turns
each hint into command-line advice, so the user of `osteo` still reads how to fix it.
"""

from __future__ import annotations

import ast
import io
import re
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import click
import openpyxl
import pytest
from msoffcrypto.format.ooxml import OOXMLFile

from osteo_analytics import agent, backup, errors, exports, quarantine, snapshots, workspace
from osteo_analytics.cli import cli
from osteo_analytics.cli.messages import ADVICE, describe
from osteo_analytics.errors import Hint, OsteoError
from osteo_analytics.ingest import read_sources
from osteo_analytics.sources import ledger
from osteo_analytics.warehouse import open_warehouse
from tests.conftest import PASSPHRASE, ROOT, osteo

PACKAGE = ROOT / "osteo_analytics"
# The surface: the command line package is where advice naming options and commands belongs.
SURFACE = PACKAGE / "cli"


def _walk(group: click.Group, prefix: str = "osteo") -> Iterator[tuple[str, click.Command]]:
    for name, command in group.commands.items():
        yield f"{prefix} {name}", command
        if isinstance(command, click.Group):
            yield from _walk(command, f"{prefix} {name}")


@cache
def cli_names() -> re.Pattern[str]:
    """The command line's own words: its long options, its commands, its variables."""
    ctx = click.Context(cli)
    options = {o for p in cli.params for o in p.opts if o.startswith("--")}
    options |= {o for o in cli.get_help_option_names(ctx) if o.startswith("--")}
    commands = {"osteo --", "osteo -h"}
    for path, command in _walk(cli):
        commands.add(path)
        options |= {o for p in command.params for o in p.opts if o.startswith("--")}
    words = [rf"(?<![\w-]){re.escape(o)}(?![\w-])" for o in sorted(options)]
    words += [rf"\b{re.escape(c)}" for c in sorted(commands)]
    words.append(r"\bOSTEO_[A-Z_]+")
    return re.compile("|".join(words))


def _library_modules() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if not p.is_relative_to(SURFACE)]


def _strings(node: ast.AST, constants: dict[str, str]) -> Iterator[str]:
    for child in ast.walk(node):
        if isinstance(child, ast.Constant) and isinstance(child.value, str):
            yield child.value
        elif isinstance(child, ast.Name) and child.id in constants:
            yield constants[child.id]


def library_messages() -> list[tuple[str, str]]:
    """(where, text) of every string in a `raise`, or given to one of our error classes."""
    found: set[tuple[str, str]] = set()
    error_classes = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, OsteoError)
    }
    for path in _library_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {
            t.id: n.value.value
            for n in tree.body
            if isinstance(n, ast.Assign)
            and isinstance(n.value, ast.Constant)
            and isinstance(n.value.value, str)
            for t in n.targets
            if isinstance(t, ast.Name)
        }
        for node in ast.walk(tree):
            raised = node.exc if isinstance(node, ast.Raise) and node.exc else None
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in error_classes
            ):
                raised = node
            if raised is not None:
                where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
                found.update((where, text) for text in _strings(raised, constants))
    return sorted(found)


def test_the_scan_sees_the_library_messages_and_the_cli_words() -> None:
    texts = [t for _, t in library_messages()]
    assert len(texts) > 200
    assert any("phrase de passe incorrecte" in t for t in texts)
    assert any("format non reconnu" in t for t in texts)
    names = cli_names()
    for advice in ("précisez --format", "`osteo keys recover`", "OSTEO_EXCEL_PASSWORD"):
        assert names.search(advice), advice
    for innocent in ("--- titre", "osteo-analytics", "osteo plus récent", "Date, Patient"):
        assert not names.search(innocent), innocent


def test_no_library_message_names_a_cli_option_command_or_variable() -> None:
    found = [f"{where}: {text!r}" for where, text in library_messages() if cli_names().search(text)]
    assert not found, "advice for the command line belongs in cli.ADVICE:\n" + "\n".join(found)


def test_every_hint_has_command_line_advice() -> None:
    assert set(ADVICE) == set(Hint)
    for hint, advice in ADVICE.items():
        assert cli_names().search(advice), f"{hint}: the advice names no option or command"


# --- each hint, from a real error --------------------------------------------------------


def _csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _protected_workbook(path: Path, password: str) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Date", "Patient", "Montant"])
    plain = io.BytesIO()
    book.save(plain)
    plain.seek(0)
    out = io.BytesIO()
    OOXMLFile(plain).encrypt(password, out)
    path.write_bytes(out.getvalue())
    return path


def _unlocked(tmp: Path) -> workspace.Unlocked:
    return workspace.init_workspace(tmp / "ws", PASSPHRASE, work_factor=10).unlocked


def _wrong_passphrase(tmp: Path) -> None:
    root = _unlocked(tmp).workspace.root
    workspace.forget_unlocked()
    workspace.Workspace(root).unlock("pas la bonne phrase de passe")


def _broken_audit_tail(tmp: Path) -> None:
    unlocked = _unlocked(tmp)
    with unlocked.workspace.audit_path.open("a", encoding="ascii") as log:
        log.write('{"action": "import"')  # a write cut short
    unlocked.audit().append("import", actor="cli")


def _unknown_practitioner(tmp: Path) -> None:
    from osteo_analytics.metrics import revenue
    from tests.test_metrics import hand_workspace

    with open_warehouse(hand_workspace(tmp / "ws")) as wh:
        revenue(wh, practitioners="PR-NOBODY")


def _not_an_audit_entry(tmp: Path) -> None:
    unlocked = _unlocked(tmp)
    with unlocked.workspace.audit_path.open("a", encoding="ascii") as log:
        log.write('{"mac": "not a mac"}\n')
    unlocked.audit().append("import", actor="cli")


def _backup_destination_twice(tmp: Path) -> None:
    unlocked = _unlocked(tmp)
    (tmp / "disque").mkdir()
    backup.add(unlocked, "disque", tmp / "disque")
    backup.add(unlocked, "disque", tmp / "disque")


TRIGGERS: dict[str, tuple[Hint, Callable[[Path], object]]] = {
    "unknown format": (
        Hint.CHOOSE_FORMAT,
        lambda tmp: read_sources([_csv(tmp / "notes.txt", "rien à voir\n")]),
    ),
    "not a LibreOsteo export": (
        Hint.CHOOSE_FORMAT,
        lambda tmp: read_sources([_csv(tmp / "a.csv", "x;y\n1;2\n")], "libreosteo"),
    ),
    "generic without mapping": (
        Hint.MAPPING_REQUIRED,
        lambda tmp: read_sources([_csv(tmp / "a.csv", "Nom;Date\nA;2024-01-02\n")], "generic"),
    ),
    "mapping for another format": (
        Hint.MAPPING_WITHOUT_GENERIC,
        lambda tmp: read_sources([_csv(tmp / "a.csv", "x\n")], "ledger", mapping=tmp / "m.yaml"),
    ),
    "ledger without header": (
        Hint.DESCRIBE_COLUMNS,
        lambda tmp: ledger.read([_csv(tmp / "recettes.csv", "bonjour\nau revoir\n")]),
    ),
    "protected workbook, no password": (
        Hint.EXCEL_PASSWORD,
        lambda tmp: ledger.read([_protected_workbook(tmp / "r.xlsx", "Sésame")]),
    ),
    "protected workbook, wrong password": (
        Hint.EXCEL_PASSWORD_WRONG,
        lambda tmp: ledger.read(
            [_protected_workbook(tmp / "r.xlsx", "Sésame")], password=lambda _: "faux"
        ),
    ),
    "no workspace": (
        Hint.CREATE_WORKSPACE,
        lambda tmp: workspace.Workspace(tmp / "nothing").unlock(PASSPHRASE),
    ),
    "wrong passphrase": (Hint.RECOVER_PASSPHRASE, _wrong_passphrase),
    "no snapshot to read": (
        Hint.IMPORT_FIRST,
        lambda tmp: snapshots.read_snapshot(tmp, []),
    ),
    "no snapshot to analyse": (Hint.IMPORT_FIRST, lambda tmp: open_warehouse(_unlocked(tmp))),
    "audit log cut short": (Hint.VERIFY_AUDIT, _broken_audit_tail),
    "audit log with a foreign last line": (Hint.VERIFY_AUDIT, _not_an_audit_entry),
    "unknown quarantine set": (
        Hint.LIST_QUARANTINES,
        lambda tmp: quarantine.set_folder(_unlocked(tmp).workspace, "20240101T000000000000Z"),
    ),
    "not a quarantine stamp": (
        Hint.LIST_QUARANTINES,
        lambda tmp: quarantine.set_folder(_unlocked(tmp).workspace, "../keys"),
    ),
    "a notebook opened without its server": (Hint.AGENT, lambda tmp: agent.connect({})),
    "the server's agent is gone": (
        Hint.AGENT,
        lambda tmp: agent.fetch_secrets(tmp / "agent.sock"),
    ),
    "unknown practitioner": (Hint.LIST_PRACTITIONERS, _unknown_practitioner),
    "a FEC without SIREN": (Hint.GIVE_SIREN, lambda tmp: exports.siren_of("", None)),
    "a practitioner without SIREN": (
        Hint.GIVE_SIREN,
        lambda tmp: exports.siren_of({"PR-A": "732829320"}, "PR-B"),
    ),
    "a cabinet's FEC under two SIRENs": (
        Hint.CHOOSE_PRACTITIONER,
        lambda tmp: exports.siren_of({"PR-A": "732829320", "PR-B": "552100554"}, None),
    ),
    "no backup destination": (Hint.ADD_BACKUP, lambda tmp: backup.run(_unlocked(tmp))),
    "a backup destination added twice": (Hint.LIST_BACKUPS, _backup_destination_twice),
}


def test_every_hint_is_triggered_below() -> None:
    assert {hint for hint, _ in TRIGGERS.values()} == set(Hint)


@pytest.mark.parametrize("case", TRIGGERS, ids=str)
def test_a_real_error_says_what_and_the_cli_says_how(case: str, tmp_path: Path) -> None:
    hint, trigger = TRIGGERS[case]
    with pytest.raises(OsteoError) as caught:
        trigger(tmp_path)
    error = caught.value
    message = str(error)
    assert error.hint is hint
    assert "\n" not in message and not cli_names().search(message), message
    line = describe(error)
    assert line.startswith(message) and cli_names().search(line[len(message) :]), line


def test_an_error_without_hint_is_shown_as_is() -> None:
    error = errors.InputError("a.csv : fichier vide")
    assert error.hint is None and describe(error) == "a.csv : fichier vide"


# --- what the user of `osteo` reads --------------------------------------------------------


@pytest.fixture(scope="module")
def empty_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("errors") / "ws"
    workspace.init_workspace(root, PASSPHRASE, work_factor=10)
    return root


def _one_error_line(stderr: str) -> str:
    (line,) = stderr.strip().splitlines()
    assert line.startswith("Erreur : ") and "Traceback" not in stderr
    return line


def test_osteo_advises_osteo_init_for_a_missing_workspace(tmp_path: Path) -> None:
    result = osteo("audit", "verify", workspace=tmp_path / "nothing")
    assert result.returncode == 1
    line = _one_error_line(result.stderr)
    assert line.startswith("Erreur : aucun espace de travail dans ")
    assert line.endswith(" : créez-le avec `osteo init` ou indiquez le bon avec --workspace")


def test_osteo_advises_osteo_import_before_metrics(empty_workspace: Path) -> None:
    result = osteo("metrics", workspace=empty_workspace, env={"OSTEO_PASSPHRASE": PASSPHRASE})
    assert result.returncode == 1
    assert _one_error_line(result.stderr) == (
        "Erreur : aucun instantané : rien n'a encore été importé ;"
        " importez d'abord des données avec `osteo import`"
    )


@pytest.mark.parametrize(
    ("args", "advice"),
    [
        (["--format", "generic"], ": ajoutez --mapping M.yaml (un brouillon : osteo import"),
        ([], "format non reconnu (formats connus : "),
        (["--format", "ledger", "--mapping", "m.yaml"], " : retirez --mapping ou ajoutez"),
    ],
    ids=["generic needs --mapping", "unknown format", "--mapping needs generic"],
)
def test_osteo_import_advises_its_options(
    empty_workspace: Path, tmp_path: Path, args: list[str], advice: str
) -> None:
    sheet = _csv(tmp_path / "tableau.txt", "Nom;Date\nA;2024-01-02\n")
    result = osteo(
        "import",
        str(sheet),
        *args,
        workspace=empty_workspace,
        env={"OSTEO_PASSPHRASE": PASSPHRASE},
    )
    assert result.returncode == 2
    line = _one_error_line(result.stderr)
    assert advice in line
    if not args:
        assert line.endswith(" ; précisez le format avec --format")

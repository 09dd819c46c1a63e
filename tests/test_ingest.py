"""The import pipeline through the real CLI: accounting, idempotence, quarantine, audit."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from osteo_analytics import snapshots, vault, workspace
from osteo_analytics.ingest import import_paths
from tests.conftest import PASSPHRASE, osteo, osteo_json, osteo_ok, osteo_on_terminal

ENV = {"OSTEO_PASSPHRASE": PASSPHRASE}


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory, libreosteo_sample: Path) -> dict:
    """A workspace made by `osteo init`, with the LibreOsteo sample imported by `osteo import`."""
    ws = tmp_path_factory.mktemp("ingest") / "ws"
    init = osteo_ok("init", workspace=ws, env=ENV)
    first = osteo_json("import", str(libreosteo_sample), "--json", workspace=ws, env=ENV)
    again = osteo_json("import", str(libreosteo_sample), "--json", workspace=ws, env=ENV)
    return {"ws": ws, "init": init, "first": first, "again": again}


def test_init_prints_the_recovery_code_once_and_no_secret(imported: dict) -> None:
    out = imported["init"].stdout
    assert "CODE DE SECOURS" in out
    assert PASSPHRASE not in out + imported["init"].stderr
    assert "AGE-SECRET-KEY" not in out


def test_the_json_summary_has_the_documented_shape(imported: dict) -> None:
    summary = imported["first"]
    assert set(summary) == {"snapshot", "changed", "quarantine", "rows", "files"}
    assert summary["changed"] is True and summary["quarantine"] is None
    assert summary["rows"] == {
        "practitioners": 2,
        "patients": 40,
        "consultations": 250,
        "invoices": 244,
        "payments": 241,
    }
    for f in summary["files"]:
        assert set(f) == {
            "path",
            "format",
            "rows_read",
            "accepted",
            "quarantined",
            "duplicates",
            "excluded",
            "conflicts",
            "reasons",
        }
        # Nothing lost: every row read is accounted for.
        assert f["rows_read"] == f["accepted"] + f["quarantined"] + f["duplicates"] + f["excluded"]
        assert f["conflicts"] == 0  # a first import replaces nothing
        assert sum(f["reasons"].values()) == f["quarantined"] + f["duplicates"] + f["excluded"]


def test_reimporting_the_same_export_changes_nothing(imported: dict) -> None:
    first, again = imported["first"], imported["again"]
    assert again["changed"] is False
    assert again["snapshot"] == first["snapshot"]
    assert again["rows"] == first["rows"]
    assert all(f["accepted"] == 0 and f["duplicates"] == f["rows_read"] for f in again["files"])
    assert snapshots.list_snapshots(imported["ws"] / "snapshots") == [first["snapshot"]]


def test_the_audit_log_records_init_and_both_imports(imported: dict) -> None:
    result = osteo("audit", "verify", workspace=imported["ws"], env=ENV)
    assert result.returncode == 0, result.stderr
    assert "3 entrées" in result.stdout
    lines = (imported["ws"] / "audit.log").read_text().splitlines()
    assert [json.loads(line)["action"] for line in lines] == ["init", "import", "import"]
    assert json.loads(lines[1])["counts"]["rows_read"] == sum(
        f["rows_read"] for f in imported["first"]["files"]
    )


def test_a_tampered_audit_log_fails_verify_with_exit_1(imported: dict, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(imported["ws"], ws)
    log = ws / "audit.log"
    lines = log.read_text().splitlines()
    lines[1] = lines[1].replace('"import"', '"imp0rt"')
    log.write_text("\n".join(lines) + "\n")
    result = osteo("audit", "verify", workspace=ws, env=ENV)
    assert result.returncode == 1
    assert result.stderr == (
        "Erreur : journal d'audit rompu à la ligne 2 : ligne modifiée ou forgée, ou clé d'un "
        "autre espace de travail ; restaurez audit.log depuis une sauvegarde et cherchez qui "
        "l'a modifié\n"
    )


def test_wrong_passphrase_is_one_line_exit_1(imported: dict) -> None:
    result = osteo(
        "import",
        "x",
        workspace=imported["ws"],
        env={"OSTEO_PASSPHRASE": "mauvaise phrase de passe"},
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Erreur : phrase de passe incorrecte "
        "(oubliée ? `osteo keys recover` avec le code de secours)"
    ]


def test_no_passphrase_and_no_terminal_is_bad_usage(imported: dict) -> None:
    result = osteo("audit", "verify", workspace=imported["ws"])
    assert result.returncode == 2
    assert "OSTEO_PASSPHRASE" in result.stderr


def test_a_missing_path_is_exit_2(imported: dict) -> None:
    result = osteo("import", "/nonexistent/export.csv", workspace=imported["ws"], env=ENV)
    assert result.returncode == 2
    assert "introuvable" in result.stderr and "Traceback" not in result.stderr


def test_a_broken_row_goes_to_the_encrypted_quarantine(
    tmp_path: Path, libreosteo_sample: Path
) -> None:
    """A regular invoice with a negative amount breaks the contract; the rest is imported."""
    export = tmp_path / "export"
    export.mkdir()
    for name in ("patients.csv", "examinations.csv", "invoices.csv"):
        shutil.copy(libreosteo_sample / name, export / name)
    with (export / "invoices.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    amount, kind = header.index("montant"), header.index("type")
    target = next(i for i, r in enumerate(rows) if i and r[kind] == "invoice")
    rows[target][amount] = "-" + rows[target][amount]
    with (export / "invoices.csv").open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\r\n").writerows(rows)

    unlocked = workspace.init_workspace(tmp_path / "ws", PASSPHRASE, work_factor=10).unlocked
    result = import_paths(unlocked, [export])
    invoices = next(f for f in result.files if f.path.name == "invoices.csv")
    assert invoices.quarantined == 1
    assert invoices.rows_read == invoices.accepted + invoices.quarantined + invoices.duplicates
    (rule,) = (r for r in invoices.reasons if r not in ("duplicate", "already_imported"))
    assert rule == "negative_only_for_credit_note"
    assert result.quarantine is not None
    files = sorted((unlocked.workspace.quarantine_dir / result.quarantine).iterdir())
    assert [p.name for p in files] == ["invoices.parquet.age"]
    plain = vault.decrypt(files[0].read_bytes(), unlocked.identities)
    import pyarrow as pa
    import pyarrow.parquet as pq

    rejected = pq.read_table(pa.BufferReader(plain))
    assert rejected.column("source_row").to_pylist() == [target + 1]  # header is row 1
    assert rejected.column("rule").to_pylist() == [rule]
    assert "patient_family_name" not in rejected.column_names


def test_a_terminal_sees_a_progress_bar_and_the_summary_table(
    tmp_path: Path, libreosteo_sample: Path
) -> None:
    ws = tmp_path / "ws"
    workspace.init_workspace(ws, PASSPHRASE, work_factor=10)
    env = {**ENV, "COLUMNS": "120", "TERM": "xterm"}
    code, text = osteo_on_terminal("import", str(libreosteo_sample), workspace=ws, env=env)
    assert code == 0, text
    assert "Import : " in text  # the bar, drawn on stderr while working
    assert "examinations.xlsx" in text and "Nouvel instantané" in text


def test_lines_cut_from_the_end_of_the_audit_log_are_detected(
    tmp_path: Path, libreosteo_sample: Path
) -> None:
    """The hash chain cannot see a truncated tail; the checkpoint in the manifest can."""
    unlocked = workspace.init_workspace(tmp_path / "ws", PASSPHRASE, work_factor=10).unlocked
    import_paths(unlocked, [libreosteo_sample / "patients.csv"])
    # The second snapshot's manifest records the log as it was: init + first import.
    import_paths(unlocked, [libreosteo_sample])
    log = unlocked.workspace.audit_path
    lines = log.read_text().splitlines()
    assert len(lines) == 3
    log.write_text(lines[0] + "\n")  # keep `init` only: the chain alone is still valid
    assert unlocked.audit().verify().ok
    result = osteo("audit", "verify", workspace=unlocked.workspace.root, env=ENV)
    assert result.returncode == 1
    assert "ligne 2" in result.stderr and "supprimées" in result.stderr

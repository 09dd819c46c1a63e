"""Invariants 1 and 3: nothing readable on disk, nothing identifying in the snapshots."""

from __future__ import annotations

import csv
import os
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from osteo_analytics import snapshots, workspace
from tests.conftest import PASSPHRASE, ROOT, osteo

# Built at run time so that this file itself does not hold the marker the scan looks for.
MARKER = "Kervoëllec-" + "qramïaZ"[::-1]
# The scan's self-check plants another name of the same kind: a test running at the same
# time (another worker) must not find the planted file in the shared temporary folder.
PROBE = "Plounéour-" + "kevïuQ"[::-1]
# Clinical and contact columns of LibreOsteo's CSV exports: none of their values may
# survive pseudonymization, not even as a fragment.
PII_COLUMNS = {
    "patients.csv": [
        "family_name",
        "original_name",
        "first_name",
        "address_street",
        "address_complement",
        "email",
        "phone",
        "mobile_phone",
        "job",
        "hobbies",
        "important_info",
        "current_treatment",
        "surgical_history",
        "medical_history",
        "family_history",
        "trauma_history",
        "medical_reports",
    ],
    "examinations.csv": [
        "patient_detail.first_name",
        "patient_detail.family_name",
        "reason",
        "reason_description",
        "orl",
        "visceral",
        "pulmo",
        "uro_gyneco",
        "periphery",
        "general_state",
        "medical_examination",
        "diagnosis",
        "treatments",
        "conclusion",
    ],
}


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def pii_values(export: Path) -> set[str]:
    """Every identifying or clinical value of the export, and each line of free text."""
    values: set[str] = set()
    for name, columns in PII_COLUMNS.items():
        for row in _csv_rows(export / name):
            for column in columns:
                text = (row.get(column) or "").strip()
                values.update(line.strip() for line in text.splitlines())
                values.add(text)
    return {v for v in values if len(v) >= 5}


# The practitioners' own names are kept by design (professional, not health data); they
# are checked separately, so that a patient who shares a surname does not look like a leak.
KEPT_BY_DESIGN = {("practitioners", "display_name")}


def decrypted_strings(unlocked: workspace.Unlocked) -> Iterator[str]:
    """Every string cell of the current snapshot (decrypted in memory) but KEPT_BY_DESIGN."""
    tables = snapshots.read_snapshot(unlocked.workspace.snapshots_dir, unlocked.identities)
    con = duckdb.connect(":memory:")
    for name, table in tables.items():
        con.register(name, table)
        for field in table.schema:
            if str(field.type) == "string" and (name, field.name) not in KEPT_BY_DESIGN:
                for (value,) in con.execute(
                    f'SELECT DISTINCT "{field.name}" FROM {name} WHERE "{field.name}" IS NOT NULL'
                ).fetchall():
                    yield value


def fold(text: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c)
    )


def test_no_identifying_value_of_the_export_is_in_any_snapshot_column(
    tmp_path: Path, libreosteo_sample: Path
) -> None:
    unlocked = workspace.init_workspace(tmp_path / "ws", PASSPHRASE, work_factor=10).unlocked
    from osteo_analytics.ingest import import_paths

    import_paths(unlocked, [libreosteo_sample])
    secrets = pii_values(libreosteo_sample)
    assert len(secrets) > 300  # the scan has something to find
    stored = list(decrypted_strings(unlocked))
    assert len(stored) > 500
    blob = "\n".join(fold(s) for s in stored)
    leaks = sorted(s for s in secrets if fold(s) in blob)
    assert leaks == []
    tables = snapshots.read_snapshot(unlocked.workspace.snapshots_dir, unlocked.identities)
    therapists = {
        f"{r['therapeut_detail.first_name']} {r['therapeut_detail.last_name']}"
        for r in _csv_rows(libreosteo_sample / "examinations.csv")
    }
    assert set(tables["practitioners"].column("display_name").to_pylist()) == therapists


def _with_marker(sample: Path, target: Path) -> None:
    """The three CSV files LibreOsteo serves, with one patient renamed to the marker."""
    target.mkdir()
    names = ("patients.csv", "examinations.csv", "invoices.csv")
    texts = {name: (sample / name).read_bytes().decode("utf-8") for name in names}
    victim = next(
        row["family_name"]
        for row in _csv_rows(sample / "patients.csv")
        if all(texts[name].count(row["family_name"]) >= 2 for name in names[1:])
    )
    for name, text in texts.items():
        (target / name).write_bytes(text.replace(victim, MARKER).encode("utf-8"))


def _needles(marker: str) -> list[bytes]:
    forms = {marker, marker.upper(), marker.lower(), fold(marker), fold(marker).replace("-", " ")}
    out = []
    for form in forms:
        for encoding in ("utf-8", "utf-16-le", "latin-1"):
            out.append(form.encode(encoding))
    return out


def _files(root: Path, *, since: float | None, skip: tuple[Path, ...]) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if not any((here / d) == s for s in skip)]
        for filename in filenames:
            path = here / filename
            try:
                if not path.is_file() or path.is_symlink():
                    continue
                if since is not None and path.stat().st_mtime < since:
                    continue
            except OSError:
                continue
            yield path


def _containing_marker(paths: Iterator[Path], marker: str = MARKER) -> list[Path]:
    needles = _needles(marker)
    found = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if any(n in data for n in needles):
            found.append(path)
    return found


def test_no_plaintext_anywhere_on_disk_after_an_import(
    tmp_path: Path, libreosteo_sample: Path
) -> None:
    """Import with the real CLI, then look for the marker patient everywhere we may write."""
    start = time.time() - 1
    export = tmp_path / "export"  # the practitioner's own files: plaintext by nature
    _with_marker(libreosteo_sample, export)
    ws = tmp_path / "ws"
    env = {"OSTEO_PASSPHRASE": PASSPHRASE}
    assert osteo("init", workspace=ws, env=env).returncode == 0
    result = osteo("import", str(export), "--json", workspace=ws, env=env)
    assert result.returncode == 0, result.stderr
    assert osteo("import", str(export), workspace=ws, env=env).returncode == 0  # re-import too

    assert MARKER not in result.stdout + result.stderr
    skip = (export, ROOT / ".venv", ROOT / ".git")
    found = _containing_marker(_files(ws, since=None, skip=skip))
    found += _containing_marker(_files(ROOT, since=None, skip=skip))
    found += _containing_marker(_files(Path(tempfile.gettempdir()), since=start, skip=skip))
    found += _containing_marker(_files(Path.home(), since=start, skip=skip))
    assert found == []
    # The scan can see the marker where it is: in the export, in clear.
    assert _containing_marker(_files(export, since=None, skip=())) != []


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "latin-1"])
def test_the_scan_finds_the_marker_in_each_encoding(tmp_path: Path, encoding: str) -> None:
    (tmp_path / "leak.bin").write_bytes(b"\x00" + PROBE.encode(encoding) + b"\x00")
    found = _containing_marker(_files(tmp_path, since=None, skip=()), PROBE)
    assert found == [tmp_path / "leak.bin"]

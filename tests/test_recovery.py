"""README "Recover your data without this software", step by step, with standard tools only.

The workspace is made by the real `osteo` command (subprocess); the recovery itself runs
`age`, `restic` and DuckDB and never imports osteo_analytics (checked inside the reading
process). The restic drill runs the README's block itself, so the README cannot drift.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.agetty import run_age_with_terminal, run_on_terminal
from tests.conftest import PASSPHRASE, ROOT, digests, osteo

READ_WITH_DUCKDB = """
import json, sys
import duckdb
query = "SELECT count(*), count(DISTINCT patient_key) FROM 'patients.parquet'"
rows = duckdb.sql(query).fetchall()[0]
assert not [m for m in sys.modules if m.startswith("osteo_analytics")]
print(json.dumps(rows))
"""


def test_recover_a_snapshot_with_the_recovery_code_age_and_duckdb(
    tmp_path: Path, libreosteo_sample: Path
) -> None:
    ws = tmp_path / "ws"
    env = {"OSTEO_PASSPHRASE": PASSPHRASE}
    init = osteo("init", workspace=ws, env=env)
    assert init.returncode == 0, init.stderr
    code = re.search(r"^\s+([0-9A-Z]{5}(?:-[0-9A-Z]{5}){5})\s*$", init.stdout, re.M)
    assert code, init.stdout
    imported = osteo("import", str(libreosteo_sample), workspace=ws, env=env)
    assert imported.returncode == 0, imported.stderr

    # The passphrase is forgotten; the recovery code on paper is all we have.
    work = tmp_path / "recovered"
    work.mkdir()
    # 1. age -d the recovery file with the recovery code → an age identity file.
    run_age_with_terminal(
        ["-d", "-o", str(work / "identity.txt"), str(ws / "keys/identity.recovery.age")],
        code.group(1),
    )
    assert "AGE-SECRET-KEY-1" in (work / "identity.txt").read_text()
    # 2. age -d -i a snapshot file (and its manifest).
    current = (ws / "snapshots/CURRENT").read_text().strip()
    for name, out in (
        ("patients.parquet.age", "patients.parquet"),
        ("manifest.json.age", "m.json"),
    ):
        subprocess.run(
            ["age", "-d", "-i", "identity.txt", "-o", out, str(ws / "snapshots" / current / name)],
            cwd=work,
            check=True,
            capture_output=True,
        )
    manifest = json.loads((work / "m.json").read_text())
    # 3. Read the Parquet with DuckDB.
    result = subprocess.run(
        [sys.executable, "-c", READ_WITH_DUCKDB],
        cwd=work,
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "HOME": str(work)},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [40, 40]
    assert sum(f["rows"] for f in manifest["files"] if f["dataset"] == "patients") == 40


# Every file of the manifest decrypted with age, each Parquet counted with DuckDB; prints
# the files whose count differs from the manifest (none expected) and the total.
COUNT_EVERY_FILE = """
import json, subprocess, sys
import duckdb
manifest = json.load(open("manifest.json"))
folder = "workspace/snapshots/" + manifest["snapshot"]
wrong, total = [], 0
for entry in manifest["files"]:
    subprocess.run(["age", "-d", "-i", "identity.txt", "-o", "f.parquet",
                    folder + "/" + entry["name"]], check=True)
    rows = duckdb.sql("SELECT count(*) FROM 'f.parquet'").fetchall()[0][0]
    total += rows
    if rows != entry["rows"]:
        wrong.append(entry["name"])
assert not [m for m in sys.modules if m.startswith("osteo_analytics")]
print(json.dumps({"wrong": wrong, "total": total, "files": len(manifest["files"])}))
"""


def _readme_block(heading: str) -> str:
    """The first bash block of the README section `heading`."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split(f"\n{heading}\n", 1)[1]
    return section.split("```bash\n", 1)[1].split("```", 1)[0]


def test_recover_from_a_backup_with_the_recovery_code_age_restic_and_duckdb(
    tmp_path: Path, libreosteo_sample: Path
) -> None:
    ws, usb = tmp_path / "ws", tmp_path / "usb"
    usb.mkdir()
    env = {"OSTEO_PASSPHRASE": PASSPHRASE}
    init = osteo("init", workspace=ws, env=env)
    assert init.returncode == 0, init.stderr
    code = re.search(r"^\s+([0-9A-Z]{5}(?:-[0-9A-Z]{5}){5})\s*$", init.stdout, re.M)
    assert code, init.stdout
    for args in (("import", str(libreosteo_sample)), ("backup", "add", "usb", str(usb))):
        done = osteo(*args, workspace=ws, env=env)
        assert done.returncode == 0, done.stderr
    assert osteo("backup", "run", workspace=ws, env=env).returncode == 0
    (destination,) = usb.glob("osteo-analytics-*")

    # The computer is lost: the destination and the recovery code on paper are all we have.
    script = _readme_block("### From a backup, when the computer is lost")
    script, replaced = re.subn(r"^DEST=.*$", f"DEST='{destination}'", script, flags=re.M)
    assert replaced == 1
    answered = 0

    def type_the_code(screen: bytes) -> bytes:
        nonlocal answered
        prompts = screen.lower().count(b"passphrase")
        typed = (code.group(1).encode() + b"\n") * (prompts - answered)
        answered = max(answered, prompts)
        return typed

    clean = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",  # python3 with duckdb
        "HOME": str(tmp_path),
    }
    status, screen = run_on_terminal(
        ["bash", "-euo", "pipefail", "-c", script], type_the_code, env=clean, cwd=tmp_path
    )
    assert status == 0, screen
    assert re.search(r"│\s+40\s+│", screen), screen  # DuckDB's table: 40 patients

    work = tmp_path / "recovered"
    result = subprocess.run(
        [sys.executable, "-c", COUNT_EVERY_FILE],
        cwd=work,
        capture_output=True,
        text=True,
        env=clean,
    )
    assert result.returncode == 0, result.stderr
    counted = json.loads(result.stdout)
    manifest = json.loads((work / "manifest.json").read_text())
    assert counted["wrong"] == [] and counted["files"] == len(manifest["files"]) > 4
    assert counted["total"] == sum(f["rows"] for f in manifest["files"])
    # The restored workspace is the one backed up, byte for byte.
    assert digests(work / "workspace" / "snapshots") == digests(ws / "snapshots")

"""README "Recover your data without this software", step by step, with standard tools only.

The workspace is made by the real `osteo` command (subprocess); the recovery itself runs
`age` and DuckDB and never imports osteo_analytics (checked inside the reading process).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.agetty import run_age_with_terminal
from tests.conftest import PASSPHRASE, osteo

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

"""`osteo keys passwd | recover | rotate` through the real command line."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.conftest import PASSPHRASE, osteo

NEW = "granit tilleul marée orange"
CODE = re.compile(r"^\s+([0-9A-Z]{5}(?:-[0-9A-Z]{5}){5})\s*$", re.M)


def test_passwd_recover_rotate(tmp_path: Path, libreosteo_sample: Path) -> None:
    ws = tmp_path / "ws"

    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """`osteo *args` on this workspace, with the environment variables `env` only."""
        return osteo(*args, workspace=ws, env=env)

    init = run("init", OSTEO_PASSPHRASE=PASSPHRASE)
    assert init.returncode == 0, init.stderr
    (code,) = CODE.findall(init.stdout)
    assert run("import", str(libreosteo_sample), OSTEO_PASSPHRASE=PASSPHRASE).returncode == 0

    weak = run("keys", "passwd", OSTEO_PASSPHRASE=PASSPHRASE, OSTEO_NEW_PASSPHRASE="azerty2024")
    assert weak.returncode == 2 and "trop courte" in weak.stderr
    changed = run("keys", "passwd", OSTEO_PASSPHRASE=PASSPHRASE, OSTEO_NEW_PASSPHRASE=NEW)
    assert changed.returncode == 0, changed.stderr
    old = run("audit", "verify", OSTEO_PASSPHRASE=PASSPHRASE)
    assert old.returncode == 1 and "phrase de passe incorrecte" in old.stderr

    # Forgotten passphrase: the code from paper, typed in lower case with spaces.
    typed = code.lower().replace("-", " ")
    recovered = run("keys", "recover", OSTEO_RECOVERY_CODE=typed, OSTEO_NEW_PASSPHRASE=PASSPHRASE)
    assert recovered.returncode == 0, recovered.stderr
    assert code not in recovered.stdout + recovered.stderr

    rotated = run("keys", "rotate", OSTEO_PASSPHRASE=PASSPHRASE)
    assert rotated.returncode == 0, rotated.stderr
    (new_code,) = CODE.findall(rotated.stdout)
    assert new_code != code
    stale = run("keys", "recover", OSTEO_RECOVERY_CODE=code, OSTEO_NEW_PASSPHRASE=NEW)
    assert stale.returncode == 1 and "code de secours incorrect" in stale.stderr
    again = run("import", str(libreosteo_sample), "--json", OSTEO_PASSPHRASE=PASSPHRASE)
    assert again.returncode == 0, again.stderr
    assert '"changed": false' in again.stdout  # rotated snapshot readable, pseudonyms unchanged
    verify = run("audit", "verify", OSTEO_PASSPHRASE=PASSPHRASE)
    assert verify.returncode == 0 and "6 entrées" in verify.stdout, verify.stdout + verify.stderr

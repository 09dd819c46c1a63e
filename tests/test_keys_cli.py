"""`osteo keys passwd | recover | rotate` through the real command line."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import PASSPHRASE, osteo

NEW = "granit tilleul marée orange"
CODE = re.compile(r"^\s+([0-9A-Z]{5}(?:-[0-9A-Z]{5}){5})\s*$", re.M)


def test_passwd_recover_rotate(tmp_path: Path, libreosteo_sample: Path) -> None:
    ws = tmp_path / "ws"
    init = osteo("init", workspace=ws, env={"OSTEO_PASSPHRASE": PASSPHRASE})
    assert init.returncode == 0, init.stderr
    (code,) = CODE.findall(init.stdout)
    assert (
        osteo(
            "import", str(libreosteo_sample), workspace=ws, env={"OSTEO_PASSPHRASE": PASSPHRASE}
        ).returncode
        == 0
    )

    weak = osteo(
        "keys",
        "passwd",
        workspace=ws,
        env={"OSTEO_PASSPHRASE": PASSPHRASE, "OSTEO_NEW_PASSPHRASE": "azerty2024"},
    )
    assert weak.returncode == 2 and "trop courte" in weak.stderr
    changed = osteo(
        "keys",
        "passwd",
        workspace=ws,
        env={"OSTEO_PASSPHRASE": PASSPHRASE, "OSTEO_NEW_PASSPHRASE": NEW},
    )
    assert changed.returncode == 0, changed.stderr
    old = osteo("audit", "verify", workspace=ws, env={"OSTEO_PASSPHRASE": PASSPHRASE})
    assert old.returncode == 1 and "phrase de passe incorrecte" in old.stderr

    # Forgotten passphrase: the code from paper, typed in lower case with spaces.
    typed = code.lower().replace("-", " ")
    recovered = osteo(
        "keys",
        "recover",
        workspace=ws,
        env={"OSTEO_RECOVERY_CODE": typed, "OSTEO_NEW_PASSPHRASE": PASSPHRASE},
    )
    assert recovered.returncode == 0, recovered.stderr
    assert code not in recovered.stdout + recovered.stderr

    rotated = osteo("keys", "rotate", workspace=ws, env={"OSTEO_PASSPHRASE": PASSPHRASE})
    assert rotated.returncode == 0, rotated.stderr
    (new_code,) = CODE.findall(rotated.stdout)
    assert new_code != code
    stale = osteo(
        "keys",
        "recover",
        workspace=ws,
        env={"OSTEO_RECOVERY_CODE": code, "OSTEO_NEW_PASSPHRASE": NEW},
    )
    assert stale.returncode == 1 and "code de secours incorrect" in stale.stderr
    again = osteo(
        "import",
        str(libreosteo_sample),
        "--json",
        workspace=ws,
        env={"OSTEO_PASSPHRASE": PASSPHRASE},
    )
    assert again.returncode == 0, again.stderr
    assert '"changed": false' in again.stdout  # rotated snapshot readable, pseudonyms unchanged
    verify = osteo("audit", "verify", workspace=ws, env={"OSTEO_PASSPHRASE": PASSPHRASE})
    assert verify.returncode == 0 and "6 entrées" in verify.stdout, verify.stdout + verify.stderr

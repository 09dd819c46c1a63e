"""The wheel stands alone: built, installed into a fresh venv outside the checkout, used.

A regular (non-editable) install must carry everything the package reads at run time: the
data contracts (kept once at the repository's top level, `data_contracts/`), the metric SQL
files and the mapping example. The fresh venv gets the wheel and nothing of the checkout;
its third-party dependencies are those of the test environment (a `.pth` line adds their
folder after the venv's own site-packages, so the wheel's `osteo_analytics` is the one
imported), which keeps the test offline and fast while proving the wheel's own content.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, ROOT, osteo, osteo_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a copy of the files git knows (tracked or new, not ignored): setuptools
    # leaves a build/ folder in the source tree, which must neither be polluted nor reused.
    source = tmp_path_factory.mktemp("source")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
        cwd=ROOT,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=out,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    (path,) = out.glob("osteo_analytics-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the wheel; returns its bin folder."""
    home = tmp_path_factory.mktemp("fresh")
    env_dir = home / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=home,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return env_dir / "bin"


def test_the_wheel_carries_contracts_sql_and_mapping_example(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for contract in sorted((ROOT / "data_contracts").glob("*.odcs.yaml")):
        assert f"osteo_analytics/data_contracts/{contract.name}" in names
    for sql in sorted((ROOT / "osteo_analytics" / "metrics" / "sql").glob("*.sql")):
        assert f"osteo_analytics/metrics/sql/{sql.name}" in names
    assert "osteo_analytics/data_contracts/sources/example-visits.yaml" in names
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    for notebook in notebooks:
        assert f"osteo_analytics/notebooks/{notebook.name}" in names
    assert "osteo_analytics/serve/templates/osteo/index.html.j2" in names
    assert not [n for n in names if "__pycache__" in n or n.startswith("tests/")]


def test_the_installed_wheel_synthesizes_imports_and_reports(
    installed: Path, tmp_path: Path
) -> None:
    env = osteo_env(tmp_path / "ws", {"OSTEO_PASSPHRASE": PASSPHRASE})

    def installed_osteo(*args: str) -> subprocess.CompletedProcess[str]:
        # cwd outside the checkout: nothing of the source tree can be imported.
        return osteo(*args, env=env, program=[str(installed / "osteo")], cwd=tmp_path, timeout=600)

    where = subprocess.run(
        [
            str(installed / "python"),
            "-c",
            "import osteo_analytics; print(osteo_analytics.__file__)",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(installed.parent), where.stdout

    practice = tmp_path / "practice"
    synth = installed_osteo("synth", "--out", str(practice), "--years", "1", "--patients", "60")
    assert synth.returncode == 0, synth.stderr
    assert installed_osteo("init").returncode == 0
    imported = installed_osteo("import", str(practice / "libreosteo"), "--json")
    assert imported.returncode == 0, imported.stderr
    summary = json.loads(imported.stdout)
    assert summary["changed"] and sum(f["quarantined"] for f in summary["files"]) == 0
    metrics = installed_osteo("metrics", "--format", "json")
    assert metrics.returncode == 0, metrics.stderr
    truth = json.loads((practice / "libreosteo" / "ground_truth.json").read_text())
    assert json.loads(metrics.stdout)["totals"] == truth["totals"]

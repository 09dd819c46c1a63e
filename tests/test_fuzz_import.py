"""Malformed LibreOsteo exports, through the adapter and the pipeline: never a traceback.

Each example must either be read (every row accounted for, the pipeline validating what
was read) or be refused with an InputError (exit 2, one line). The other adapters have
their own fuzz tests next to their unit tests.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osteo_analytics import workspace
from osteo_analytics.contracts.checks import load_contracts
from osteo_analytics.errors import InputError
from osteo_analytics.ingest import ORDER, _validate, read_sources
from osteo_analytics.pseudonymize.stage import pseudonymize_batch
from tests.conftest import LIBREOSTEO_SAMPLE, PASSPHRASE, osteo

KEY = bytes(range(32))
FILES = ("patients.csv", "examinations.csv", "invoices.csv")
NASTY = [
    '=HYPERLINK("http://x","clic")',
    "+33 6 12 34 56 78",
    "-55.0",
    "@SUM(A1)",
    "x" * 200_000,
    "\x00\x01\x02",
    '"unbalanced',
    "2024-02-30T10:00:00+01:00",
    "55,0",
    "",
]


def _mutate(data: bytes, how: str, at: float, nasty: str) -> bytes:
    cut = int(len(data) * at)
    if how == "truncate":
        return data[:cut]
    if how == "junk":
        return data[:cut] + bytes(range(256)) + data[cut:]
    if how == "latin1":
        return data.decode("utf-8").encode("latin-1", errors="replace")
    if how == "utf16":
        return data.decode("utf-8").encode("utf-16")
    if how == "ragged":
        lines = data.split(b"\r\n")
        i = max(1, int(len(lines) * at) % max(1, len(lines)))
        lines[i] = lines[i].replace(b",", b"", 3)
        return b"\r\n".join(lines)
    if how == "nasty":
        lines = data.split(b"\r\n")
        i = max(1, int(len(lines) * at) % max(1, len(lines)))
        cells = lines[i].split(b",")
        cells[int(at * len(cells)) % len(cells)] = nasty.encode("utf-8")
        lines[i] = b",".join(cells)
        return b"\r\n".join(lines)
    if how == "empty":
        return b""
    raise AssertionError(how)


def _check(folder: Path) -> None:
    try:
        batch = read_sources([folder], "libreosteo")
    except InputError as exc:
        message = str(exc)
        assert "\n" not in message and "Traceback" not in message
        return
    batch.assert_valid()
    tables = pseudonymize_batch(batch, KEY)
    empty = {d: load_contracts()[d].arrow_schema().empty_table() for d in ORDER}
    accepted, rejected = _validate(tables, empty)
    for dataset in ORDER:
        assert isinstance(accepted[dataset], pa.Table)
        assert accepted[dataset].num_rows + rejected[dataset].num_rows == tables[dataset].num_rows


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    target=st.sampled_from(FILES),
    how=st.sampled_from(["truncate", "junk", "latin1", "utf16", "ragged", "nasty", "empty"]),
    at=st.floats(0.0, 1.0),
    nasty=st.sampled_from(NASTY),
)
def test_malformed_libreosteo_csv_is_read_or_refused_in_one_line(
    tmp_path_factory: pytest.TempPathFactory, target: str, how: str, at: float, nasty: str
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    for name in FILES:
        data = (LIBREOSTEO_SAMPLE / name).read_bytes()
        if name == target:
            data = _mutate(data, how, at, nasty)
        (folder / name).write_bytes(data)
    _check(folder)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda p: p.write_bytes(b""), id="empty-xlsx"),
        pytest.param(lambda p: p.write_bytes(bytes(range(256)) * 40), id="junk-xlsx"),
        pytest.param(
            lambda p: p.write_bytes((LIBREOSTEO_SAMPLE / "invoices.csv").read_bytes()),
            id="csv-named-xlsx",
        ),
        pytest.param(
            lambda p: p.write_bytes((LIBREOSTEO_SAMPLE / "invoices.xlsx").read_bytes()[:5000]),
            id="truncated-xlsx",
        ),
    ],
)
def test_a_broken_workbook_is_exit_2_in_one_line(tmp_path: Path, make: object) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    shutil.copy(LIBREOSTEO_SAMPLE / "patients.csv", folder / "patients.csv")
    make(folder / "invoices.xlsx")  # type: ignore[operator]
    with pytest.raises(InputError):
        read_sources([folder], "libreosteo")
    # The command line says it in one line naming the file, exit 2.
    ws = tmp_path / "ws"
    workspace.init_workspace(ws, PASSPHRASE, work_factor=10)
    result = osteo(
        "import",
        str(folder),
        "--format",
        "libreosteo",
        workspace=ws,
        env={"OSTEO_PASSPHRASE": PASSPHRASE},
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Erreur : ") and "invoices.xlsx" in line

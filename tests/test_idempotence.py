"""Property: imports are an idempotent upsert on natural keys.

Re-importing an export changes nothing, and importing two overlapping exports one after
the other gives exactly what importing their union once gives.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osteo_analytics import snapshots, workspace
from osteo_analytics.ingest import import_paths
from tests.conftest import VISIT_COLUMNS, copy_workspace, visit_mapping

MAPPING = visit_mapping()
HEADER = ";".join(VISIT_COLUMNS)
PEOPLE = [
    ("DUPONT", "Marie", "03/04/1981"),
    ("Le Berre", "Yann", "12/11/1975"),
    ("N'Diaye", "Aïssata", "30/01/2016"),
    ("MARTIN", "Éloïse", "07/07/1948"),
]
METHODS = ["CB", "Chèque", "Espèces", "Virement"]
# A fixed pool of visits; each export is a subset of it (so keys never conflict).
POOL = [
    f"{day:02d}/03/2024;{9 + i % 8}:00;{PEOPLE[i % 4][0]};{PEOPLE[i % 4][1]};{PEOPLE[i % 4][2]};"
    f"24{i:03d};{50 + 5 * (i % 3)},00;{METHODS[i % 4]}"
    for i, day in enumerate(range(1, 15))
]


@pytest.fixture(scope="module")
def mapping(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("idem") / "mapping.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    return path


def _export(folder: Path, name: str, rows: list[int]) -> Path:
    path = folder / f"{name}.csv"
    lines = [HEADER, *(POOL[i] for i in sorted(rows))]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def _rows(unlocked: workspace.Unlocked) -> dict[str, set[tuple]]:
    tables = snapshots.read_snapshot(unlocked.workspace.snapshots_dir, unlocked.identities)
    return {name: _as_set(table) for name, table in tables.items()}


def _as_set(table: pa.Table) -> set[tuple]:
    return set(zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True))


subsets = st.sets(st.integers(0, len(POOL) - 1), min_size=1, max_size=len(POOL))


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first=subsets, second=subsets)
def test_overlapping_imports_equal_one_import_of_the_union(
    blank_workspace: Path, mapping: Path, tmp_path: Path, first: set[int], second: set[int]
) -> None:
    """Every run imports into copies of one blank workspace: they share its pseudonym key."""
    run = tmp_path / f"run-{len(list(tmp_path.iterdir()))}"
    run.mkdir()
    a, b = _export(run, "a", sorted(first)), _export(run, "b", sorted(second))
    union = _export(run, "union", sorted(first | second))

    stepwise = copy_workspace(blank_workspace, run / "stepwise")
    import_paths(stepwise, [a], fmt="generic", mapping=mapping)
    again = import_paths(stepwise, [a], fmt="generic", mapping=mapping)
    assert again.changed is False
    assert all(f.accepted == 0 and f.duplicates == f.rows_read for f in again.files)
    import_paths(stepwise, [b], fmt="generic", mapping=mapping)
    stepwise_rows = _rows(stepwise)

    once = copy_workspace(blank_workspace, run / "once")
    import_paths(once, [union], fmt="generic", mapping=mapping)
    assert stepwise_rows == _rows(once)
    assert len(stepwise_rows["consultations"]) == len(first | second)

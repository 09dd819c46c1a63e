"""Snapshots: encrypted Parquet per dataset and year, verified against the manifest."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from osteo_analytics import snapshots, vault
from osteo_analytics.errors import DecryptionError, Hint, IntegrityError, SnapshotError

MARKER = "P-MARKERMARKERMAR"


def small_tables() -> dict[str, pa.Table]:
    money = pa.decimal128(12, 2)
    return {
        "practitioners": pa.table(
            {"practitioner_id": ["PR-A"], "display_name": ["Gaëlle Tanguy"], "role": ["titular"]}
        ),
        "patients": pa.table(
            {
                "patient_key": [MARKER, "P-B"],
                "sex": ["F", None],
                "birth_year": pa.array([1981, 2019], pa.int32()),
                "departement": ["35", "2A"],
                "registered_on": [date(2023, 5, 2), date(2024, 1, 8)],
                "source": ["synthetic", "synthetic"],
            }
        ),
        "consultations": pa.table(
            {
                "consultation_id": ["C-1", "C-2", "C-3"],
                "patient_key": [MARKER, MARKER, "P-B"],
                "practitioner_id": ["PR-A"] * 3,
                "consulted_on": [date(2023, 5, 2), date(2024, 1, 8), date(2024, 2, 1)],
                "start_time": pa.array([time(9, 0), None, time(14, 45)], pa.time32("s")),
                "status": ["done", "done", "no_show"],
                "consultation_type": ["first", "follow_up", "urgent"],
                "motif_category": ["low_back", None, "neck"],
                "source": ["synthetic"] * 3,
            }
        ),
        "invoices": pa.table(
            {
                "invoice_number": ["23001", "24001"],
                "consultation_id": ["C-1", "C-2"],
                "patient_key": [MARKER, MARKER],
                "practitioner_id": ["PR-A", "PR-A"],
                "issued_on": [date(2023, 5, 2), date(2024, 1, 8)],
                "amount": pa.array([Decimal("55.00"), Decimal("60.00")], money),
                "status": ["paid", "issued"],
                "replaces_invoice_number": pa.array([None, None], pa.string()),
                "cancels_invoice_number": pa.array([None, None], pa.string()),
                "source": ["synthetic"] * 2,
            }
        ),
        "payments": pa.table(
            {
                "payment_id": ["23001/1"],
                "invoice_number": ["23001"],
                "paid_on": [date(2023, 5, 2)],
                "amount": pa.array([Decimal("55.00")], money),
                "method": ["cb"],
                "source": ["synthetic"],
            }
        ),
    }


@pytest.fixture(scope="module")
def key() -> vault.Identity:
    return vault.generate_identity()


@pytest.fixture
def written(tmp_path: Path, key: vault.Identity) -> tuple[Path, str]:
    snap_dir = tmp_path / "snapshots"
    name = snapshots.write_snapshot(
        snap_dir,
        small_tables(),
        [key.recipient],
        contracts={"patients": "1.0.0"},
        now=datetime(2026, 11, 29, 12, 0, tzinfo=UTC),
    )
    return snap_dir, name


def test_round_trip_is_exact(written: tuple[Path, str], key: vault.Identity) -> None:
    snap_dir, name = written
    assert snapshots.current_snapshot(snap_dir) == name == "20261129T120000000000Z"
    tables = snapshots.read_snapshot(snap_dir, [key.secret])
    for dataset, expected in small_tables().items():
        assert tables[dataset].equals(expected), dataset


def test_large_datasets_are_partitioned_by_year_and_every_file_is_age(
    written: tuple[Path, str],
) -> None:
    snap_dir, name = written
    files = sorted(p.name for p in (snap_dir / name).iterdir())
    assert files == [
        "consultations-2023.parquet.age",
        "consultations-2024.parquet.age",
        "invoices-2023.parquet.age",
        "invoices-2024.parquet.age",
        "manifest.json.age",
        "patients.parquet.age",
        "payments-2023.parquet.age",
        "practitioners.parquet.age",
    ]
    for path in (snap_dir / name).iterdir():
        data = path.read_bytes()
        assert data.startswith(b"age-encryption.org/v1\n")
        assert MARKER.encode() not in data and b"PAR1" not in data


def test_manifest_records_counts_hashes_and_contract_versions(
    written: tuple[Path, str], key: vault.Identity
) -> None:
    snap_dir, name = written
    manifest = snapshots.read_manifest(snap_dir / name, [key.secret])
    assert manifest.rows("consultations") == 3
    assert manifest.years("consultations") == [2023, 2024]
    assert manifest.contracts == {"patients": "1.0.0"}
    assert all(len(f.sha256_cipher) == 64 and len(f.sha256_plain) == 64 for f in manifest.files)


def test_years_load_only_the_partitions_asked_for(
    written: tuple[Path, str], key: vault.Identity
) -> None:
    snap_dir, name = written
    # Remove the 2023 partitions: loading 2024 only must not need them.
    for path in (snap_dir / name).glob("*-2023.parquet.age"):
        path.unlink()
    tables = snapshots.read_snapshot(
        snap_dir, [key.secret], datasets=["consultations", "payments"], years=[2024]
    )
    assert tables["consultations"].num_rows == 2
    assert tables["payments"].num_rows == 0  # no 2024 payment: empty, with its schema
    assert tables["payments"].schema.field("amount").type == pa.decimal128(12, 2)
    missing = r"consultations-2023\.parquet\.age : fichier manquant"
    with pytest.raises(IntegrityError, match=missing):
        snapshots.read_snapshot(snap_dir, [key.secret], years=[2023])


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset % len(data)] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("offset", [0, 40, 200, -20, -1])
def test_a_bit_flip_anywhere_names_the_file(
    written: tuple[Path, str], key: vault.Identity, offset: int
) -> None:
    snap_dir, name = written
    target = snap_dir / name / "consultations-2024.parquet.age"
    _flip(target, offset)
    with pytest.raises(IntegrityError) as info:
        snapshots.read_snapshot(snap_dir, [key.secret])
    assert (
        str(info.value)
        == f"{name}/consultations-2024.parquet.age : contenu modifié, tronqué ou remplacé"
    )


def test_truncation_and_missing_files_are_reported(
    written: tuple[Path, str], key: vault.Identity
) -> None:
    snap_dir, name = written
    target = snap_dir / name / "patients.parquet.age"
    target.write_bytes(target.read_bytes()[:-10])
    with pytest.raises(IntegrityError, match=r"patients\.parquet\.age"):
        snapshots.read_snapshot(snap_dir, [key.secret])
    target.unlink()
    with pytest.raises(IntegrityError, match=r"patients\.parquet\.age : fichier manquant"):
        snapshots.read_snapshot(snap_dir, [key.secret])


def test_a_file_swapped_in_from_another_snapshot_is_detected(
    written: tuple[Path, str], key: vault.Identity
) -> None:
    snap_dir, first = written
    tables = small_tables()
    tables["patients"] = tables["patients"].slice(0, 1)
    second = snapshots.write_snapshot(snap_dir, tables, [key.recipient])
    # Same key, same file name, valid age file: only the manifest can tell.
    shutil.copy(
        snap_dir / first / "patients.parquet.age", snap_dir / second / "patients.parquet.age"
    )
    with pytest.raises(IntegrityError, match=f"{second}/patients.parquet.age"):
        snapshots.read_snapshot(snap_dir, [key.secret])
    shutil.copy(snap_dir / first / "manifest.json.age", snap_dir / second / "manifest.json.age")
    with pytest.raises(IntegrityError, match="manifeste d'un autre instantané"):
        snapshots.read_snapshot(snap_dir, [key.secret])


def test_a_foreign_file_in_a_snapshot_is_refused(
    written: tuple[Path, str], key: vault.Identity
) -> None:
    snap_dir, name = written
    (snap_dir / name / "extra.parquet").write_bytes(b"PAR1")
    with pytest.raises(IntegrityError, match=r"extra\.parquet : fichier étranger"):
        snapshots.read_snapshot(snap_dir, [key.secret])


def test_another_key_cannot_read(written: tuple[Path, str]) -> None:
    snap_dir, _ = written
    with pytest.raises(DecryptionError):
        snapshots.read_snapshot(snap_dir, [vault.generate_identity().secret])


def test_a_failed_write_leaves_the_previous_snapshot_current(
    written: tuple[Path, str], key: vault.Identity
) -> None:
    snap_dir, name = written
    tables = small_tables()
    # A date column with a null cannot be partitioned: the write fails mid-way.
    tables["payments"] = tables["payments"].set_column(2, "paid_on", pa.array([None], pa.date32()))
    with pytest.raises(SnapshotError):
        snapshots.write_snapshot(snap_dir, tables, [key.recipient])
    assert snapshots.current_snapshot(snap_dir) == name
    assert snapshots.list_snapshots(snap_dir) == [name]
    assert not [p for p in snap_dir.iterdir() if p.name.startswith(".tmp-")]
    assert snapshots.read_snapshot(snap_dir, [key.secret])["patients"].num_rows == 2


def test_no_snapshot_yet_is_a_clear_error(tmp_path: Path, key: vault.Identity) -> None:
    with pytest.raises(SnapshotError, match="aucun instantané") as caught:
        snapshots.read_snapshot(tmp_path, [key.secret])
    assert caught.value.hint is Hint.IMPORT_FIRST  # the command line advises `osteo import`


def test_reencryption_changes_ciphertexts_not_content(
    written: tuple[Path, str], key: vault.Identity, tmp_path: Path
) -> None:
    snap_dir, name = written
    new_key = vault.generate_identity()
    target = tmp_path / "rotated"
    snapshots.reencrypt_snapshot(snap_dir / name, [key.secret], [new_key.recipient], target)
    old = snapshots.read_manifest(snap_dir / name, [key.secret])
    # Rotation swaps the rewritten folder in under the snapshot's own name.
    shutil.rmtree(snap_dir / name)
    target.rename(snap_dir / name)
    new = snapshots.read_manifest(snap_dir / name, [new_key.secret])
    assert [f.sha256_plain for f in new.files] == [f.sha256_plain for f in old.files]
    assert all(
        a.sha256_cipher != b.sha256_cipher for a, b in zip(old.files, new.files, strict=True)
    )
    with pytest.raises(DecryptionError):
        snapshots.read_snapshot(snap_dir, [key.secret])
    assert snapshots.read_snapshot(snap_dir, [new_key.secret])["consultations"].num_rows == 3

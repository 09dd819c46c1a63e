"""Encrypted Parquet snapshots with a verified manifest.

A snapshot is a folder `snapshots/<UTC stamp>/` holding one age-encrypted Parquet file per
dataset (`patients.parquet.age`), or per dataset and year for the large ones
(`consultations-2024.parquet.age`), and `manifest.json.age`: schema version, row counts,
sha256 of every ciphertext and plaintext, contract versions and the Arrow schema of each
dataset. It is written in a temporary folder inside `snapshots/`, fsynced, renamed into
place; then `snapshots/CURRENT` (the name of the current snapshot) is replaced atomically.
A crash at any moment leaves the previous snapshot current and intact.

Reading checks every file against the manifest before using it: a bit flip, a truncation,
a missing file or a file swapped in from another snapshot raises IntegrityError naming the
file (never its content).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from osteo_analytics import vault
from osteo_analytics.atomic import atomic_write, fsync_dir, make_private_dir, write_new_file
from osteo_analytics.errors import DecryptionError, Hint, IntegrityError, SnapshotError

SCHEMA_VERSION = 1
DATASETS = ("practitioners", "patients", "consultations", "invoices", "payments")
# Large datasets are split by the year of this date column so that a dashboard can load
# only the years it shows.
PARTITION_COLUMN = {"consultations": "consulted_on", "invoices": "issued_on", "payments": "paid_on"}
MANIFEST = "manifest.json.age"
CURRENT = "CURRENT"
_NAME = re.compile(r"^\d{8}T\d{6}\d{6}Z$")
_TMP_PREFIX = ".tmp-"


@dataclass(frozen=True)
class SnapshotFile:
    """One encrypted Parquet file of a snapshot, as recorded in the manifest."""

    name: str
    dataset: str
    year: int | None
    rows: int
    sha256_cipher: str
    sha256_plain: str


@dataclass(frozen=True)
class Manifest:
    snapshot: str
    created: str
    schema_version: int
    files: tuple[SnapshotFile, ...]
    schemas: dict[str, str]  # dataset -> base64 Arrow IPC schema
    contracts: dict[str, str] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)

    def rows(self, dataset: str) -> int:
        return sum(f.rows for f in self.files if f.dataset == dataset)

    def years(self, dataset: str) -> list[int]:
        return sorted({f.year for f in self.files if f.dataset == dataset and f.year is not None})

    def schema(self, dataset: str) -> pa.Schema:
        return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(self.schemas[dataset])))

    def to_bytes(self) -> bytes:
        data = asdict(self)
        data["files"] = [asdict(f) for f in self.files]
        return json.dumps(data, sort_keys=True, ensure_ascii=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes, where: str) -> Manifest:
        try:
            data = json.loads(raw)
            if data["schema_version"] != SCHEMA_VERSION:
                raise SnapshotError(
                    f"{where} : version de format {data['schema_version']} inconnue "
                    "(mettez osteo-analytics à jour)"
                )
            files = tuple(SnapshotFile(**f) for f in data.pop("files"))
            return cls(files=files, **data)
        except (ValueError, KeyError, TypeError) as exc:
            raise IntegrityError(f"{where} : manifeste illisible ou altéré") from exc


def new_snapshot_name(now: datetime | None = None) -> str:
    """A sortable UTC stamp with microseconds, e.g. 20261129T124229123456Z."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    return now.strftime("%Y%m%dT%H%M%S%fZ")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def _partitions(dataset: str, table: pa.Table) -> Iterator[tuple[int | None, pa.Table]]:
    column = PARTITION_COLUMN.get(dataset)
    if column is None or table.num_rows == 0:
        yield None, table
        return
    if table.column(column).null_count:
        raise SnapshotError(f"{dataset} : {column} vide sur certaines lignes, partition impossible")
    years = pc.year(table.column(column))
    for year in sorted(pc.unique(years).to_pylist()):
        yield year, table.filter(pc.equal(years, year))


def _file_name(dataset: str, year: int | None) -> str:
    return f"{dataset}.parquet.age" if year is None else f"{dataset}-{year}.parquet.age"


def _schema_b64(schema: pa.Schema) -> str:
    return base64.b64encode(schema.serialize().to_pybytes()).decode()


def write_snapshot(
    snapshots_dir: Path,
    tables: Mapping[str, pa.Table],
    recipients: Sequence[str],
    *,
    contracts: Mapping[str, str] | None = None,
    extra: Mapping[str, object] | None = None,
    now: datetime | None = None,
) -> str:
    """Write `tables` as a new snapshot, make it current, and return its name."""
    unknown = set(tables) - set(DATASETS)
    if unknown:
        raise SnapshotError(f"jeu de données inconnu : {', '.join(sorted(unknown))}")
    make_private_dir(snapshots_dir)
    name = new_snapshot_name(now)
    while (snapshots_dir / name).exists():  # two writes within one microsecond
        name = new_snapshot_name()
    tmp = snapshots_dir / f"{_TMP_PREFIX}{name}-{secrets.token_hex(4)}"
    tmp.mkdir(mode=0o700)
    try:
        files = []
        for dataset in DATASETS:
            if dataset not in tables:
                continue
            for year, part in _partitions(dataset, tables[dataset]):
                plain = parquet_bytes(part)
                cipher = vault.encrypt(plain, recipients)
                file_name = _file_name(dataset, year)
                write_new_file(tmp / file_name, cipher)
                files.append(
                    SnapshotFile(
                        file_name, dataset, year, part.num_rows, _sha256(cipher), _sha256(plain)
                    )
                )
        manifest = Manifest(
            snapshot=name,
            created=(now or datetime.now(UTC)).astimezone(UTC).isoformat(),
            schema_version=SCHEMA_VERSION,
            files=tuple(files),
            schemas={d: _schema_b64(t.schema) for d, t in tables.items()},
            contracts=dict(contracts or {}),
            extra=dict(extra or {}),
        )
        write_new_file(tmp / MANIFEST, vault.encrypt(manifest.to_bytes(), recipients))
        fsync_dir(tmp)
        os.rename(tmp, snapshots_dir / name)
        fsync_dir(snapshots_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    set_current(snapshots_dir, name)
    return name


def set_current(snapshots_dir: Path, name: str) -> None:
    """Make `name` the current snapshot (atomic rename of CURRENT)."""
    if not (snapshots_dir / name / MANIFEST).is_file():
        raise SnapshotError(f"instantané {name} introuvable")
    atomic_write(snapshots_dir / CURRENT, f"{name}\n".encode())


def current_snapshot(snapshots_dir: Path) -> str | None:
    """Name of the current snapshot, or None when nothing was imported yet."""
    try:
        name = (snapshots_dir / CURRENT).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise IntegrityError("snapshots/CURRENT illisible") from exc
    if not _NAME.match(name):
        raise IntegrityError("snapshots/CURRENT altéré (nom d'instantané invalide)")
    return name


def list_snapshots(snapshots_dir: Path) -> list[str]:
    """Every complete snapshot, oldest first (temporary folders are ignored)."""
    if not snapshots_dir.is_dir():
        return []
    return sorted(p.name for p in snapshots_dir.iterdir() if p.is_dir() and _NAME.match(p.name))


def remove_stale_temporaries(snapshots_dir: Path) -> int:
    """Delete folders left by a crashed write (they were never current). Returns the count."""
    count = 0
    if snapshots_dir.is_dir():
        for path in snapshots_dir.iterdir():
            if path.name.startswith(_TMP_PREFIX) and path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
                count += 1
    return count


def _read_verified(path: Path, label: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise IntegrityError(f"{label} : fichier manquant") from None
    except OSError as exc:
        raise IntegrityError(f"{label} : lecture impossible ({exc.strerror})") from None


def _decrypt(data: bytes, identities: Sequence[str], label: str) -> bytes:
    try:
        return vault.decrypt(data, identities)
    except DecryptionError:
        raise DecryptionError(f"{label} : déchiffrement impossible avec cette clé") from None
    except IntegrityError:
        raise IntegrityError(f"{label} : fichier altéré ou tronqué") from None


def read_manifest(snapshot_dir: Path, identities: Sequence[str]) -> Manifest:
    """Decrypt and check a snapshot's manifest."""
    label = f"{snapshot_dir.name}/{MANIFEST}"
    raw = _decrypt(_read_verified(snapshot_dir / MANIFEST, label), identities, label)
    manifest = Manifest.from_bytes(raw, label)
    if manifest.snapshot != snapshot_dir.name:
        raise IntegrityError(f"{label} : manifeste d'un autre instantané")
    return manifest


def _select(
    manifest: Manifest, datasets: Iterable[str] | None, years: Iterable[int] | None
) -> list[SnapshotFile]:
    wanted = set(datasets) if datasets is not None else set(manifest.schemas)
    year_set = set(years) if years is not None else None
    return [
        f
        for f in manifest.files
        if f.dataset in wanted and (year_set is None or f.year is None or f.year in year_set)
    ]


def _verified_plaintext(
    snapshot_dir: Path, entry: SnapshotFile, identities: Sequence[str]
) -> bytes:
    """A file's plaintext, once its ciphertext and plaintext match the manifest."""
    label = f"{snapshot_dir.name}/{entry.name}"
    cipher = _read_verified(snapshot_dir / entry.name, label)
    if _sha256(cipher) != entry.sha256_cipher:
        raise IntegrityError(f"{label} : contenu modifié, tronqué ou remplacé")
    plain = _decrypt(cipher, identities, label)
    if _sha256(plain) != entry.sha256_plain:
        raise IntegrityError(f"{label} : contenu déchiffré différent du manifeste")
    return plain


def read_file(snapshot_dir: Path, entry: SnapshotFile, identities: Sequence[str]) -> pa.Table:
    """Decrypt one file after checking it against its manifest entry."""
    label = f"{snapshot_dir.name}/{entry.name}"
    table = pq.read_table(pa.BufferReader(_verified_plaintext(snapshot_dir, entry, identities)))
    if table.num_rows != entry.rows:
        raise IntegrityError(f"{label} : nombre de lignes différent du manifeste")
    return table


def read_snapshot(
    snapshots_dir: Path,
    identities: Sequence[str],
    *,
    name: str | None = None,
    datasets: Iterable[str] | None = None,
    years: Iterable[int] | None = None,
) -> dict[str, pa.Table]:
    """Decrypt (in memory) the datasets of a snapshot, the current one by default.

    `years` keeps only those partitions of the partitioned datasets. Every dataset asked
    for is returned, empty with its schema when no partition matches.
    """
    name = name or current_snapshot(snapshots_dir)
    if name is None:
        raise SnapshotError(
            "aucun instantané : rien n'a encore été importé", hint=Hint.IMPORT_FIRST
        )
    snapshot_dir = snapshots_dir / name
    manifest = read_manifest(snapshot_dir, identities)
    expected = {f.name for f in manifest.files} | {MANIFEST}
    extra = sorted(p.name for p in snapshot_dir.iterdir() if p.name not in expected)
    if extra:
        raise IntegrityError(f"{name}/{extra[0]} : fichier étranger à l'instantané")
    parts: dict[str, list[pa.Table]] = {}
    for entry in _select(manifest, datasets, years):
        parts.setdefault(entry.dataset, []).append(read_file(snapshot_dir, entry, identities))
    wanted = list(datasets) if datasets is not None else list(manifest.schemas)
    result = {}
    for dataset in wanted:
        if dataset not in manifest.schemas:
            raise SnapshotError(f"{name} : jeu de données {dataset} absent")
        schema = manifest.schema(dataset)
        # Parquet has no second-resolution time: cast back to the schema that was written.
        tables = [t.cast(schema) for t in parts.get(dataset, [])] or [schema.empty_table()]
        result[dataset] = pa.concat_tables(tables)
    return result


def reencrypt_snapshot(
    snapshot_dir: Path,
    identities: Sequence[str],
    recipients: Sequence[str],
    target_dir: Path,
) -> None:
    """Write a copy of a snapshot encrypted to new recipients in `target_dir` (must not exist).

    The plaintext (and thus every sha256_plain) is unchanged; only ciphertexts and their
    hashes change. Used by key rotation.
    """
    manifest = read_manifest(snapshot_dir, identities)
    target_dir.mkdir(mode=0o700)
    files = []
    for entry in manifest.files:
        plain = _verified_plaintext(snapshot_dir, entry, identities)
        new_cipher = vault.encrypt(plain, recipients)
        write_new_file(target_dir / entry.name, new_cipher)
        files.append(
            SnapshotFile(
                entry.name,
                entry.dataset,
                entry.year,
                entry.rows,
                _sha256(new_cipher),
                entry.sha256_plain,
            )
        )
    rotated = Manifest(**{**asdict(manifest), "files": tuple(files)})
    write_new_file(target_dir / MANIFEST, vault.encrypt(rotated.to_bytes(), recipients))
    fsync_dir(target_dir)


def remove_tree(path: Path) -> None:
    """Remove a folder tree, ignoring a concurrent removal."""
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(path)

"""The import pipeline: adapter → pseudonymize → contracts → quarantine → merge → snapshot.

Nothing is lost (DESIGN invariant 2): for every file, rows read = accepted + quarantined
+ duplicates + excluded. A row is *quarantined* when the adapter could not parse it or
one of its canonical rows breaks a contract rule; a *duplicate* when everything it
yields is already in the current snapshot, identical (so re-importing an export changes
nothing); *excluded* rows are titles, blanks and totals recognised by the adapter.
An accepted row is also a *conflict* when one of its canonical rows replaces a stored
row of the same natural key with different content: the newer row wins (a re-export
where an invoice became paid is an update), but it is counted, never silent.

The merged tables are written as a new snapshot only when something changed. Rejected
rows go, pseudonymized and with their rule, column and source row, to an encrypted
quarantine file. The audit log records the counts, never a value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from osteo_analytics import import_reports, snapshots, vault
from osteo_analytics.atomic import make_private_dir, write_new_file
from osteo_analytics.contracts.checks import check
from osteo_analytics.contracts.model import load_contracts
from osteo_analytics.errors import Hint, InputError, UsageError
from osteo_analytics.pseudonymize.stage import PROVENANCE, pseudonymize_batch, strip_provenance
from osteo_analytics.settings import load_settings
from osteo_analytics.sources import (
    ADAPTERS,
    FileReport,
    SourceBatch,
    detect_format,
    files,
    generic,
    ledger,
    libreosteo,
)
from osteo_analytics.sources.libreosteo.files import PARIS
from osteo_analytics.workspace import Unlocked

# Parents first, so that a rejected parent makes its children orphans in the same pass.
ORDER = ("practitioners", "patients", "consultations", "invoices", "payments")
RELATED = {
    "consultations": ("patients", "practitioners"),
    "invoices": ("consultations", "patients", "practitioners"),
    "payments": ("invoices",),
}
_POS = "__pos"
# Steps reported to a progress callback (the CLI draws a bar on a terminal).
STEPS = (
    "lecture des fichiers",
    "pseudonymisation",
    "contrôle des contrats",
    "fusion avec l'instantané",
    "chiffrement",
)
Progress = Callable[[int, str], None]


@dataclass
class ImportResult:
    """What one `osteo import` did (the documented `--json` summary is `to_dict()`)."""

    snapshot: str | None
    changed: bool
    files: list[FileReport]
    quarantine: str | None = None
    rows: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "snapshot": self.snapshot,
            "changed": self.changed,
            "quarantine": self.quarantine,
            "rows": self.rows,
            "files": [
                {
                    "path": str(f.path),
                    "format": f.format,
                    "rows_read": f.rows_read,
                    "accepted": f.accepted,
                    "quarantined": f.quarantined,
                    "duplicates": f.duplicates,
                    "excluded": f.excluded,
                    "conflicts": f.conflicts,
                    "reasons": dict(sorted(f.reasons.items())),
                }
                for f in self.files
            ],
        }


def resolve_format(paths: Sequence[Path], fmt: str = "auto", *, mapping: Path | None = None) -> str:
    """The adapter that reads `paths`: `fmt`, or the one that recognizes them for `auto`.

    A `mapping` means the generic adapter. UsageError or InputError when the files say
    nothing clear (missing, of no known format, of several formats).
    """
    if mapping is not None and fmt not in ("auto", "generic"):
        raise UsageError(
            f"un fichier de correspondance ne sert qu'au format generic (format demandé : {fmt})",
            hint=Hint.MAPPING_WITHOUT_GENERIC,
        )
    if mapping is not None:
        return "generic"
    if not paths:
        raise UsageError("indiquez au moins un fichier ou dossier à importer")
    files.check_exist(paths)
    if fmt != "auto":
        return fmt
    found = {detect_format(p) for p in paths}
    if None in found:
        bad = next(p for p in paths if detect_format(p) is None)
        raise InputError(
            f"{bad.name} : format non reconnu (formats connus : {', '.join(ADAPTERS)})",
            hint=Hint.CHOOSE_FORMAT,
        )
    if len(found) > 1:
        raise UsageError("les fichiers donnés sont de formats différents : importez-les séparément")
    return str(found.pop())


def read_sources(
    paths: Sequence[Path],
    fmt: str = "auto",
    *,
    mapping: Path | None = None,
    password: Callable[[Path], str] | None = None,
    zone: tzinfo | None = None,
) -> SourceBatch:
    """Read raw exports with the adapter `fmt` (or the one that recognizes them).

    `mapping` is the YAML mapping of the generic adapter; `password` is asked for each
    password-protected workbook (never given on the command line); `zone` is
    the practice's time zone for exported instants (default: the adapter's, Europe/Paris).
    """
    fmt = resolve_format(paths, fmt, mapping=mapping)
    if fmt == "generic":
        return generic.read(list(paths), mapping=mapping, password=password)
    if fmt == "ledger":
        return ledger.read(list(paths), password=password)
    if fmt == "libreosteo":
        return libreosteo.read(list(paths), zone=zone or PARIS, password=password)
    adapter = ADAPTERS.get(fmt)
    if adapter is None:
        raise UsageError(f"format inconnu : {fmt} (formats connus : {', '.join(ADAPTERS)})")
    return adapter.read(list(paths))


def _mask(length: int, positions: Iterable[int]) -> pa.Array:
    """A boolean column, true at `positions` (vectorized: no Python loop over every row)."""
    flags = np.zeros(length, dtype=bool)
    flags[np.fromiter(positions, dtype=np.int64)] = True
    return pa.array(flags)


def _with_positions(table: pa.Table) -> pa.Table:
    return table.append_column(_POS, pa.array(range(table.num_rows), pa.int64()))


def _validate(
    tables: dict[str, pa.Table], current: Mapping[str, pa.Table]
) -> tuple[dict[str, pa.Table], dict[str, pa.Table]]:
    """Split each table into (accepted, rejected with rule/column); parents first."""
    contracts = load_contracts()
    accepted: dict[str, pa.Table] = {}
    rejected: dict[str, pa.Table] = {}
    for dataset in ORDER:
        table = tables[dataset]
        related = {
            # Foreign keys may point to rows accepted now or already stored.
            name: pa.concat_tables(
                [strip_provenance({name: accepted[name]})[name], current[name]],
                promote_options="permissive",
            )
            for name in RELATED.get(dataset, ())
        }
        report = check(
            None, dataset, table, contracts=contracts, related=related, row_numbers="position"
        )
        if report.table_failures:
            first = report.table_failures[0]
            raise InputError(f"{dataset} : {first.column} — {first.rule} (table entière refusée)")
        bad: dict[int, tuple[str, str]] = {}
        for failure in report.failures:
            bad.setdefault(failure.row_number - 1, (failure.rule, failure.column))
        mask = _mask(table.num_rows, bad)
        accepted[dataset] = table.filter(pc.invert(mask))
        positions = sorted(bad)
        rejected[dataset] = (
            table.take(pa.array(positions, pa.int64()))
            .append_column("rule", pa.array([bad[i][0] for i in positions], pa.string()))
            .append_column("column", pa.array([bad[i][1] for i in positions], pa.string()))
        )
    return accepted, rejected


def _split_duplicates(dataset: str, new: pa.Table, old: pa.Table) -> tuple[pa.Table, pa.Table]:
    """(rows that add or change something, rows identical to a stored or earlier row)."""
    key = load_contracts()[dataset].primary_key()[0]
    columns = [c for c in new.column_names if c not in PROVENANCE]
    con = duckdb.connect(":memory:")
    con.register("n", _with_positions(new))
    con.register("o", old.select(columns))
    same = " AND ".join(f'n."{c}" IS NOT DISTINCT FROM o."{c}"' for c in columns)
    stored = {
        r[0]
        for r in con.execute(
            f'SELECT n.{_POS} FROM n JOIN o ON n."{key}" = o."{key}" WHERE {same}'
        ).fetchall()
    }
    # The same row twice in one import (two exports of one patient): keep the first.
    cols = ", ".join(f'"{c}"' for c in columns)
    repeated = {
        r[0]
        for r in con.execute(
            f"SELECT {_POS} FROM (SELECT {_POS}, row_number() OVER "
            f"(PARTITION BY {cols} ORDER BY {_POS}) AS k FROM n) WHERE k > 1"
        ).fetchall()
    }
    con.close()
    dup = stored | repeated
    mask = _mask(new.num_rows, dup)
    return new.filter(pc.invert(mask)), new.filter(mask)


def _replacing(dataset: str, fresh: pa.Table, old: pa.Table) -> pa.Table:
    """The fresh rows whose natural key is stored already: their content differs from it
    (rows identical to a stored one are duplicates, never fresh)."""
    key = load_contracts()[dataset].primary_key()[0]
    return fresh.filter(pc.is_in(fresh.column(key), value_set=old.column(key)))


def _merge(dataset: str, old: pa.Table, new: pa.Table) -> pa.Table:
    """Upsert on the natural key: new rows replace stored rows with the same key."""
    if new.num_rows == 0:
        return old
    key = load_contracts()[dataset].primary_key()[0]
    keep = old.filter(pc.invert(pc.is_in(old.column(key), value_set=new.column(key))))
    return pa.concat_tables([keep, new.select(old.column_names).cast(old.schema)])


def _source_rows(table: pa.Table) -> set[tuple[str, int]]:
    if table.num_rows == 0:
        return set()
    return set(
        zip(
            table.column("source_file").to_pylist(),
            table.column("source_row").to_pylist(),
            strict=True,
        )
    )


def _account(
    reports: list[FileReport],
    rejected: Mapping[str, pa.Table],
    fresh: Mapping[str, pa.Table],
    duplicates: Mapping[str, pa.Table],
    replacing: Mapping[str, pa.Table],
) -> None:
    """Move rows the adapter accepted into quarantined or duplicates, once per source row;
    count the accepted ones that replace a different stored row as conflicts."""
    quarantined: dict[tuple[str, int], str] = {}
    for table in rejected.values():
        for f, r, rule in zip(
            table.column("source_file").to_pylist(),
            table.column("source_row").to_pylist(),
            table.column("rule").to_pylist(),
            strict=True,
        ):
            quarantined.setdefault((f, r), rule)
    useful = set().union(*(_source_rows(t) for t in fresh.values()))
    seen_dup = set().union(*(_source_rows(t) for t in duplicates.values()))
    only_dup = seen_dup - useful - set(quarantined)
    conflicts = set().union(*(_source_rows(t) for t in replacing.values())) - set(quarantined)
    by_file = {r.source_label: r for r in reports}
    for (file, _row), rule in quarantined.items():
        report = by_file.get(file)
        if report is not None:
            report.accepted -= 1
            report.quarantined += 1
            report.reasons[rule] = report.reasons.get(rule, 0) + 1
    for file, _row in only_dup:
        report = by_file.get(file)
        if report is not None:
            report.accepted -= 1
            report.duplicates += 1
            report.reasons["already_imported"] = report.reasons.get("already_imported", 0) + 1
    for file, _row in conflicts:
        report = by_file.get(file)
        if report is not None:
            report.conflicts += 1


def _write_quarantine(
    unlocked: Unlocked, batch: SourceBatch, rejected: Mapping[str, pa.Table], stamp: str
) -> str | None:
    """Encrypt the rejected rows (pseudonymized, with rule, column and source row)."""
    parse_failures = [
        {
            "source_file": r.source_file,
            "source_row": r.source_row,
            "column": r.column,
            "rule": r.rule,
            **({"reason": r.reason} if r.reason else {}),
        }
        for r in batch.rejected
    ]
    if not parse_failures and not any(t.num_rows for t in rejected.values()):
        return None
    folder = unlocked.workspace.quarantine_dir / stamp
    make_private_dir(folder)
    recipients = unlocked.recipients()
    for dataset, table in rejected.items():
        if table.num_rows:
            write_new_file(
                folder / f"{dataset}.parquet.age",
                vault.encrypt(snapshots.parquet_bytes(table), recipients),
            )
    if parse_failures:
        data = json.dumps(parse_failures, ensure_ascii=False).encode()
        write_new_file(folder / "unparsed.json.age", vault.encrypt(data, recipients))
    return stamp


def import_batch(
    unlocked: Unlocked,
    batch: SourceBatch,
    *,
    actor: str = "practitioner",
    now: datetime | None = None,
    progress: Progress | None = None,
    adapter: str | None = None,
) -> ImportResult:
    """Validate, merge and store one source batch in the workspace.

    `adapter` names the adapter that read the batch, for the per-file import report
    (default: the `source` its rows carry).
    """

    def step(index: int) -> None:
        if progress is not None:
            progress(index, STEPS[index])

    now = now or datetime.now(UTC)
    step(1)
    ws = unlocked.workspace
    current_name = snapshots.current_snapshot(ws.snapshots_dir)
    contracts = load_contracts()
    if current_name is None:
        current = {d: contracts[d].arrow_schema().empty_table() for d in ORDER}
    else:
        current = snapshots.read_snapshot(ws.snapshots_dir, unlocked.identities)
    tables = pseudonymize_batch(batch, unlocked.pseudonym_key())
    step(2)
    accepted, rejected = _validate(tables, current)
    step(3)
    fresh: dict[str, pa.Table] = {}
    duplicates: dict[str, pa.Table] = {}
    replacing: dict[str, pa.Table] = {}
    for dataset in ORDER:
        fresh[dataset], duplicates[dataset] = _split_duplicates(
            dataset, accepted[dataset], current[dataset]
        )
        replacing[dataset] = _replacing(dataset, fresh[dataset], current[dataset])
    _account(batch.files, rejected, fresh, duplicates, replacing)
    for report in batch.files:
        report.assert_balanced()
    stamp = snapshots.new_snapshot_name(now)
    quarantine = _write_quarantine(unlocked, batch, rejected, stamp)
    changed = current_name is None or any(t.num_rows for t in fresh.values())
    name = current_name
    merged = {d: _merge(d, current[d], strip_provenance(fresh)[d]) for d in ORDER}
    step(4)
    if changed:
        # The log's state goes into the encrypted manifest: lines cut from the end of
        # audit.log later are then detected (a hash chain alone cannot see them).
        audit = unlocked.audit().verify()
        name = snapshots.write_snapshot(
            ws.snapshots_dir,
            merged,
            unlocked.recipients(),
            contracts={d: contracts[d].version for d in ORDER},
            extra={"audit": {"count": audit.count, "mac": audit.head}} if audit.ok else {},
            now=now,
        )
    counts = [_file_counts(f, adapter or _adapter_of(batch)) for f in batch.files]
    # The files' labels go to an encrypted report only: a label may name a patient.
    import_reports.write_report(unlocked, stamp, now=now, snapshot=name, files=counts)
    unlocked.audit().append(
        "import", actor=actor, snapshot=name, counts=import_reports.totals(counts), now=now
    )
    return ImportResult(
        snapshot=name,
        changed=changed,
        files=batch.files,
        quarantine=quarantine,
        rows={d: merged[d].num_rows for d in ORDER},
    )


def import_paths(
    unlocked: Unlocked,
    paths: Sequence[Path],
    *,
    fmt: str = "auto",
    mapping: Path | None = None,
    password: Callable[[Path], str] | None = None,
    actor: str = "practitioner",
    now: datetime | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Read `paths` with the right adapter and import them (see module docstring)."""
    zone = ZoneInfo(load_settings(unlocked.workspace.root)["timezone"])
    if progress is not None:
        progress(0, STEPS[0])
    fmt = resolve_format(paths, fmt, mapping=mapping)
    batch = read_sources(paths, fmt, mapping=mapping, password=password, zone=zone)
    return import_batch(unlocked, batch, actor=actor, now=now, progress=progress, adapter=fmt)


def _adapter_of(batch: SourceBatch) -> str:
    """The adapter named by the `source` column of the batch's rows ("" when it has none)."""
    for table in batch.tables().values():
        if table.num_rows:
            return str(table.column("source")[0])
    return ""


def _file_counts(report: FileReport, adapter: str) -> import_reports.FileCounts:
    """What the import report keeps of a file: its label (never its path) and its counts."""
    return import_reports.FileCounts(
        label=report.source_label,
        adapter=adapter,
        kind=report.kind,
        format=report.format,
        **{key: getattr(report, key) for key in import_reports.COUNTS},
        reasons=dict(sorted(report.reasons.items())),
    )

"""`make bench`: speed of the main steps as ratios against a baseline run in this process.

Each benchmark times our code and a baseline doing the irreducible part of the same job
on the same data (parsing the CSV, writing plain Parquet, scanning the table), so the
ratio says what our work costs on top, whatever the machine. Timings are the best of
`--repeat` runs. Nothing here is asserted: tests never assert on time.

    .venv/bin/python -m benchmarks [--years 3] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from osteo_analytics import snapshots, vault, workspace
from osteo_analytics.contracts.checks import check
from osteo_analytics.ingest import import_paths
from osteo_analytics.synthetic import synthesize

PASSPHRASE = "banc d'essai lent mais sûr"
MULTILINE = pacsv.ParseOptions(newlines_in_values=True)  # LibreOsteo quotes line breaks


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_synth(tmp: Path, years: int, repeat: int) -> dict[str, object]:
    """Generator vs plain csv.writer writing as many rows of the same width."""
    outs = iter(range(1000))
    summary = synthesize(tmp / "practice", years=years)
    rows = sum(summary.consultations.values())

    def ours() -> None:
        synthesize(tmp / f"synth-{next(outs)}", years=years, formats=("libreosteo",))

    def baseline() -> None:
        with (tmp / "baseline.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            row = ["Dupont", "Marie", "1981-04-03", "2024-03-21T14:00:00+01:00", "Lombalgie"] * 4
            for _ in range(rows * 3):  # patients, examinations and invoices rows
                writer.writerow(row)

    return {"rows": rows, "ours_s": best(ours, repeat), "baseline_s": best(baseline, repeat)}


def bench_import(tmp: Path, repeat: int) -> dict[str, object]:
    """Whole import (read, pseudonymize, contracts, merge, encrypt) vs parsing the CSVs."""
    export = tmp / "practice" / "libreosteo"
    blank = tmp / "blank"
    workspace.init_workspace(blank, PASSPHRASE, work_factor=10)
    runs = iter(range(1000))

    def ours() -> None:
        target = tmp / f"ws-{next(runs)}"
        shutil.copytree(blank, target)
        workspace.forget_unlocked()
        unlocked = workspace.Workspace(target).unlock(PASSPHRASE)
        import_paths(unlocked, [export])

    def baseline() -> None:
        for name in ("patients.csv", "examinations.csv", "invoices.csv"):
            pacsv.read_csv(export / name, parse_options=MULTILINE)

    return {"ours_s": best(ours, repeat), "baseline_s": best(baseline, repeat)}


def bench_contracts(repeat: int, rows: int = 1_000_000) -> dict[str, object]:
    """Every rule of the consultations contract vs one full scan of the same table."""
    con = duckdb.connect(":memory:")
    con.execute(
        f"""CREATE TABLE consultations AS SELECT
            'C-' || lpad(i::VARCHAR, 16, '0') AS consultation_id,
            'P-' || lpad((i % 50000)::VARCHAR, 16, '0') AS patient_key,
            'PR-' || lpad((i % 3)::VARCHAR, 16, '0') AS practitioner_id,
            DATE '2005-01-01' + (i % 7000)::INTEGER AS consulted_on,
            TIME '09:00:00' AS start_time,
            'done' AS status, 'follow_up' AS consultation_type,
            'low_back' AS motif_category, 'synthetic' AS source
        FROM range({rows}) t(i)"""
    )

    def ours() -> None:
        check(con, "consultations", "consultations")

    def baseline() -> None:
        con.execute("SELECT count(DISTINCT consultation_id) FROM consultations").fetchall()

    return {"rows": rows, "ours_s": best(ours, repeat), "baseline_s": best(baseline, repeat)}


def bench_snapshot(tmp: Path, repeat: int) -> dict[str, object]:
    """Encrypted, verified snapshot write+read vs plain Parquet write+read of the same tables."""
    unlocked = workspace.Workspace(tmp / "ws-0").unlock(PASSPHRASE)
    tables = snapshots.read_snapshot(unlocked.workspace.snapshots_dir, unlocked.identities)
    identity = vault.generate_identity()
    runs = iter(range(1000))

    def ours() -> None:
        folder = tmp / f"snap-{next(runs)}"
        snapshots.write_snapshot(folder, tables, [identity.recipient])
        snapshots.read_snapshot(folder, [identity.secret])

    def baseline() -> None:
        folder = tmp / f"plain-{next(runs)}"
        folder.mkdir()
        for name, table in tables.items():
            pq.write_table(table, folder / f"{name}.parquet", compression="zstd")
        for name in tables:
            pq.read_table(folder / f"{name}.parquet")

    rows = sum(t.num_rows for t in tables.values())
    return {"rows": rows, "ours_s": best(ours, repeat), "baseline_s": best(baseline, repeat)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="machine-readable results")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="osteo-bench-"))
    try:
        results = {
            "synth": bench_synth(tmp, args.years, args.repeat),
            "import": bench_import(tmp, args.repeat),
            "contracts": bench_contracts(args.repeat),
            "snapshot": bench_snapshot(tmp, args.repeat),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for result in results.values():
        result["ratio"] = round(float(result["ours_s"]) / float(result["baseline_s"]), 2)  # type: ignore[arg-type]
    results["peak_rss_mb"] = {"value": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for name, result in results.items():
        if name == "peak_rss_mb":
            print(f"peak RSS: {result['value']} MB")
            continue
        rows = f" ({result['rows']:,} rows)" if "rows" in result else ""
        print(
            f"{name:<10}{rows:<20} ours {result['ours_s']:.3f} s  "
            f"baseline {result['baseline_s']:.3f} s  ratio {result['ratio']}"
        )


if __name__ == "__main__":
    pa.set_cpu_count(2)
    main()

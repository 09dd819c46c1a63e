"""Time the synthetic practice generator, one format at a time.

    .venv/bin/python benchmarks/bench_synth.py --scale 1 --years 3
    /usr/bin/time -v .venv/bin/python benchmarks/bench_synth.py --scale 100 --years 20 \
        --formats ledger

Prints appointments, seconds, appointments per second, the peak RSS of this process and
of its largest worker process (formats are written by up to two processes side by side;
`--workers 1` keeps everything in this one), and the CPU seconds of both.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
from pathlib import Path

from osteo_analytics.synthetic import FORMATS, synthesize


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--practitioners", type=int, default=2)
    parser.add_argument("--formats", nargs="+", default=list(FORMATS), choices=FORMATS)
    parser.add_argument("--keep", type=Path, help="write here and keep the files")
    parser.add_argument("--workers", type=int, help="processes (default: synthesize decides)")
    args = parser.parse_args()
    out = args.keep or Path(tempfile.mkdtemp(prefix="bench-synth-")) / "out"
    try:
        summary = synthesize(
            out,
            scale=args.scale,
            years=args.years,
            practitioners=args.practitioners,
            formats=tuple(args.formats),
            workers=args.workers,
        )
        appointments = sum(summary.consultations.values())
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        own = resource.getrusage(resource.RUSAGE_SELF)
        workers = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime
        print(
            f"formats={','.join(args.formats)} scale={args.scale} years={args.years}: "
            f"{appointments:,} appointments in {summary.seconds:.1f} s "
            f"({appointments / summary.seconds:,.0f}/s), {size / 1e6:,.0f} MB written, "
            f"peak RSS {own.ru_maxrss // 1024} MB (worker {workers.ru_maxrss // 1024} MB), "
            f"CPU {cpu:.0f} s"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(out.parent, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Navigation → first chart of each Voila app, against an empty notebook in the same Voila.

    .venv/bin/python -m benchmarks.bench_apps [--scale 1] [--repeat 5] [--json]

A synthetic practice (`--scale 1`: the demo's size, three years of two practitioners,
about 15 000 appointments; `--scale 6.4`: about 100 000) is imported into a fresh
workspace and served by `serve.Server`, once with preheated kernels (as `osteo serve`
does) and once cold (each page starts its kernel). In the system Chromium, each run opens
a fresh page on the app's render URL and stops the clock when the first plotly chart has
drawn its data; the baseline opens `empty.ipynb` (one `print`) in the same Voila and stops
when its output shows. The figure reported is the median of `--repeat` runs per app, and
the ratio app / empty notebook. Preheated pools refill after each page: the script waits
for the refill before the next run. Nothing is asserted (speed belongs here, not in tests).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from playwright.sync_api import Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from osteo_analytics import workspace
from osteo_analytics.ingest import import_paths
from osteo_analytics.serve import APPS, Server, free_port_from
from osteo_analytics.synthetic import synthesize

PASSPHRASE = "banc d'essai lent mais sûr"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
EMPTY_READY = "() => document.body.innerText.includes('notebook vide prêt')"
FIRST_CHART = """() => [...document.querySelectorAll('.js-plotly-plot')].some(gd =>
    (gd.data || []).some(t => (t.x || t.y || t.values || []).length > 0))"""


def empty_notebook(folder: Path) -> Path:
    path = folder / "empty.ipynb"
    nb = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}}
    )
    nb.cells = [nbformat.v4.new_code_cell('print("notebook vide prêt")')]
    nbformat.write(nb, path)
    return path


TIMEOUT_MS = 120_000


def timed(page: Page, url: str, ready: str) -> float | None:
    """Seconds from navigation to `ready`; None (and a line on stderr, with what the page
    showed) when it never came."""
    start = time.perf_counter()
    try:
        page.goto(url, timeout=TIMEOUT_MS)
        page.wait_for_function(ready, timeout=TIMEOUT_MS)
    except PlaywrightTimeout:
        shown = " ".join(page.inner_text("body").split())[:300]
        print(f"no chart after {TIMEOUT_MS // 1000} s on {url}: {shown!r}", file=sys.stderr)
        return None
    return time.perf_counter() - start


def measure(server: Server, repeat: int, settle: float) -> dict[str, dict[str, float | int | None]]:
    results: dict[str, list[float]] = {name: [] for name in (*APPS, "empty")}
    failures: dict[str, int] = dict.fromkeys(results, 0)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.new_page().goto(server.url, timeout=300_000)  # sets the cookie
        for _ in range(repeat):
            for name in results:
                page = context.new_page()
                url = server.app_url(name)
                ready = EMPTY_READY if name == "empty" else FIRST_CHART
                seconds = timed(page, url, ready)
                if seconds is None:
                    failures[name] += 1
                else:
                    results[name].append(seconds)
                page.close()
                time.sleep(settle)  # the preheated pool refills; kernels shut down
        browser.close()
    empty = statistics.median(results["empty"]) if results["empty"] else None
    report: dict[str, dict[str, float | int | None]] = {}
    for name, times in results.items():
        median = statistics.median(times) if times else None
        report[name] = {
            "median_s": None if median is None else round(median, 3),
            "ratio": round(median / empty, 2) if median is not None and empty else None,
            "failed": failures[name],
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--settle", type=float, default=8.0, help="seconds between pages")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--mode", choices=("preheated", "cold", "both"), default="both", help="kernels to time"
    )
    parser.add_argument("--log", type=Path, help="append the servers' logs to this file")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="osteo-bench-apps-"))
    try:
        summary = synthesize(tmp / "practice", years=3, scale=args.scale, formats=("libreosteo",))
        unlocked = workspace.init_workspace(tmp / "ws", PASSPHRASE).unlocked
        import_paths(unlocked, [tmp / "practice" / "libreosteo"])
        empty = empty_notebook(tmp)
        report: dict[str, object] = {
            "appointments": sum(summary.consultations.values()),
            "repeat": args.repeat,
        }
        modes = [(m, m == "preheated") for m in ("preheated", "cold") if args.mode in (m, "both")]
        for mode, preheat in modes:
            port = free_port_from(8900)
            with Server(
                unlocked, port=port, preheat=preheat, extra=[empty], log_file=args.log
            ) as server:
                time.sleep(args.settle * 2 if preheat else 1)  # the pools fill once
                report[mode] = measure(server, args.repeat, args.settle if preheat else 2)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{report['appointments']} rendez-vous, médiane de {args.repeat} ouvertures")
    for mode in ("preheated", "cold"):
        if mode not in report:
            continue
        figures = report[mode]
        assert isinstance(figures, dict)
        for name, f in figures.items():
            if f["median_s"] is None:
                print(f"  {mode:<9} {name:<9} no chart in {f['failed']} runs")
                continue
            failed = f"   ({f['failed']} without a chart)" if f["failed"] else ""
            print(f"  {mode:<9} {name:<9} {f['median_s']:>7.2f} s   ×{f['ratio']:.2f}{failed}")


if __name__ == "__main__":
    main()

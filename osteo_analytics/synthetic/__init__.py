"""A deterministic synthetic osteopathy practice, written in the raw formats importers read.

`synthesize(out)` simulates a shared cabinet day by day and writes, in one pass and with
bounded memory:

    out/ground_truth.json              the practice as it truly is (DESIGN.md headline figures)
    out/libreosteo/...                 LibreOsteo's exports + ground_truth.json (libreosteo_writer)
    out/ledger/...                     French receipts ledgers + ground_truth.json (ledger_writer)

Each format's ground truth is what a correct importer can recover from that format's files
alone; the module docstrings of the writers say how it differs from the true practice.
Same arguments, same bytes: nothing depends on the clock, the machine or the locale.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from osteo_analytics.contracts.model import codes
from osteo_analytics.errors import UsageError
from osteo_analytics.synthetic.ledger_writer import LedgerWriter
from osteo_analytics.synthetic.libreosteo_writer import DATASETS, LibreOsteoWriter
from osteo_analytics.synthetic.model import Exam, Practice
from osteo_analytics.synthetic.people import Patient, make_practitioners
from osteo_analytics.synthetic.truth import TruthBook, record_exam

__all__ = ["FORMATS", "SynthSummary", "plan", "synthesize"]

FORMATS = ("libreosteo", "ledger")
# LibreOsteo has no bank transfer means of payment: a virement is entered as a card payment.
LIBREOSTEO_METHODS = {"virement": "cb"}


@dataclass
class SynthSummary:
    """What `synthesize` wrote: counts of the true practice, rows per format, time taken."""

    out: Path
    start: dt.date
    end: dt.date
    patients: int = 0
    consultations: dict[str, int] = field(  # per canonical status
        default_factory=lambda: dict.fromkeys(codes("consultations", "status"), 0)
    )
    invoices: int = 0
    payments: int = 0
    rows: dict[str, dict[str, int]] = field(default_factory=dict)
    paths: dict[str, list[Path]] = field(default_factory=dict)  # per format, its truth included
    truth: Path | None = None  # out/ground_truth.json: the practice as it truly is
    seconds: float = 0.0


def _validate(
    out: Path,
    years: int,
    practitioners: int,
    patients: int | None,
    scale: float,
    formats: Sequence[str],
) -> None:
    if not isinstance(years, int) or years < 1:
        raise UsageError(
            f"nombre d'années : un entier au moins égal à 1 est attendu (reçu : {years!r})"
        )
    if not isinstance(practitioners, int) or practitioners < 1:
        raise UsageError(
            f"nombre de praticiens : au moins 1 est attendu (reçu : {practitioners!r})"
        )
    if patients is not None and (not isinstance(patients, int) or patients < 1):
        raise UsageError(f"taille de la patientèle : au moins 1 est attendu (reçu : {patients!r})")
    if not scale > 0:
        raise UsageError(
            f"multiplicateur d'activité : une valeur supérieure à 0 est attendue (reçu : {scale!r})"
        )
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise UsageError(
            f"format inconnu : {', '.join(unknown) or '(aucun)'} ; "
            f"formats possibles : {', '.join(FORMATS)}"
        )
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(
            f"{out} existe déjà et n'est pas vide : choisissez un dossier nouveau ou vide"
        )


def period_start(end: dt.date, years: int) -> dt.date:
    """First day of a period of `years` years ending on `end` (2025-12-31, 3 -> 2023-01-01)."""
    try:
        before = end.replace(year=end.year - years)
    except ValueError:  # 29 February
        before = end.replace(year=end.year - years, day=28)
    return before + dt.timedelta(days=1)


def _write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


# Tasks a run can be split into; each worker process regenerates the (deterministic)
# practice and writes its tasks. Weights: CPU per appointment, measured (model = 1).
MODEL_WEIGHT = 1.0
TASK_WEIGHTS = {
    "truth": 0.15,
    "libreosteo/truth": 0.15,
    "libreosteo/patients": 2.0,
    "libreosteo/examinations": 5.4,
    "libreosteo/invoices": 5.3,
    "ledger": 1.1,
}
# A plan minimizes the time of its slowest worker plus this share of the CPU time it
# spends (another worker regenerates the practice: worth it only if it saves time).
CPU_SHARE = 0.25
# Below this many expected appointments, one process does everything: a worker costs about
# a second to start, and the practice is generated once more in it.
PARALLEL_FROM = 40_000


@dataclass(frozen=True)
class _Params:
    out: Path
    seed: int
    start: dt.date
    end: dt.date
    years: int
    practitioners: int
    patients: int | None
    scale: float

    @property
    def expected(self) -> float:
        """Roughly how many appointments the practice will have."""
        return 2_600 * self.practitioners * self.scale * self.years


def _tasks(formats: Sequence[str]) -> list[str]:
    tasks = ["truth"]
    if "libreosteo" in formats:
        tasks += [
            "libreosteo/truth",
            "libreosteo/patients",
            "libreosteo/examinations",
            "libreosteo/invoices",
        ]
    if "ledger" in formats:
        tasks.append("ledger")
    return tasks


def plan(tasks: Sequence[str], workers: int) -> list[list[str]]:
    """Split tasks over at most `workers` processes (largest first, greedily).

    Each task goes where the slowest worker's time plus CPU_SHARE of the total CPU time is
    least; a new worker costs MODEL_WEIGHT more CPU.
    """
    groups: list[list[str]] = [[]]
    loads = [MODEL_WEIGHT]
    for task in sorted(tasks, key=lambda t: -TASK_WEIGHTS[t]):
        weight = TASK_WEIGHTS[task]
        options = [*loads, 0.0] if len(groups) < workers else loads
        scores = []
        for i, load in enumerate(options):
            after = [*loads, 0.0][: len(options)]
            after[i] = (load or MODEL_WEIGHT) + weight
            scores.append(max(after) + CPU_SHARE * sum(after))
        best = scores.index(min(scores))
        if best == len(groups):
            groups.append([])
            loads.append(MODEL_WEIGHT)
        groups[best].append(task)
        loads[best] += weight
    return [sorted(g, key=list(tasks).index) for g in groups]


def synthesize(
    out: Path,
    *,
    seed: int = 42,
    years: int = 3,
    practitioners: int = 2,
    patients: int | None = None,
    scale: float = 1.0,
    end: dt.date = dt.date(2025, 12, 31),
    formats: Sequence[str] = FORMATS,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> SynthSummary:
    """Generate a practice of `practitioners` osteopaths over `years` years ending on `end`.

    `scale` multiplies the appointments of each half-day (1.0 ≈ 2,500 appointments per
    practitioner and year); `patients` caps the patient base (default: whoever comes).
    `progress`, if given, is called with the number of appointments generated so far.
    `workers` processes write the files side by side, each regenerating the practice
    (default: one per CPU, up to 2, for large practices; 1 otherwise); the files are the
    same whatever the number of workers.
    Raises UsageError for bad parameters or an `out` directory that is not empty.
    """
    out = Path(out)
    _validate(out, years, practitioners, patients, scale, formats)
    began = time.perf_counter()
    start = period_start(end, years)
    params = _Params(out, seed, start, end, years, practitioners, patients, scale)
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if params.expected >= PARALLEL_FROM else 1
    out.mkdir(parents=True, exist_ok=True)
    for fmt in FORMATS:
        if fmt in formats:
            (out / fmt).mkdir()
    groups = plan(_tasks(formats), workers)
    children = [_start_worker(params, group) for group in groups[1:]]
    try:
        parts = [_generate(params, groups[0], progress)]
        parts += [_finish_worker(child) for child in children]
    finally:
        for child in children:
            if child.poll() is None:  # interrupted, or another worker failed
                child.kill()
                child.wait()
    summary = _merge(params, parts)
    summary.seconds = time.perf_counter() - began
    return summary


def _start_worker(params: _Params, tasks: list[str]) -> subprocess.Popen[str]:
    """A child interpreter that writes `tasks` (see `worker`); its answer comes at the end."""
    from osteo_analytics.synthetic.worker import encode_request

    root = str(Path(__file__).resolve().parents[2])  # so the child imports this very code
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    child = subprocess.Popen(
        [sys.executable, "-m", "osteo_analytics.synthetic.worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=env,
    )
    assert child.stdin is not None
    child.stdin.write(encode_request(params, tasks))
    child.stdin.close()
    return child


def _finish_worker(child: subprocess.Popen[str]) -> _Part:
    from osteo_analytics.synthetic.worker import decode_part

    assert child.stdout is not None
    answer = child.stdout.read()
    child.wait()
    if not answer:
        raise RuntimeError(f"synthetic practice worker stopped (exit status {child.returncode})")
    return decode_part(answer)


@dataclass
class _Part:
    """What one worker wrote: the practice's counts, and rows and paths by task."""

    patients: int
    consultations: dict[str, int]
    invoices: int
    payments: int
    rows: dict[str, dict[str, int]]
    paths: dict[str, list[Path]]


def _generate(
    params: _Params, tasks: Sequence[str], progress: Callable[[int], None] | None
) -> _Part:
    """Run the practice once and write `tasks` (see TASK_WEIGHTS)."""
    out, start, end = params.out, params.start, params.end
    staff = make_practitioners(params.practitioners, params.seed)
    practice = Practice(
        seed=params.seed,
        start=start,
        end=end,
        practitioners=staff,
        scale=params.scale,
        patient_cap=params.patients,
        records="libreosteo/patients" in tasks,
    )
    consultations = dict.fromkeys(codes("consultations", "status"), 0)
    invoices = payments = 0
    truth = TruthBook(start, end) if "truth" in tasks else None
    lo_truth = TruthBook(start, end) if "libreosteo/truth" in tasks else None
    lo_parts = [t.removeprefix("libreosteo/") for t in tasks if t.startswith("libreosteo/")]
    lo_parts = [p for p in lo_parts if p in DATASETS]
    lo = None
    if lo_parts:
        # A sheet entry past 4 GiB of XML needs zip64 (≈ 1M examination rows of ~4 KB).
        lo = LibreOsteoWriter(
            out / "libreosteo",
            staff,
            practice.factory.card,
            zip64=params.expected > 400_000,
            parts=lo_parts,
        )
    ledger = ledger_truth = None
    if "ledger" in tasks:
        ledger_truth = TruthBook(start, end)
        ledger = LedgerWriter(
            out / "ledger", start, end, ledger_truth, staff, practice.factory.ledger_names
        )

    reported = 0
    for item in practice.run():
        if isinstance(item, Patient):
            if lo is not None:
                lo.patient(item)
            continue
        exam: Exam = item
        consultations[exam.outcome] += 1
        invoices += len(exam.invoices)
        payments += sum(len(i.money) for i in exam.invoices)
        if truth is not None:
            record_exam(truth, exam)
        if lo_truth is not None:
            record_exam(lo_truth, exam, LIBREOSTEO_METHODS)
        if lo is not None:
            lo.exam(exam)
        if ledger is not None:
            ledger.exam(exam)
        if progress is not None and exam.id - reported >= 1000:
            reported = exam.id
            progress(reported)

    paths: dict[str, list[Path]] = {}
    rows: dict[str, dict[str, int]] = {}
    if truth is not None:
        _write_json(out / "ground_truth.json", truth.to_json())
        paths["truth"] = [out / "ground_truth.json"]
    if lo is not None:
        for dataset, written in lo.close().items():
            paths[f"libreosteo/{dataset}"] = written
        rows["libreosteo"] = dict(lo.counts)
    if lo_truth is not None:
        _write_json(out / "libreosteo" / "ground_truth.json", lo_truth.to_json())
        paths["libreosteo/truth"] = [out / "libreosteo" / "ground_truth.json"]
    if ledger is not None and ledger_truth is not None:
        paths["ledger"] = ledger.close()
        rows["ledger"] = {"receipts": ledger.rows}
        _write_json(out / "ledger" / "ground_truth.json", ledger_truth.to_json())
        paths["ledger"].append(out / "ledger" / "ground_truth.json")
    if progress is not None:
        progress(practice.exam_count)
    return _Part(len(practice.created), consultations, invoices, payments, rows, paths)


def _merge(params: _Params, parts: list[_Part]) -> SynthSummary:
    """One summary from the workers' parts (each saw the same practice)."""
    first = parts[0]
    summary = SynthSummary(
        out=params.out,
        start=params.start,
        end=params.end,
        patients=first.patients,
        consultations=dict(first.consultations),
        invoices=first.invoices,
        payments=first.payments,
    )
    paths = {task: written for part in parts for task, written in part.paths.items()}
    for part in parts:
        for fmt, counts in part.rows.items():
            summary.rows.setdefault(fmt, {}).update(counts)
    if "libreosteo" in summary.rows:
        summary.rows["libreosteo"] = {
            d: summary.rows["libreosteo"][d] for d in DATASETS if d in summary.rows["libreosteo"]
        }
        summary.paths["libreosteo"] = [
            p for d in (*DATASETS, "truth") for p in paths.get(f"libreosteo/{d}", [])
        ]
    if "ledger" in paths:
        summary.paths["ledger"] = paths["ledger"]
    summary.truth = params.out / "ground_truth.json"
    return summary

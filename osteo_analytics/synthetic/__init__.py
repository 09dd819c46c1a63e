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
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .ledger_writer import LedgerWriter
from .libreosteo_writer import LibreOsteoWriter
from .model import Exam, Practice
from .people import Patient, make_practitioners
from .truth import TruthBook, record_exam

__all__ = ["FORMATS", "SynthSummary", "synthesize"]

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
    consultations: dict[str, int] = field(
        default_factory=lambda: {"done": 0, "cancelled": 0, "no_show": 0}
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
        raise UsageError(f"--years must be a whole number of at least 1 (got {years!r})")
    if not isinstance(practitioners, int) or practitioners < 1:
        raise UsageError(f"--practitioners must be at least 1 (got {practitioners!r})")
    if patients is not None and (not isinstance(patients, int) or patients < 1):
        raise UsageError(f"--patients must be at least 1 (got {patients!r})")
    if not scale > 0:
        raise UsageError(f"--scale must be greater than 0 (got {scale!r})")
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise UsageError(
            f"unknown format {', '.join(unknown) or '(none)'}: choose from {', '.join(FORMATS)}"
        )
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"{out} already exists and is not empty: choose a new or empty directory")


def period_start(end: dt.date, years: int) -> dt.date:
    """First day of a period of `years` years ending on `end` (2025-12-31, 3 -> 2023-01-01)."""
    try:
        before = end.replace(year=end.year - years)
    except ValueError:  # 29 February
        before = end.replace(year=end.year - years, day=28)
    return before + dt.timedelta(days=1)


def _write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


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
) -> SynthSummary:
    """Generate a practice of `practitioners` osteopaths over `years` years ending on `end`.

    `scale` multiplies the appointments of each half-day (1.0 ≈ 2,100 appointments per
    practitioner and year); `patients` caps the patient base (default: whoever comes).
    `progress`, if given, is called with the number of appointments generated so far.
    Raises UsageError for bad parameters or an `out` directory that is not empty.
    """
    out = Path(out)
    _validate(out, years, practitioners, patients, scale, formats)
    began = time.perf_counter()
    start = period_start(end, years)
    staff = make_practitioners(practitioners, seed)
    practice = Practice(
        seed=seed,
        start=start,
        end=end,
        practitioners=staff,
        scale=scale,
        patient_cap=patients,
        records="libreosteo" in formats,
    )
    out.mkdir(parents=True, exist_ok=True)
    summary = SynthSummary(out=out, start=start, end=end)
    truth = TruthBook(start, end)
    lo_truth = lo = ledger = ledger_truth = None
    if "libreosteo" in formats:
        (out / "libreosteo").mkdir()
        lo_truth = TruthBook(start, end)
        # A sheet entry past 4 GiB of XML needs zip64 (≈ 1M examination rows of ~4 KB).
        expected_rows = 2_200 * practitioners * scale * years
        lo = LibreOsteoWriter(
            out / "libreosteo", staff, practice.factory.card, zip64=expected_rows > 400_000
        )
    if "ledger" in formats:
        (out / "ledger").mkdir()
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
        summary.consultations[exam.outcome] += 1
        summary.invoices += len(exam.invoices)
        summary.payments += sum(len(i.money) for i in exam.invoices)
        record_exam(truth, exam)
        if lo is not None and lo_truth is not None:
            record_exam(lo_truth, exam, LIBREOSTEO_METHODS)
            lo.exam(exam)
        if ledger is not None:
            ledger.exam(exam)
        if progress is not None and exam.id - reported >= 1000:
            reported = exam.id
            progress(reported)

    summary.patients = len(practice.created)
    _write_json(out / "ground_truth.json", truth.to_json())
    summary.truth = out / "ground_truth.json"
    if lo is not None and lo_truth is not None:
        summary.paths["libreosteo"] = [p for paths in lo.close().values() for p in paths]
        summary.rows["libreosteo"] = dict(lo.counts)
        _write_json(out / "libreosteo" / "ground_truth.json", lo_truth.to_json())
        summary.paths["libreosteo"].append(out / "libreosteo" / "ground_truth.json")
    if ledger is not None and ledger_truth is not None:
        summary.paths["ledger"] = ledger.close()
        summary.rows["ledger"] = {"receipts": ledger.rows}
        _write_json(out / "ledger" / "ground_truth.json", ledger_truth.to_json())
        summary.paths["ledger"].append(out / "ledger" / "ground_truth.json")
    if progress is not None:
        progress(practice.exam_count)
    summary.seconds = time.perf_counter() - began
    return summary

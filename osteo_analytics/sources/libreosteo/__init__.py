"""LibreOsteo adapter: CSV/XLSX exports of a LibreOsteo practice → stage-1 source tables.

Input: an export folder or any set of ``patients``, ``examinations`` and ``invoices``
exports, ``.csv`` or ``.xlsx``. Each file is recognized by its header row, not its name.
When the same records come in both formats, the XLSX file wins (it is richer: patient
creation date, examination status/type/invoices) and the CSV copies count as duplicates.

Decisions (the sample's README and ground_truth.json are the reference):

- **Time.** Every date is the local day of the practice's time zone (setting
  ``timezone``, Europe/Paris by default); consultations keep the local start time. CSV
  datetimes carry their offset and are converted; XLSX ones are already local.
- **Examinations → consultations.** LibreOsteo status 0 (in progress), 1 and 2 (invoiced)
  are sessions that took place: ``done``. Status 3 (not invoiced) is ``no_show`` or
  ``cancelled`` when its reason says so (absent, non honoré, lapin / annulé...), ``done``
  otherwise (free or shortened session). Types 1-4 → first, follow_up, return, urgent.
- **CSV-only imports lose** what only ``examinations.xlsx`` holds: status (every session is
  ``done``: no cancellation or no-show is visible), type (``follow_up`` when the reason
  starts with "Suite", ``other`` otherwise) and the invoice ↔ examination link, rebuilt
  as the patient's session on the invoice's local day (re-issues on another day stay
  unlinked).
  ``patients.csv`` has no creation date: ``registered_on`` is null.
- **Invoices.** status 1 → ``issued``, 2 → ``paid``, 3 → ``cancelled``, type creditnote →
  ``credit_note`` (negative amount); drafts (status 0) are excluded. ``canceled_by`` (an
  internal id) gives the credit note's ``cancels_invoice_number`` or the replacement's
  ``replaces_invoice_number``; ``replace`` (a number) gives the latter directly.
- **Payments (encaissé basis, refunds negative).** LibreOsteo records a ``Paiment`` row
  only for an invoice issued unpaid (``notpaid``) and settled later; an invoice issued
  with a real means was paid at closing and has none. So an invoice (live or cancelled)
  yields its ``Paiment`` rows, or one payment of its amount on its issue day by its means
  (``autre`` when paid but ``notpaid`` with no row). A credit note is a refund (negative)
  of what the invoice it cancels received, on the credit note's day, by its means (which
  it copies from the original); an invoice cancelled by a replacement invoice is refunded
  in full on the replacement's day by its own means. Money thus lands in the month it was
  received, nothing is counted twice, and over a period where every correction is
  complete, payments add up to the ground truth's ``paid_amount``. Unpaid (status 1)
  invoices yield nothing.
- **Invoice → patient.** The invoice holds no patient id, only a snapshot of family,
  birth and first name and address. Through the examination when linked by
  examinations.xlsx, else through the invoice it cancels or replaces. Otherwise among the
  patients (patients files, then examinations) of that family and first name, folded as
  LibreOsteo and pseudonymize fold names: the only one; else the one that some
  combination of birth name, street, complement, postcode and city names alone (a patient
  who moved since is still named by what did not change); else, for an invoice issued
  within ``CORRECTION_WINDOW`` after a credit note with the same snapshot, that credit
  note's patient (a corrective invoice, at a time with no session); else the one of them
  with a session that day not yet invoiced, started before the invoice. What stays
  ambiguous is quarantined ``ambiguous_patient``, with a French reason giving how many
  patients it could be (never their names); no one of that name: ``unknown_patient``.
- **Practitioners.** From therapist names on examinations and invoices. The one with the
  most examinations (invoices if none) is ``titular``; the others ``replacement``.
- **Minimization.** Clinical free text, contact details and addresses are never copied;
  the postcode stays (``pseudonymize`` turns it into a département); the reason becomes
  ``motif_category``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any

from osteo_analytics.errors import InputError
from osteo_analytics.pseudonymize.motifs import motif_category
from osteo_analytics.sources import files as source_files
from osteo_analytics.sources.base import (
    CONSULTATIONS_SCHEMA,
    INVOICES_SCHEMA,
    PATIENTS_SCHEMA,
    PAYMENTS_SCHEMA,
    PRACTITIONERS_SCHEMA,
    RejectedRow,
    SourceBatch,
    table_from_columns,
)
from osteo_analytics.sources.libreosteo import files as lf
from osteo_analytics.sources.libreosteo import rows as lr

name = "libreosteo"
SOURCE = "libreosteo"
# Files LibreOsteo names itself: always read from a folder, so a damaged one is reported.
KNOWN_FILE_NAMES = frozenset(
    f"{stem}.{ext}"
    for stem in ("patients", "examinations", "invoices", "factures")
    for ext in ("csv", "xlsx")
)
_FORMAT_PRIORITY = {"xlsx": 0, "csv": 1}
_KIND_ORDER = ("patients", "examinations", "invoices")


def detect(path: Path) -> bool:
    """True if ``path`` is a LibreOsteo export file, or a folder holding one. Never raises."""
    try:
        return bool(_collect([path], None))  # no password: detection never asks for one
    except (InputError, OSError):
        return False


def read(
    paths: Sequence[Path], *, zone: tzinfo = lf.PARIS, password: source_files.Password | None = None
) -> SourceBatch:
    """Adapter-protocol alias of :func:`read_libreosteo`."""
    return read_libreosteo(paths, zone=zone, password=password)


def read_libreosteo(
    paths: Sequence[Path], *, zone: tzinfo = lf.PARIS, password: source_files.Password | None = None
) -> SourceBatch:
    """Read LibreOsteo exports (files and/or folders) into a stage-1 :class:`SourceBatch`.

    ``zone`` is the practice's time zone (setting ``timezone``): date-times with an
    offset become local days and times in it. ``password(path)`` is asked for a workbook
    protected after its export (never otherwise). Raises ``InputError`` (one line, naming
    the file) when a file is not a readable LibreOsteo export. Rows that cannot be parsed
    are quarantined, not raised.
    """
    try:
        return _read(paths, zone, password)
    finally:
        # the caches hold names and addresses: keep them no longer than the read
        for cached in (lf.fold, lr.fingerprint, lr.name_key):
            cached.cache_clear()


def _read(
    paths: Sequence[Path], zone: tzinfo, password: source_files.Password | None
) -> SourceBatch:
    exports = sorted(_collect(paths, password), key=lambda e: _FORMAT_PRIORITY[e.format])
    rejected: list[RejectedRow] = []
    tallies: list[lr.Tally] = []
    patients: dict[Any, lr.Patient] = {}
    exams: dict[Any, lr.Exam] = {}
    invoices: dict[Any, lr.Invoice] = {}
    motif_of = _motif_classifier()
    for kind in _KIND_ORDER:
        for export in (e for e in exports if e.kind == kind):
            tally = lr.Tally(export, rejected)
            tallies.append(tally)
            if kind == "patients":
                lr.read_patients(export, tally, patients)
            elif kind == "examinations":
                lr.read_exams(export, tally, exams, motif_of, zone)
            else:
                lr.read_invoices(export, tally, invoices, zone)

    exam_list = list(exams.values())
    kept_invoices = _link_invoices(list(invoices.values()), exam_list, list(patients.values()))
    records: list[lr.Patient | lr.Exam | lr.Invoice] = [*patients.values(), *exam_list]
    for record in [*records, *kept_invoices]:
        record.tally.report.accepted += 1

    batch = SourceBatch(
        patients=_patients_table(list(patients.values())),
        practitioners=_practitioners_table(exam_list, kept_invoices),
        consultations=_consultations_table(exam_list),
        invoices=_invoices_table(kept_invoices),
        payments=_payments_table(kept_invoices),
        files=[t.report for t in tallies],
        rejected=rejected,
    )
    batch.assert_valid()
    return batch


def _collect(paths: Sequence[Path], password: source_files.Password | None) -> list[lf.ExportFile]:
    opened: dict[Path, lf.ExportFile] = {}

    def is_export(child: Path) -> bool:
        own = child.name.lower() in KNOWN_FILE_NAMES
        try:
            # another protected spreadsheet in the folder is skipped, its password not asked
            opened[child] = lf.open_export(child, password if own else None)
        except InputError:
            # other spreadsheets may share the folder; LibreOsteo's own names must read
            if own:
                raise
            return False
        return True

    found = source_files.collect(paths, lf.FORMATS, "export LibreOsteo", keep=is_export)
    return [opened.get(p) or lf.open_export(p, password) for p in found]


def _motif_classifier() -> Callable[[str], str | None]:
    """pseudonymize.motif_category with a per-read cache."""
    cache: dict[str, str | None] = {}  # reasons repeat a lot; dropped when the read ends

    def classify(text: str) -> str | None:
        if text not in cache:
            cache[text] = motif_category(text)
        return cache[text]

    return classify


# --- linking ---------------------------------------------------------------------------

# A corrective invoice follows its credit note within minutes (LibreOsteo's sample: 3).
CORRECTION_WINDOW = timedelta(minutes=30)


@dataclass(slots=True, eq=False)
class _Person:
    """A patient known in the batch (patients files first, then examinations)."""

    family: str
    first: str
    birth_date: date | None
    marks: lr.Marks  # birth name and address digests; all None when only seen in sessions


class _Linker:
    """Finds each invoice's patient and session; invoices must come in chronological order.

    An invoice names its patient by family, birth and first name and address only. Among
    the patients of that family and first name, it goes to the one that some combination
    of its other fields names alone; else to the patient of the credit note it corrects
    (issued minutes before, same snapshot); else to the one of them who had a session
    that day, not yet invoiced, started before the invoice.
    """

    def __init__(self, patients: list[lr.Patient], exams: list[lr.Exam]) -> None:
        self.people: dict[Any, _Person] = {}  # by lr.patient_key
        self.named: dict[tuple[str, str], list[_Person]] = {}
        unknown: lr.Marks = (None,) * len(lr.MARK_FIELDS)
        for p in patients:
            self._add(p.family, p.first, p.birth_date, p.marks or unknown)
        self.sessions: dict[tuple[tuple[str, str], date], list[tuple[lr.Exam, _Person]]] = {}
        for e in exams:
            person = self._add(e.family, e.first, e.birth_date, unknown)
            self.sessions.setdefault((lr.name_key(e.family, e.first), e.at.date()), []).append(
                (e, person)
            )
        self.claimed: set[str] = set()  # refs of sessions an invoice already belongs to
        self.notes: dict[tuple[tuple[str, str], date], list[tuple[lr.Invoice, _Person]]] = {}

    def _add(self, family: str, first: str, birth: date | None, marks: lr.Marks) -> _Person:
        key = lr.patient_key(family, first, birth)
        person = self.people.get(key)
        if person is None:
            person = self.people[key] = _Person(family, first, birth, marks)
            self.named.setdefault(lr.name_key(family, first), []).append(person)
        return person

    def person_of(self, exam: lr.Exam) -> _Person:
        return self.people[lr.patient_key(exam.family, exam.first, exam.birth_date)]

    def resolve(self, inv: lr.Invoice) -> tuple[_Person | None, int]:
        """The invoice's patient, or None and how many patients it could be (0: nobody)."""
        name = lr.name_key(inv.family, inv.first)
        candidates = self.named.get(name, [])
        if len(candidates) <= 1:
            return (candidates[0] if candidates else None), len(candidates)
        named, consistent = _compare(candidates, inv.marks)
        if len(named) == 1:
            return named[0], 1
        # "still match": those that nothing in the invoice contradicts (or all, if none)
        pool = named if named else consistent if len(consistent) > 1 else candidates
        day = (name, inv.at.date())
        if inv.status != "credit_note":
            corrected = {
                id(who): who
                for note, who in self.notes.get(day, [])
                if inv.at - CORRECTION_WINDOW <= note.at <= inv.at
                and note.marks == inv.marks
                and any(who is c for c in pool)
            }
            if len(corrected) == 1:
                return next(iter(corrected.values())), 1
        open_sessions = [
            (e, who)
            for e, who in self.sessions.get(day, [])
            if e.ref not in self.claimed and any(who is c for c in pool)
        ]
        started = [s for s in open_sessions if s[0].at < inv.at] or open_sessions
        seen = {id(who): who for _, who in started}
        if len(seen) == 1:
            return next(iter(seen.values())), 1
        return None, len(seen) if len(seen) > 1 else len(pool)

    def session(self, inv: lr.Invoice, person: _Person) -> str | None:
        """Without examinations.xlsx: the patient's session that day, if any."""
        same_day = [
            e
            for e, who in self.sessions.get((lr.name_key(inv.family, inv.first), inv.at.date()), [])
            if who is person
        ]
        if not same_day:
            return None
        # the invoice is issued when the session is closed: latest session started before
        before = [e for e in same_day if e.at <= inv.at]
        return (
            max(before, key=lambda e: e.at) if before else min(same_day, key=lambda e: e.at)
        ).ref

    def linked(self, inv: lr.Invoice, person: _Person) -> None:
        """Remember what the invoice settled: its session, or its credit note's patient."""
        if inv.status == "credit_note":
            day = (lr.name_key(inv.family, inv.first), inv.at.date())
            self.notes.setdefault(day, []).append((inv, person))
        elif inv.ref:
            self.claimed.add(inv.ref)


def _compare(candidates: list[_Person], marks: lr.Marks) -> tuple[list[_Person], list[_Person]]:
    """(named alone, consistent): what the invoice's fields say of each namesake.

    A combination of fields names a candidate alone when the candidate agrees with the
    invoice on each of them and every other candidate differs on one (an unknown field
    differs from nothing); the best combination of a candidate is all it agrees on. A
    consistent candidate differs from the invoice on no field.
    """
    agree, differ = [], []
    for c in candidates:
        known = [(m, c.marks[i]) for i, m in enumerate(marks) if m is not None]
        agree.append({i for i, (m, mine) in enumerate(known) if mine == m})
        differ.append({i for i, (m, mine) in enumerate(known) if mine is not None and mine != m})
    named = [
        c
        for k, c in enumerate(candidates)
        if all(agree[k] & differ[j] for j in range(len(candidates)) if j != k)
    ]
    return named, [c for k, c in enumerate(candidates) if not differ[k]]


def _link_invoices(
    invoices: list[lr.Invoice], exams: list[lr.Exam], patients: list[lr.Patient]
) -> list[lr.Invoice]:
    """Tie invoices to consultations and patients; return those kept (others quarantined)."""
    by_ref = {e.ref: e for e in exams}
    ref_of_id = {i: e.ref for e in exams for i in e.invoice_ids}
    for inv in invoices:
        inv.ref = ref_of_id.get(inv.inv_id) if inv.inv_id else None
    _follow_chains(invoices)
    by_number = {i.number: i for i in invoices}
    linker = _Linker(patients, exams)
    whose: dict[int, _Person] = {}  # id(invoice) -> patient, for the corrections that follow
    # chronological: a credit note or replacement comes after the invoice it corrects
    order = sorted(invoices, key=lambda i: (i.at, i.status != "credit_note"))
    for inv in order:
        exam = by_ref.get(inv.ref) if inv.ref else None
        before = by_number.get(inv.cancels or inv.replaces or "")
        person = whose.get(id(before)) if before is not None else None
        if exam is not None:
            person = linker.person_of(exam)
            inv.family, inv.first, inv.birth_date = exam.family, exam.first, exam.birth_date
        elif person is not None and before is not None:  # the invoice it corrects tells
            inv.ref = inv.ref or before.ref
            inv.family, inv.first, inv.birth_date = person.family, person.first, person.birth_date
        else:
            person, count = linker.resolve(inv)
            if person is None:
                if count == 0:
                    inv.tally.quarantine(inv.row, "*", "unknown_patient", _NO_ONE)
                else:
                    inv.tally.quarantine(inv.row, "*", "ambiguous_patient", _ambiguous(count))
                continue
            if inv.status != "credit_note":
                inv.ref = linker.session(inv, person)
            inv.family, inv.first, inv.birth_date = person.family, person.first, person.birth_date
        whose[id(inv)] = person
        linker.linked(inv, person)
    return [i for i in invoices if id(i) in whose]


_NO_ONE = "aucun patient de l'export ne porte ces nom et prénom"


def _ambiguous(count: int) -> str:
    """French reason of an invoice `count` namesakes could own (never a name)."""
    return (
        f"patient ambigu : {count} patients portent ces nom et prénom, et ni le nom de"
        " naissance, ni l'adresse, ni un avoir, ni une séance ce jour-là ne les départagent"
    )


def _follow_chains(invoices: list[lr.Invoice]) -> None:
    """canceled_by (id → id) and replace (number → number) between invoices."""
    by_id = {i.inv_id: i for i in invoices if i.inv_id}
    by_number = {i.number: i for i in invoices}
    for old in sorted(invoices, key=lambda i: i.at):  # chains of several corrections in order
        new = by_id.get(old.canceled_by) if old.canceled_by else None
        if new is None:
            continue
        if new.status == "credit_note":
            new.cancels = new.cancels or old.number
        elif new.replaces is None:
            new.replaces = old.number
        new.ref = new.ref or old.ref
    for new in sorted(invoices, key=lambda i: i.at):
        replaced = by_number.get(new.replaces) if new.replaces else None
        if replaced is not None:
            new.ref = new.ref or replaced.ref
            replaced.replaced_on = replaced.replaced_on or new.at.date()


# --- tables ----------------------------------------------------------------------------


def _provenance(cols: dict[str, list[Any]], tally: lr.Tally, row: int) -> None:
    cols["source"].append(SOURCE)
    cols["source_file"].append(tally.name)
    cols["source_row"].append(row)


def _columns(schema: Any) -> dict[str, list[Any]]:
    return {f.name: [] for f in schema}


def _patients_table(patients: list[lr.Patient]) -> Any:
    cols = _columns(PATIENTS_SCHEMA)
    for p in patients:
        cols["family_name"].append(p.family)
        cols["first_name"].append(p.first)
        cols["birth_name"].append(p.birth_name)
        cols["birth_date"].append(p.birth_date)
        cols["sex"].append(p.sex)
        cols["postcode"].append(p.postcode)
        cols["registered_on"].append(p.registered_on)
        _provenance(cols, p.tally, p.row)
    return table_from_columns(PATIENTS_SCHEMA, cols)


def _practitioners_table(exams: list[lr.Exam], invoices: list[lr.Invoice]) -> Any:
    seen: dict[str, tuple[str, lr.Tally, int]] = {}
    exam_counts: Counter[str] = Counter()
    invoice_counts: Counter[str] = Counter()
    records: list[lr.Exam | lr.Invoice] = [*exams, *invoices]
    for rec in records:
        key = lf.fold(rec.practitioner)
        seen.setdefault(key, (rec.practitioner, rec.tally, rec.row))
        (exam_counts if isinstance(rec, lr.Exam) else invoice_counts)[key] += 1
    titular = max(seen, key=lambda k: (exam_counts[k], invoice_counts[k]), default=None)
    cols = _columns(PRACTITIONERS_SCHEMA)
    for key, (display, tally, row) in seen.items():
        cols["display_name"].append(display)
        cols["role"].append("titular" if key == titular else "replacement")
        _provenance(cols, tally, row)
    return table_from_columns(PRACTITIONERS_SCHEMA, cols)


def _consultations_table(exams: list[lr.Exam]) -> Any:
    cols = _columns(CONSULTATIONS_SCHEMA)
    for e in exams:
        cols["consultation_ref"].append(e.ref)
        cols["patient_family_name"].append(e.family)
        cols["patient_first_name"].append(e.first)
        cols["patient_birth_date"].append(e.birth_date)
        cols["practitioner_name"].append(e.practitioner)
        cols["consulted_on"].append(e.at.date())
        cols["start_time"].append(lr.local_time(e.at))
        cols["status"].append(e.status)
        cols["consultation_type"].append(e.ctype)
        cols["motif_category"].append(e.motif)
        _provenance(cols, e.tally, e.row)
    return table_from_columns(CONSULTATIONS_SCHEMA, cols)


def _invoices_table(invoices: list[lr.Invoice]) -> Any:
    cols = _columns(INVOICES_SCHEMA)
    for i in invoices:
        cols["invoice_number"].append(i.number)
        cols["consultation_ref"].append(i.ref)
        cols["patient_family_name"].append(i.family)
        cols["patient_first_name"].append(i.first)
        cols["patient_birth_date"].append(i.birth_date)
        cols["practitioner_name"].append(i.practitioner)
        cols["issued_on"].append(i.at.date())
        cols["amount"].append(i.amount)
        cols["status"].append(i.status)
        cols["replaces_invoice_number"].append(i.replaces)
        cols["cancels_invoice_number"].append(i.cancels)
        cols["number_basis"].append(None)  # LibreOsteo numbers every invoice
        _provenance(cols, i.tally, i.row)
    return table_from_columns(INVOICES_SCHEMA, cols)


def _payments_table(invoices: list[lr.Invoice]) -> Any:
    cols = _columns(PAYMENTS_SCHEMA)
    received = {i.number: _received(i) for i in invoices if i.status != "credit_note"}
    for inv in invoices:
        paiments = received.get(inv.number, [])
        if inv.status == "credit_note":
            original = received.get(inv.cancels) if inv.cancels else None
            paiments = _refund(inv, inv.at.date(), original, -inv.amount)
        elif inv.status == "cancelled" and inv.replaced_on is not None:
            paiments = [*paiments, *_refund(inv, inv.replaced_on, paiments, inv.amount)]
        for seq, p in enumerate(paiments, start=1):
            cols["payment_id"].append(f"{inv.number}/{seq}")
            cols["invoice_number"].append(inv.number)
            cols["paid_on"].append(p.paid_on)
            cols["amount"].append(p.amount)
            cols["method"].append(p.method)
            _provenance(cols, inv.tally, inv.row)
    return table_from_columns(PAYMENTS_SCHEMA, cols)


def _received(inv: lr.Invoice) -> list[lr.Paiment]:
    """Money received for an invoice or a cancelled invoice (credit notes: see _refund)."""
    if inv.paiments:  # issued unpaid, settled later (possibly in instalments)
        return inv.paiments
    if inv.mode != "notpaid" and inv.status in ("paid", "cancelled"):
        # paid at closing; LibreOsteo issues every invoice with a real means as paid
        return [lr.Paiment(inv.at.date(), inv.amount, lr.payment_method(inv.mode, None))]
    if inv.status == "paid":  # paid, but neither when nor how is recorded
        return [lr.Paiment(inv.at.date(), inv.amount, "autre")]
    return []


def _refund(
    inv: lr.Invoice, day: date, original: list[lr.Paiment] | None, amount: Decimal
) -> list[lr.Paiment]:
    """Money given back when an invoice is cancelled: never more than was received.

    ``original`` is what the cancelled invoice received (None when it is not in the
    batch: then the credit note's own amount is refunded). ``amount`` is the refund's
    size as a positive number.
    """
    if original is not None:
        amount = min(amount, sum((p.amount for p in original), Decimal(0)))
    if amount <= 0:
        return []
    method = lr.payment_method(inv.mode, None)
    if inv.mode == "notpaid":  # a credit note copies the code: use how the money came in
        method = original[-1].method if original else "autre"
    return [lr.Paiment(day, -amount, method)]

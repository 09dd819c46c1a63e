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
- **Practitioners.** From therapist names on examinations and invoices; roles follow
  ``tables.assign_roles``. LibreOsteo says who is a replacement: the title it copies onto
  each invoice from the therapist's profile ("En qualité de" / "Qualité": "Ostéopathe
  D.O., remplaçant de G. Tanguy"); a therapist whose latest invoice has such a title is
  ``replacement``. Of the others, the one named by the most examinations and invoices
  is ``titular``, the rest ``associate``. Without an invoices export nothing says so.
- **Minimization.** Clinical free text, contact details and addresses are never copied;
  the postcode stays (``pseudonymize`` turns it into a département); the reason becomes
  ``motif_category``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any

from osteo_analytics.errors import InputError
from osteo_analytics.pseudonymize.motifs import motif_category
from osteo_analytics.pseudonymize.primitives import normalize_name
from osteo_analytics.sources import files as source_files
from osteo_analytics.sources.base import RejectedRow, SourceBatch
from osteo_analytics.sources.libreosteo import files as lf
from osteo_analytics.sources.libreosteo import rows as lr
from osteo_analytics.sources.tables import PaymentRow, build_batch, payment_of

name = "libreosteo"
SOURCE = "libreosteo"
# Files LibreOsteo names itself: always read from a folder, so a damaged one is reported.
KNOWN_FILE_NAMES = frozenset(
    f"{stem}.{ext}"
    for stem in ("patients", "examinations", "invoices", "factures")
    for ext in ("csv", "xlsx")
)
_FORMAT_PRIORITY = {"xlsx": 0, "csv": 1}


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
    people: dict[Any, lr.Patient] = {}  # by lr.patient_key
    exams: dict[Any, lr.Exam] = {}
    invoices: dict[Any, lr.Invoice] = {}
    motif_of = _motif_classifier()

    def of_kind(kind: str) -> Iterable[tuple[lf.ExportFile, lr.Tally]]:
        for export in (e for e in exports if e.kind == kind):
            tallies.append(lr.Tally(export, rejected))
            yield export, tallies[-1]

    for export, tally in of_kind("patients"):
        lr.read_patients(export, tally, people)
    registered = list(people.values())  # the patients table; sessions may name others
    for export, tally in of_kind("examinations"):
        lr.read_exams(export, tally, exams, people, motif_of, zone)
    for export, tally in of_kind("invoices"):
        lr.read_invoices(export, tally, invoices, zone)

    exam_list = list(exams.values())
    kept_invoices = _link_invoices(list(invoices.values()), exam_list, list(people.values()))
    records: list[lr.Patient | lr.Exam | lr.Invoice] = [*registered, *exam_list, *kept_invoices]
    for record in records:
        record.tally.report.accepted += 1
    return build_batch(
        SOURCE,
        patients=registered,
        consultations=exam_list,
        invoices=kept_invoices,
        payments=_payments(kept_invoices),
        files=[t.report for t in tallies],
        rejected=rejected,
        replacements=_replacements(invoices.values()),
    )


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


class _Linker:
    """Finds each invoice's patient and session; invoices must come in chronological order.

    An invoice names its patient by family, birth and first name and address only. Among
    the patients of that family and first name, it goes to the one that some combination
    of its other fields names alone; else to the patient of the credit note it corrects
    (issued minutes before, same snapshot); else to the one of them who had a session
    that day, not yet invoiced, started before the invoice.
    """

    def __init__(self, people: list[lr.Patient], exams: list[lr.Exam]) -> None:
        self.named: dict[tuple[str, str], list[lr.Patient]] = {}
        for p in people:
            self.named.setdefault(lr.name_key(p.family_name, p.first_name), []).append(p)
        self.sessions: dict[tuple[tuple[str, str], date], list[lr.Exam]] = {}
        for e in exams:
            self.sessions.setdefault((_name(e.patient), e.consulted_on), []).append(e)
        self.claimed: set[str] = set()  # refs of sessions an invoice already belongs to
        self.notes: dict[tuple[tuple[str, str], date], list[lr.Invoice]] = {}

    def resolve(self, inv: lr.Invoice) -> tuple[lr.Patient | None, int]:
        """The invoice's patient, or None and how many patients it could be (0: nobody)."""
        name = _name(inv.named)
        candidates = self.named.get(name, [])
        if len(candidates) <= 1:
            return (candidates[0] if candidates else None), len(candidates)
        named, consistent = _compare(candidates, inv.named.marks)
        if len(named) == 1:
            return named[0], 1
        # "still match": those that nothing in the invoice contradicts (or all, if none)
        pool = named if named else consistent if len(consistent) > 1 else candidates
        day = (name, inv.issued_on)
        if inv.status != "credit_note":
            corrected = {
                id(note.patient): note.patient
                for note in self.notes.get(day, [])
                if inv.at - CORRECTION_WINDOW <= note.at <= inv.at
                and note.named.marks == inv.named.marks
                and any(note.patient is c for c in pool)
            }
            if len(corrected) == 1:
                return next(iter(corrected.values())), 1
        open_sessions = [
            e
            for e in self.sessions.get(day, [])
            if e.consultation_ref not in self.claimed and any(e.patient is c for c in pool)
        ]
        started = [e for e in open_sessions if e.at < inv.at] or open_sessions
        seen = {id(e.patient): e.patient for e in started}
        if len(seen) == 1:
            return next(iter(seen.values())), 1
        return None, len(seen) if len(seen) > 1 else len(pool)

    def session(self, inv: lr.Invoice, person: lr.Patient) -> str | None:
        """Without examinations.xlsx: the patient's session that day, if any."""
        same_day = [
            e
            for e in self.sessions.get((_name(inv.named), inv.issued_on), [])
            if e.patient is person
        ]
        if not same_day:
            return None
        # the invoice is issued when the session is closed: latest session started before
        before = [e for e in same_day if e.at <= inv.at]
        return (
            max(before, key=lambda e: e.at) if before else min(same_day, key=lambda e: e.at)
        ).consultation_ref

    def linked(self, inv: lr.Invoice) -> None:
        """Remember what the invoice settled: its session, or its credit note's patient."""
        if inv.status == "credit_note":
            self.notes.setdefault((_name(inv.patient), inv.issued_on), []).append(inv)
        elif inv.consultation_ref:
            self.claimed.add(inv.consultation_ref)


def _name(p: lr.Patient) -> tuple[str, str]:
    return lr.name_key(p.family_name, p.first_name)


def _compare(
    candidates: list[lr.Patient], marks: lr.Marks
) -> tuple[list[lr.Patient], list[lr.Patient]]:
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
    invoices: list[lr.Invoice], exams: list[lr.Exam], people: list[lr.Patient]
) -> list[lr.Invoice]:
    """Tie invoices to consultations and patients; return those kept (others quarantined)."""
    by_ref = {e.consultation_ref: e for e in exams}
    ref_of_id = {i: e.consultation_ref for e in exams for i in e.invoice_ids}
    for inv in invoices:
        inv.consultation_ref = ref_of_id.get(inv.inv_id) if inv.inv_id else None
    _follow_chains(invoices)
    by_number = {i.invoice_number: i for i in invoices}
    linker = _Linker(people, exams)
    kept: set[int] = set()  # id() of the invoices whose patient is found
    # chronological: a credit note or replacement comes after the invoice it corrects
    order = sorted(invoices, key=lambda i: (i.at, i.status != "credit_note"))
    for inv in order:
        exam = by_ref.get(inv.consultation_ref) if inv.consultation_ref else None
        before = by_number.get(inv.cancels_invoice_number or inv.replaces_invoice_number or "")
        if exam is not None:
            inv.patient = exam.patient
        elif before is not None and id(before) in kept:  # the invoice it corrects tells
            inv.consultation_ref = inv.consultation_ref or before.consultation_ref
            inv.patient = before.patient
        else:
            person, count = linker.resolve(inv)
            if person is None:
                if count == 0:
                    inv.tally.quarantine(inv.source_row, "*", "unknown_patient", _NO_ONE)
                else:
                    reason = _ambiguous(count)
                    inv.tally.quarantine(inv.source_row, "*", "ambiguous_patient", reason)
                continue
            if inv.status != "credit_note":
                inv.consultation_ref = linker.session(inv, person)
            inv.patient = person
        kept.add(id(inv))
        linker.linked(inv)
    return [i for i in invoices if id(i) in kept]


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
    by_number = {i.invoice_number: i for i in invoices}
    for old in sorted(invoices, key=lambda i: i.at):  # chains of several corrections in order
        new = by_id.get(old.canceled_by) if old.canceled_by else None
        if new is None:
            continue
        if new.status == "credit_note":
            new.cancels_invoice_number = new.cancels_invoice_number or old.invoice_number
        elif new.replaces_invoice_number is None:
            new.replaces_invoice_number = old.invoice_number
        new.consultation_ref = new.consultation_ref or old.consultation_ref
    for new in sorted(invoices, key=lambda i: i.at):
        number = new.replaces_invoice_number
        replaced = by_number.get(number) if number else None
        if replaced is not None:
            new.consultation_ref = new.consultation_ref or replaced.consultation_ref
            replaced.replaced_on = replaced.replaced_on or new.issued_on


def _replacements(invoices: Iterable[lr.Invoice]) -> set[str]:
    """Therapists whose latest invoice's title calls them a replacement."""
    folded: dict[str, str] = {}  # a few therapists on every invoice
    latest: dict[str, lr.Invoice] = {}  # by folded name, as pseudonymize keys them
    for inv in sorted(invoices, key=lambda i: i.at):
        name = inv.practitioner_name
        key = folded.get(name) or folded.setdefault(name, normalize_name(name))
        latest[key] = inv
    return {inv.practitioner_name for inv in latest.values() if inv.replacement}


# --- payments --------------------------------------------------------------------------


def _payments(invoices: list[lr.Invoice]) -> list[PaymentRow]:
    """Money received and refunded for each invoice (module docstring, "Payments")."""
    received = {i.invoice_number: _received(i) for i in invoices if i.status != "credit_note"}
    out: list[PaymentRow] = []
    for inv in invoices:
        paiments = received.get(inv.invoice_number, [])
        if inv.status == "credit_note":
            cancels = inv.cancels_invoice_number
            original = received.get(cancels) if cancels else None
            paiments = _refund(inv, inv.issued_on, original, -inv.amount)
        elif inv.status == "cancelled" and inv.replaced_on is not None:
            paiments = [*paiments, *_refund(inv, inv.replaced_on, paiments, inv.amount)]
        out += paiments
    return out


def _received(inv: lr.Invoice) -> list[PaymentRow]:
    """Money received for an invoice or a cancelled invoice (credit notes: see _refund)."""
    if inv.paiments:  # issued unpaid, settled later (possibly in instalments)
        return inv.paiments
    if inv.mode != "notpaid" and inv.status in ("paid", "cancelled"):
        # paid at closing; LibreOsteo issues every invoice with a real means as paid
        return [payment_of(inv, inv.issued_on, inv.amount, lr.payment_method(inv.mode, None))]
    if inv.status == "paid":  # paid, but neither when nor how is recorded
        return [payment_of(inv, inv.issued_on, inv.amount, "autre")]
    return []


def _refund(
    inv: lr.Invoice, day: date, original: list[PaymentRow] | None, amount: Decimal
) -> list[PaymentRow]:
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
    return [payment_of(inv, day, -amount, method)]

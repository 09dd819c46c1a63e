"""French receipts ledgers (livre des recettes) → stage-1 source tables.

Input: the ledgers practitioners keep by hand in Excel or export as CSV, recognised by
their header row without any mapping (Date / Date de séance / Date d'encaissement,
N° facture / Facture / N°, Patient / Nom Prénom or Nom + Prénom, Montant / Honoraires /
Recette, Mode de règlement / Paiement, optionally Praticien, Acte / Type, Observations),
or with one amount column per payment method instead of Montant and Mode (Date | Patient |
Chèque | Espèces | CB | Virement | Total: Chq, Liquide, Carte, Vir., Autre... as well).
Files: CSV (UTF-8 with or without BOM, Windows-1252, UTF-16; ';', tab or ','; any line
ending) and workbooks (.xlsx, .xlsm; one sheet per month, per year or a single sheet;
password-protected ones decrypted in memory): see ``sources.files`` and ``ledger.layout``.

Decisions:

- **Rows.** Above the header: titles and blanks, excluded (``title_row``, ``blank_row``).
  Below it: blank rows, repeated headers (``header_row``) and totals are excluded and
  counted: "Sous-total", "Total janvier", "Total du jour" → ``subtotal_row``; "Total",
  "TOTAL 2024", "Total général" → ``total_row``; "Report", "À reporter", "Cumul", "Solde"
  → ``running_total_row``; a row holding nothing but an amount equal to the sum of the
  receipts since the last total (or since the top of the sheet) is an unlabelled
  ``total_row``. A total row is recognised by its label even when its formula has no
  cached value. Formulas are never evaluated: cached values only; a text cell such as
  '=HYPERLINK(...)' in a CSV is just text.
- **Rejected rows** (quarantined, never imported): ``bad_date`` / ``missing_date``,
  ``bad_amount`` / ``missing_amount``, ``missing_patient`` (no letter in the cell),
  ``bad_patient`` / ``bad_invoice_number`` / ``bad_practitioner`` (absurdly long cells),
  ``invoice_number_conflict`` (a number already used for another patient),
  ``total_mismatch`` (methods that do not add up to the row's Total). A blank date
  repeats the date of the receipt above it in the same sheet (ledgers often write the day
  once); never across a total row. Dates without a year take the sheet's or title's year.
- **One column per method.** Each filled, non-zero method cell of a row is one payment
  of that method; a row with several is a split payment: one receipt (one invoice
  number) whose amount is their sum, with one payment each, numbered in the order cb,
  cheque, especes, virement, autre whatever the columns' order. The Total column (else
  a Montant column) is checked, never summed nor corrected: a row whose methods do not
  add up to it is ``total_mismatch``; a Total with no method filled too. A row with
  neither a method nor a Total is ``missing_amount``; '0' or '-' cells are nothing paid.
  A 'Mode de règlement' column, if the sheet also has one, is not read.
- **Duplicates**: the same date, patient, amount and invoice number twice in one import
  (e.g. a workbook and its CSV copy) count once; the repeats are ``duplicate``.
- **Receipts → invoices.** Rows sharing an invoice number (same patient) are one invoice
  and its payments ``N/1``, ``N/2``... in date order: instalments, a split payment
  (cheque + cash, on two rows or in two method columns of one row), a refund. Its
  amount is the net received when positive (status ``paid``); net zero means it was
  refunded in full (``cancelled``, amount as issued); with only negative rows it is a
  ``credit_note`` (negative amount, negative payment).
  A row without a number is an invoice of its own, numbered ``L-YYYYMMDD-<digest>`` by
  ``pseudonymize`` from its content: day, patient, practitioner, every (means, amount)
  of the row, and its occurrence among the identical rows of its file
  (``base.GeneratedNumbers``). Re-importing a ledger, or one that overlaps it, gives the
  same numbers; two different receipts never share one. A zero amount gives an invoice
  of 0 and no payment. A credit note of -X cancels
  the same patient's latest paid invoice of exactly X issued on or before it (status
  ``cancelled``, ``cancels_invoice_number`` set), so facturé is net of it; a credit note
  that matches nothing stays unlinked.
- **Consultations.** An invoice with a positive (or zero) receipt is a ``done``
  consultation on its first such receipt's day; several invoices of the same patient,
  day and practitioner are one consultation (ledgers have no time of day). Type from an
  'Acte'/'Type' column: urgence → urgent, domicile → home, première → first, suivi →
  follow_up, otherwise (or no column) ``other``. No motif: free text is never read.
- **Patients**: one per folded (family, first) name, no birth date, sex from a civility
  ('Mme', 'M.') if one is typed. Splitting a single name cell: ``frenchparse.split_name``
  (the upper-case words are the family name).
- **Practitioner** of a row: its 'Praticien' cell, else a name in a title row of its
  sheet or workbook (after 'Dr'/'Docteur', or a part of the title that reads as a
  person's name), else "Praticien du cabinet". Roles follow ``tables.assign_roles``: a
  ledger never says who is a replacement, so the one with most consultations and
  invoices is ``titular`` and the others ``associate``.
- **Provenance.** ``source_row`` is the row number Excel or a spreadsheet shows (CSV:
  the record number, header included). ``source_file`` is the file name, plus
  ``#<sheet name>`` when a workbook has several non-empty sheets
  ('recettes-2024.xlsx#Janvier 2024'); there is one FileReport per such sheet, so every
  report balances (rows read = accepted + quarantined + duplicates + excluded).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from osteo_analytics.errors import Hint, InputError
from osteo_analytics.pseudonymize.primitives import normalize_name
from osteo_analytics.sources import files as source_files
from osteo_analytics.sources.base import GeneratedNumbers, RejectedRow, SourceBatch
from osteo_analytics.sources.frenchparse import parse_period
from osteo_analytics.sources.ledger import files as lf
from osteo_analytics.sources.ledger import rows as lr
from osteo_analytics.sources.tables import (
    ConsultationRow,
    InvoiceRow,
    PatientRow,
    PaymentRow,
    build_batch,
)

__all__ = ["detect", "name", "read", "read_ledger"]

name = "ledger"
SOURCE = "ledger"
DEFAULT_PRACTITIONER = lr.DEFAULT_PRACTITIONER


def detect(path: Path) -> bool:
    """True if ``path`` is a receipts ledger (or a folder holding one). Never raises."""
    try:
        if path.is_dir():
            return any(lf.looks_like_ledger(c) for c in source_files.folder_files(path, lf.FORMATS))
        return lf.looks_like_ledger(path)
    except Exception:  # detection must never stop `--format auto` from asking others
        return False


def read(paths: Sequence[Path], *, password: Callable[[Path], str] | None = None) -> SourceBatch:
    """Adapter-protocol alias of :func:`read_ledger`."""
    return read_ledger(paths, password=password)


def read_ledger(
    paths: Sequence[Path], *, password: Callable[[Path], str] | None = None
) -> SourceBatch:
    """Read receipts ledgers (files and/or folders) into a stage-1 :class:`SourceBatch`.

    ``password(path)`` is called for each password-protected workbook (never otherwise).
    Raises ``InputError`` (one line naming the file) for a file that cannot be read or
    holds no ledger; rows that cannot be parsed are quarantined, not raised.
    """
    rejected: list[RejectedRow] = []
    tallies: list[lr.Tally] = []
    receipts: list[lr.Receipt] = []
    numbers = GeneratedNumbers("L")
    for path in _collect(paths):
        found = _read_file(path, password, tallies, rejected)
        _number(found, numbers)
        receipts.extend(found)
    groups = _group_receipts(_drop_duplicates(receipts))
    people = _patients(groups)
    invoices = [_invoice(number, rows, people, numbers.bases) for number, rows in groups.items()]
    _link_credit_notes(invoices)
    visits = _visits(invoices)
    for inv in invoices:
        for r in inv.rows:
            r.tally.report.accepted += 1
    return build_batch(
        SOURCE,
        patients=list(people.values()),
        consultations=visits,
        invoices=invoices,
        payments=_payments(invoices),
        files=[t.report for t in tallies],
        rejected=rejected,
    )


def _collect(paths: Sequence[Path]) -> list[Path]:
    # in a folder, only the files that look like ledgers: notes and exports may share it
    return source_files.collect(paths, lf.FORMATS, "livre des recettes", keep=lf.looks_like_ledger)


def _read_file(
    path: Path,
    password: Callable[[Path], str] | None,
    tallies: list[lr.Tally],
    rejected: list[RejectedRow],
) -> list[lr.Receipt]:
    sheets = lf.open_ledger(path, password)
    contexts = [lr.title_context(s) for s in sheets]
    file_year = parse_period(path.stem)[0]
    book_practitioner = next((p for _, p in contexts if p), None)
    receipts: list[lr.Receipt] = []
    any_header = False
    for sheet, (year, practitioner) in zip(sheets, contexts, strict=True):
        tally = lr.Tally(sheet, rejected)
        tallies.append(tally)
        context = lr.SheetContext(year or file_year, practitioner or book_practitioner)
        found = lr.read_sheet(sheet, tally, context)
        if found is not None:
            any_header = True
            receipts.extend(found)
    if not any_header:
        raise InputError(
            f"{path.name} : aucune ligne d'en-tête (Date, Patient, Montant...) en haut de ses"
            " feuilles",
            hint=Hint.DESCRIBE_COLUMNS,
        )
    return receipts


# --- receipts → invoices ---------------------------------------------------------------


def _number(receipts: list[lr.Receipt], numbers: GeneratedNumbers) -> None:
    """Provisional numbers for the rows of one file that have none (GeneratedNumbers).

    The receipts of one row (a split payment: one amount per means) share its number,
    and the number derives from all of its (means, amount) pairs, sorted.
    """
    rows: dict[tuple[str, int], list[lr.Receipt]] = {}
    for r in receipts:
        if r.number is None:
            rows.setdefault((r.tally.label, r.row), []).append(r)
    for group in rows.values():
        first = group[0]
        who = (first.patient, normalize_name(first.practitioner))
        pairs = sorted(
            f"{method} {amount:.2f}"
            for r in group
            for method, amount in (r.parts or ((r.method, r.amount),))
        )
        number, _ = numbers.number(str(first.tally.file), who, first.day, *pairs)
        for r in group:
            r.number = number


def _drop_duplicates(receipts: list[lr.Receipt]) -> list[lr.Receipt]:
    seen: set[tuple[Any, ...]] = set()
    kept = []
    for r in receipts:
        # The parts too: one invoice paid half by cheque, half in cash on two rows of
        # equal amounts is two receipts, not a repeat.
        key = (r.day, r.patient, r.amount, r.parts, r.number)
        if key in seen:
            r.tally.duplicate()
            continue
        seen.add(key)
        kept.append(r)
    return kept


@dataclass(slots=True, kw_only=True)
class _Invoice(InvoiceRow):
    """One invoice number: the invoices row, its receipts in date order."""

    rows: list[lr.Receipt]
    opener: lr.Receipt | None  # the receipt that stands for the visit: first non-refund

    @property
    def first(self) -> lr.Receipt:
        return self.opener if self.opener is not None else self.rows[0]


def _group_receipts(receipts: list[lr.Receipt]) -> dict[str, list[lr.Receipt]]:
    """Receipts by invoice number, in date order (file order within a day)."""
    groups: dict[str, list[lr.Receipt]] = {}
    for r in receipts:
        assert r.number is not None
        group = groups.setdefault(r.number, [])
        if group and group[0].patient != r.patient:
            r.tally.quarantine(r.row, "N° facture", "invoice_number_conflict")
            continue
        group.append(r)
    return {number: sorted(rows, key=lambda r: r.day) for number, rows in groups.items()}


def _patients(groups: dict[str, list[lr.Receipt]]) -> dict[lr.PatientKey, PatientRow]:
    """One patient per folded name, from the first receipt naming them."""
    people: dict[lr.PatientKey, PatientRow] = {}
    for rows in groups.values():
        for r in rows:
            p = people.get(r.patient)
            if p is None:
                people[r.patient] = PatientRow(
                    family_name=r.family,
                    first_name=r.first,
                    sex=r.sex,
                    source_file=r.tally.label,
                    source_row=r.row,
                )
            elif p.sex is None:
                p.sex = r.sex  # a civility typed on a later row
    return people


def _invoice(
    number: str,
    rows: list[lr.Receipt],
    people: dict[lr.PatientKey, PatientRow],
    bases: dict[str, str],
) -> _Invoice:
    """The invoice of one number, from what its receipts add up to."""
    net = sum((r.amount for r in rows), Decimal(0))
    positive = sum((r.amount for r in rows if r.amount > 0), Decimal(0))
    opener = next((r for r in rows if r.amount >= 0), None)
    if opener is None or net < 0:
        status, amount = "credit_note", net
    elif net == 0 and positive > 0:
        status, amount = "cancelled", positive
    else:
        status, amount = "paid", net
    first = opener if opener is not None else rows[0]
    return _Invoice(
        invoice_number=number,
        patient=people[first.patient],
        practitioner_name=first.practitioner,
        issued_on=first.day,
        amount=amount,
        status=status,
        number_basis=bases.get(number),
        source_file=first.tally.label,
        source_row=first.row,
        rows=rows,
        opener=opener,
    )


def _link_credit_notes(invoices: list[_Invoice]) -> None:
    """A credit note of -X cancels the patient's latest earlier paid invoice of X, if any."""
    paid: dict[Any, list[_Invoice]] = {}
    for inv in invoices:
        if inv.status == "paid" and inv.amount > 0:
            paid.setdefault((inv.first.patient, inv.amount), []).append(inv)
    for note in sorted(
        (i for i in invoices if i.status == "credit_note"), key=lambda i: i.issued_on
    ):
        candidates = [
            i
            for i in paid.get((note.first.patient, -note.amount), [])
            if i.status == "paid" and i.issued_on <= note.issued_on
        ]
        if candidates:
            original = max(candidates, key=lambda i: i.issued_on)
            original.status = "cancelled"
            note.cancels_invoice_number = original.invoice_number


def _visits(invoices: list[_Invoice]) -> list[ConsultationRow]:
    """One done consultation per patient, day and practitioner with a non-refund receipt."""
    visits: dict[tuple[Any, ...], ConsultationRow] = {}
    for inv in invoices:
        r = inv.opener
        if r is None or inv.status == "credit_note":
            continue
        key = (r.patient, r.day, normalize_name(r.practitioner))
        visit = visits.get(key)
        if visit is None:
            visit = visits[key] = ConsultationRow(
                consultation_ref=f"{r.tally.label}#{r.row}",
                patient=inv.patient,
                practitioner_name=r.practitioner,
                consulted_on=r.day,
                status="done",
                consultation_type=r.ctype,
                source_file=r.tally.label,
                source_row=r.row,
            )
        elif visit.consultation_type == "other":
            visit.consultation_type = r.ctype
        inv.consultation_ref = visit.consultation_ref
    return list(visits.values())


def _payments(invoices: list[_Invoice]) -> list[PaymentRow]:
    """One payment per (means, amount) part of each receipt; nothing for a zero amount."""
    return [
        PaymentRow(
            invoice_number=inv.invoice_number,
            paid_on=r.day,
            amount=amount,
            method=method,
            source_file=r.tally.label,
            source_row=r.row,
        )
        for inv in invoices
        for r in inv.rows
        for method, amount in r.parts  # several for a split payment
        if amount != 0  # nothing changed hands: no payment row
    ]

"""Word adapter: one .docx per patient, as kept by practitioners without software.

Conventions (also in ``data_contracts/sources/README.md``, "Word patient files"). A file
that does not follow them is reported with a rule, never guessed.

- **Rows.** The body is read in order; every paragraph (empty ones included) and every
  table row has a number, 1-based: that is ``source_row``. Non-empty paragraphs and table
  rows are the file's records (``rows_read``).
- **source_file** is ``docx-<n>``, ``n`` the 1-based position of the file in the sorted
  list of files given (folders expanded): a Word file is named after its patient, so its
  name must never reach a table, a quarantine file or a log. The import report shows the
  real file name, on the practitioner's own screen only.
- **Identity.** From the first heading, else the first non-empty paragraph, else the
  file name: 'DUPONT Marie – née le 03/04/1981', 'Dupont Marie (03/04/1981)',
  'DUPONT Marie.docx'. Upper-case words are the family name, else the first word
  (``frenchparse.split_name``). 'née le' gives sex F, 'né le' M. Two to six words of
  letters; a title ('Fiche patient') is not a name. No identity: the visits are
  quarantined ``no_identity``.
- **Details.** 'Adresse : … 35000 Rennes' (postcode kept for the département, the rest
  dropped), 'Né(e) le' / 'Date de naissance', 'Sexe', 'Praticien : …'; 'Tél', 'Email',
  'Profession', 'Médecin traitant'... are recognised and dropped. Excluded as
  ``patient_details``; other paragraphs are ``free_text``, dropped unread.
- **Visits.** A paragraph or table row that begins with a date (``frenchparse`` forms:
  15/03/2024, 15.03.24, 15 mars 2024, lundi 15 mars 2024) is a consultation, ``done``,
  type ``other``; in its text 'urgence' → ``urgent``, 'domicile' → ``home``, 'annulé' →
  ``cancelled``, 'absent' / 'lapin' → ``no_show``; '14h30' right after the date is the
  start time. The rest of the text becomes ``motif_category`` by keyword rules and is
  discarded. A date-shaped start that is not a date is quarantined ``bad_date``.
- **Tables.** A table whose first row has a 'Date' cell has a header (excluded
  ``table_header``): 'Tarif' / 'Montant' / 'Honoraires' / 'Prix' is the fee,
  'Règlement' / 'Paiement' the payment, 'Praticien' the practitioner, 'Heure' the time,
  the other columns the text. Rows of other tables are read like paragraphs.
- **Fees.** 'Tarif : 55 €' (or Montant, Honoraires, Prix, or '55 €') in the text, or the
  fee column: an invoice numbered ``W-YYYYMMDD-<digest>`` from the visit's content
  (``sources/generic/records.py``): a file imported again, alone or in any folder, gives the same
  numbers. Paid —
  with one payment that day — when the line says 'réglé' / 'payé' or names a means (CB,
  chèque, espèces, virement: method ``autre`` when only 'réglé'); 'non réglé', 'impayé',
  'à régler' keep it ``issued``. 'gratuit' / 'offert', or no fee: no invoice. A fee
  label without a readable amount is quarantined ``bad_amount``.
- **Practitioner.** The 'Praticien' column, else a 'Praticien : …' line, else
  "Praticien du cabinet".
- **Nothing to read.** A file with an identity but no visit: its identity row is
  quarantined ``no_visit`` (no patient is created); an empty document is reported in the
  quarantine as ``empty_document``. An unreadable file (not a .docx, a .doc, damaged) is
  an InputError naming it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

from osteo_analytics.errors import InputError
from osteo_analytics.sources import files
from osteo_analytics.sources import frenchparse as fp
from osteo_analytics.sources.base import FileReport, RejectedRow, SourceBatch
from osteo_analytics.sources.docx import parse as dp
from osteo_analytics.sources.generic import records as gr
from osteo_analytics.sources.generic.mapping import DEFAULT_PRACTITIONER

name = "docx"
SOURCE = "docx"
INVOICE_PREFIX = "W"
FORMATS = (files.DOCX,)
_HEADING_STYLES = ("heading", "titre", "title")
_COLUMN_ROLES = (
    ("date", ("date", "jour")),
    ("fee", ("tarif", "montant", "honoraire", "prix")),
    ("payment", ("reglement", "paiement", "regle", "paye", "mode")),
    ("practitioner", ("praticien", "osteopathe")),
    ("time", ("heure",)),
)


@dataclass(slots=True)
class Block:
    """A paragraph or a table row: its number, its text, and its table columns if any."""

    row: int
    text: str
    heading: bool = False
    roles: dict[str, str] | None = None  # header-described table row: role → cell text
    table_header: bool = False


def detect(path: Path) -> bool:
    """True for a .docx file or a folder holding one. Never raises."""
    try:
        if path.is_dir():
            return any(_is_docx(c) for c in files.folder_files(path, FORMATS))
        return files.named_format(path) == files.DOCX and _is_docx(path)
    except OSError:
        return False


def _is_docx(path: Path) -> bool:
    try:
        return path.is_file() and files.sniff(path) == files.DOCX
    except InputError:  # damaged: read() will say so if the file is given
        return False


def read(paths: Sequence[Path]) -> SourceBatch:
    """Read Word patient files (or folders of them) into a stage-1 :class:`SourceBatch`."""
    rejected: list[RejectedRow] = []
    reports: list[FileReport] = []
    visits: list[tuple[int, gr.Visit]] = []
    for index, path in enumerate(_collect(paths), start=1):
        blocks = list(_blocks(path))
        label = f"docx-{index}"
        report = FileReport(path, "docx", kind="patient_file", label=label)
        tally = gr.Tally(report, label, rejected)
        reports.append(tally.report)
        visits += [(index, v) for v in _read_file(path.stem, blocks, tally)]
    # tables list each day's visits in time order, then file and row order
    visits.sort(
        key=lambda iv: (iv[1].consulted_on, iv[1].start_time or time(), iv[0], iv[1].source_row)
    )
    return gr.visits_batch(
        SOURCE, [], [v for _, v in visits], reports, rejected, invoice_prefix=INVOICE_PREFIX
    )


def _collect(paths: Sequence[Path]) -> list[Path]:
    # one order whatever the order given: a file's docx-<n> label depends on it
    return sorted(files.collect(paths, FORMATS, "fichier Word"))


def _blocks(path: Path) -> Iterator[Block]:
    """Paragraphs and table rows of the body, numbered; InputError if not a readable .docx."""
    from docx import Document

    files.identify(path, FORMATS)
    try:
        doc = Document(io.BytesIO(files.read_bytes(path)))
        items = list(_walk(doc))
    except InputError:
        raise
    except Exception:  # zip, XML and python-docx errors alike: a damaged file
        raise InputError(f"{path.name} : document Word endommagé ou tronqué") from None
    yield from items


def _walk(doc: Any) -> Iterator[Block]:
    from docx.table import Table

    n = 0
    for item in doc.iter_inner_content():
        if isinstance(item, Table):
            roles: list[str | None] | None = None
            for i, row in enumerate(item.rows):
                n += 1
                cells = [" ".join(c.text.split()) for c in _unique_cells(row)]
                if i == 0 and any(fp.fold(c).startswith(("date", "jour")) for c in cells):
                    roles = [_role(c) for c in cells]
                    yield Block(n, " ".join(cells), table_header=True)
                    continue
                text = " ; ".join(c for c in cells if c)
                by_role = None
                if roles is not None:
                    by_role = {r: c for r, c in zip(roles, cells, strict=False) if r and c}
                    others = [c for r, c in zip(roles, cells, strict=False) if not r and c]
                    by_role["text"] = " ; ".join(others)
                yield Block(n, text, roles=by_role)
        else:
            n += 1
            style = getattr(getattr(item, "style", None), "name", "") or ""
            heading = style.lower().startswith(_HEADING_STYLES)
            yield Block(n, " ".join(item.text.split()), heading=heading)


def _unique_cells(row: Any) -> list[Any]:
    """A merged cell appears once per grid column it spans: keep it once."""
    out: list[Any] = []
    for cell in row.cells:
        if not out or cell._tc is not out[-1]._tc:
            out.append(cell)
    return out


def _role(header: str) -> str | None:
    folded = fp.fold(header)
    for role, words in _COLUMN_ROLES:
        if folded.startswith(words):
            return role
    return None


def _read_file(stem: str, blocks: list[Block], tally: gr.Tally) -> list[gr.Visit]:
    """Visits of one file, with every record counted once (see module docstring)."""
    records = [b for b in blocks if b.text or b.roles is not None]
    tally.read(len(records))
    if not records:
        tally.note("empty_document")
        return []
    who, who_block = _identity(blocks, stem)
    found = dp.Details()
    pending: list[tuple[Block, dp.VisitLine]] = []
    outcome: dict[int, tuple[str, str]] = {}  # row → ("excluded" | "quarantined", rule)
    for b in records:
        if b is who_block:
            continue
        date_text = b.roles.get("date", "") if b.roles is not None else b.text
        if b.table_header:
            outcome[b.row] = ("excluded", "table_header")
        elif b.roles is not None and not date_text:
            outcome[b.row] = ("excluded", "blank_row" if not b.text else "free_text")
        elif dp.leading_date(date_text) is not None:
            try:
                pending.append((b, _visit_line(b)))
            except fp.BadValue as exc:
                outcome[b.row] = ("quarantined", exc.rule)
        elif (more := dp.details(b.text)) is not None:
            outcome[b.row] = ("excluded", "patient_details")
            found = _merge(found, more)
        else:
            outcome[b.row] = ("excluded", "free_text")  # notes, history: dropped unread
    if who is None or not pending:
        # not a patient file: say so on its identity row, its visits or its first row
        rule = "no_identity" if who is None else "no_visit"
        flagged = [b.row for b, _ in pending] or [(who_block or records[0]).row]
        outcome |= {row: ("quarantined", rule) for row in flagged}
        pending = []
    elif who_block is not None:
        outcome[who_block.row] = ("accepted", "")  # the identity line yields the patient
    for row, (kind, rule) in outcome.items():
        if kind == "quarantined":
            tally.quarantine(row, "*", rule)
        elif kind == "accepted":
            tally.accept()
        else:
            tally.set_aside(kind, rule)
    if not pending:
        return []
    assert who is not None
    patient = gr.Patient(
        family_name=who.family,
        first_name=who.first,
        birth_date=who.birth_date or found.birth_date,
        sex=who.sex or found.sex,
        postcode=found.postcode,
        source_file=tally.label,
        source_row=who_block.row if who_block is not None else pending[0][0].row,
    )
    return _visits(patient, pending, found.practitioner or DEFAULT_PRACTITIONER, tally)


def _merge(old: dp.Details, new: dp.Details) -> dp.Details:
    """First value of each detail wins (a later 'Adresse' line is an old address)."""
    return dp.Details(
        postcode=old.postcode or new.postcode,
        birth_date=old.birth_date or new.birth_date,
        sex=old.sex or new.sex,
        practitioner=old.practitioner or new.practitioner,
    )


def _identity(blocks: list[Block], stem: str) -> tuple[dp.Identity | None, Block | None]:
    """Identity from the first heading, else the first non-empty paragraph, else the name."""
    paragraphs = [b for b in blocks if b.text and b.roles is None and not b.table_header]
    candidates = [b for b in paragraphs if b.heading][:1] + paragraphs[:1]
    for b in candidates:
        if dp.leading_date(b.text) is None and (who := dp.identity(b.text)) is not None:
            return who, b
    return dp.identity(stem), None


def _visit_line(b: Block) -> dp.VisitLine:
    if b.roles is None:
        return dp.visit_line(b.text)
    r = b.roles
    text = " ".join(x for x in (r.get("date", ""), r.get("time", ""), r.get("text", "")) if x)
    return dp.visit_line(text, r.get("fee"), r.get("payment"))


def _visits(
    patient: gr.Patient,
    pending: list[tuple[Block, dp.VisitLine]],
    practitioner: str,
    tally: gr.Tally,
) -> list[gr.Visit]:
    out: list[gr.Visit] = []
    seen: set[tuple[object, ...]] = set()
    for b, line in pending:
        key = (line.consulted_on, line.start_time)
        if key in seen:
            tally.set_aside("duplicate", "duplicate")
            continue
        seen.add(key)
        who = (b.roles or {}).get("practitioner") or practitioner
        visit = gr.Visit(
            patient=patient,
            practitioner_name=" ".join(who.split())[:100],
            consulted_on=line.consulted_on,
            source_file=tally.label,
            source_row=b.row,
            start_time=line.start_time,
            status=line.status,
            consultation_type=line.ctype,
            motif_category=line.motif,
        )
        if line.fee is not None:
            paid = (line.consulted_on, line.fee, line.method or "autre") if line.paid else None
            status = "paid" if line.paid else "issued"
            visit.bill(gr.Fee(None, line.consulted_on, line.fee, status, paid))
        out.append(visit)
        tally.accept()
    return out

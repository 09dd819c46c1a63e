"""Write the practice as LibreOsteo's own exports (commit ded787b, drf-excel 2.4).

Files, byte-compatible in layout with `shared/testdata/libreosteo-sample` (see its README):
`patients.csv`, `examinations.csv`, `invoices.csv` (UTF-8, CRLF, raw or French labels),
and `patients.xlsx`, `examinations.xlsx`, `invoices.xlsx` (sheet "Report", inline strings,
typed cells, drf-excel's apostrophe). Invoices are newest first: their rows are rendered
while generating, spilled to one temporary file per issue day and written in reverse at
the end. A workbook past Excel's row limit continues in `<name>-2.xlsx`, `<name>-3.xlsx`...
A writer can be asked for some of the three datasets only (`parts`), so that separate
processes can write them side by side.

What LibreOsteo cannot express, and how its ground truth follows:
- It has no "bank transfer" means of payment (only cash, check, ecard; `notpaid` is a
  closing code): a payment by virement is recorded as `ecard`, so the libreosteo truth
  counts virement under `cb`.
- It has no appointment book: cancelled appointments and no-shows are examinations with
  status 3 (not invoiced) whose `status_reason` is one of `vocab.REASONS_CANCELLED` /
  `vocab.REASONS_NO_SHOW`; other status-3 reasons (`vocab.REASONS_FREE`) are done sessions.
  Status 0 (still open on the export day) is a done session not yet invoiced.

Namesakes (`people.namesake_of`): patients sharing family, first and birth name, living
elsewhere, in the same city or at the same address. Invoices print no patient id, only that
snapshot, so a correct importer tells them apart by their address, by the credit note a
corrective invoice follows (issued at 19:33, when no session closes: see
`model.Practice._plan_correction`), or by the day of their session (namesakes at one
address never come the same day); examinations.xlsx links every invoice anyway. Nothing is
ambiguous by design: the ground truth counts every invoice, and an import quarantines none.

How a correct importer recovers money from these files:
- an invoice whose `paiment_mode` is cash/check/ecard was paid in full on its date;
- an invoice issued `notpaid` was paid by its `paiments_list` rows (several for
  instalments); status 1 means something is still due (amount minus those rows);
- a credit note is a refund of its (negative) amount on its date, by its means of payment;
- an invoice cancelled by a replacement invoice (`Annulée par` -> a row of type invoice)
  was refunded in full on the replacement's date, by its own means of payment.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import marshal
import shutil
from collections.abc import Callable, Collection
from pathlib import Path
from typing import IO, Any, BinaryIO
from zoneinfo import ZoneInfo

from osteo_analytics.synthetic import people
from osteo_analytics.synthetic.libreosteo_format import (
    EXAM_CSV,
    EXAM_KINDS,
    EXAM_XLSX,
    INVOICE_CSV_LABELS,
    INVOICE_KEYS,
    INVOICE_KINDS,
    INVOICE_XLSX,
    MODE_CODE,
    MODE_TEXT,
    PATIENT_CSV,
    PATIENT_KINDS,
    PATIENT_XLSX,
    PAYMENT_KEYS,
)
from osteo_analytics.synthetic.model import Exam, Invoice, Payment
from osteo_analytics.synthetic.people import Card, Patient, Practitioner
from osteo_analytics.synthetic.xlsx import (
    ROW_PLACEHOLDER,
    ReportSheet,
    column_name,
    excel_serial,
    row_formatter,
)

DATASETS = ("patients", "examinations", "invoices")
PARIS = ZoneInfo("Europe/Paris")
_offsets: dict[int, str] = {}


def iso(when: dt.datetime) -> str:
    """DRF's datetime: ISO 8601 with seconds and the Europe/Paris offset of that day."""
    day = when.toordinal()
    offset = _offsets.get(day)
    if offset is None:  # appointments are far from the 2-3 am DST switch: noon's offset holds
        delta = dt.datetime(when.year, when.month, when.day, 12, tzinfo=PARIS).utcoffset()
        assert delta is not None
        minutes = int(delta.total_seconds()) // 60
        offset = _offsets[day] = f"+{minutes // 60:02d}:{minutes % 60:02d}"
    return when.strftime("%Y-%m-%dT%H:%M:%S") + offset


def mode_code(method: str | None) -> str:
    """LibreOsteo's paiment_mode code for a true means of payment (None = issued unpaid)."""
    return "notpaid" if method is None else MODE_CODE[method]


def _payment_json(payment: Payment) -> dict[str, Any]:
    code = MODE_CODE[payment.method]
    return {
        "paiment_mode_text": MODE_TEXT[code],
        "amount": payment.amount / 100,
        "currency": "EUR",
        "date": payment.paid_on.isoformat(),
        "paiment_mode": code,
    }


class LibreOsteoWriter:
    """Streams one practice into LibreOsteo export files under `folder`."""

    def __init__(
        self,
        folder: Path,
        practitioners: list[Practitioner],
        card: Callable[[int], Card],
        *,
        zip64: bool = False,
        parts: Collection[str] = DATASETS,
    ) -> None:
        self.folder = folder
        self._card = card
        self.practitioners = practitioners
        self.header = people.office_header(practitioners[0])
        self.parts = [d for d in DATASETS if d in parts]
        self._files: list[IO[str]] = []
        self._zip64 = zip64
        if "patients" in parts:
            self._patients_csv = self._csv("patients.csv", PATIENT_CSV)
            self._patients_xlsx = ReportSheet(
                folder / "patients.xlsx", PATIENT_XLSX, PATIENT_KINDS, zip64=zip64
            )
        self._exams: ReportSheet | None = None
        if "examinations" in parts:
            self._exams_csv = self._csv("examinations.csv", EXAM_CSV)
            self._exams = ReportSheet(
                folder / "examinations.xlsx", EXAM_XLSX, EXAM_KINDS, zip64=zip64
            )
        self._invoices = "invoices" in parts
        self._spill_dir = folder / ".invoices-spill"
        if self._invoices:
            self._spill_dir.mkdir()
        self._spills: dict[int, BinaryIO] = {}  # by issue day (ordinal)
        position = {k: i for i, k in enumerate(INVOICE_KEYS)}
        self._csv_head = [position[k] for k in _CSV_HEAD_KEYS]
        self._csv_tail = [position[k] for k in _CSV_TAIL_KEYS]
        self._csv_text = _csv_renderer()
        self._invoice_row = row_formatter(
            [column_name(i) for i in range(len(INVOICE_KINDS))], INVOICE_KINDS
        )
        self._max_payments = 0
        self._invoice_rows = 0
        self.counts: dict[str, int] = dict.fromkeys(self.parts, 0)

    def _csv(self, name: str, header: list[str]) -> Any:
        handle = open(self.folder / name, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._files.append(handle)
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        return writer

    def patient(self, p: Patient) -> None:
        """One new patient file (LibreOsteo orders patients by id = creation order)."""
        texts = [
            p.street,
            p.complement,
            p.zipcode,
            p.city,
            p.email,
            p.phone,
            p.mobile,
            p.job,
            p.hobbies,
        ]
        history = [
            p.important_info,
            p.current_treatment,
            p.surgical_history,
            p.medical_history,
            p.family_history,
            p.trauma_history,
            p.medical_reports,
        ]
        self._patients_csv.writerow(
            [
                p.family_name,
                p.original_name,
                p.first_name,
                p.birth_date.isoformat(),
                p.sex,
                *texts,
                p.smoker,
                p.laterality,
                *history,
            ]
        )
        self._patients_xlsx.write(
            [
                p.id,
                p.birth_date,
                True,
                p.family_name,
                p.original_name,
                p.first_name,
                p.created,
                *texts,
                p.smoker,
                p.laterality,
                *history,
                p.created,
                p.sex,
                None if p.doctor is None else str(p.doctor),
            ]
        )
        self.counts["patients"] += 1

    def _serialize(self, invoice: Invoice, patient: Card) -> list[Any]:
        """An invoice as DRF serializes it (INVOICE_KEYS order, JSON-ready values)."""
        pr = self.practitioners[invoice.practitioner]
        code = mode_code(invoice.method)
        return [
            invoice.id,
            MODE_TEXT[code],
            [_payment_json(x) for x in reversed(invoice.late)],
            people.OFFICE_NAME,
            iso(invoice.issued),
            invoice.amount / 100,
            "EUR",
            code,
            self.header,
            pr.last_name,
            pr.first_name,
            pr.quality,
            pr.adeli,
            "Adeli",
            people.OFFICE_CITY,
            invoice.number,
            patient.family_name,
            patient.original_name,
            patient.first_name,
            patient.street,
            patient.complement,
            patient.zipcode,
            patient.city,
            people.INVOICE_CONTENT,
            pr.footer,
            pr.siret,
            "SIRET",
            people.OFFICE_STREET,
            people.OFFICE_COMPLEMENT,
            people.OFFICE_ZIPCODE,
            people.OFFICE_CITY,
            people.OFFICE_PHONE,
            invoice.status,
            pr.id,
            invoice.replaces.number if invoice.replaces else None,
            invoice.kind,
            1,
            "",
            invoice.canceled_by.id if invoice.canceled_by else None,
        ]

    @staticmethod
    def _xlsx_invoice(values: list[Any], issued: dt.datetime | float) -> list[Any]:
        """Serialized invoice -> invoices.xlsx cells (drf-excel: FKs and lists become text)."""
        cells = list(values)
        cells[2] = json.dumps(values[2], ensure_ascii=False) if values[2] else None
        cells[4] = issued
        cells[38] = None if values[38] is None else str(values[38])
        return cells

    def exam(self, exam: Exam) -> None:
        """One final examination row, and its invoices to the spill files."""
        p = self._card(exam.patient)
        serialized = {inv.id: self._serialize(inv, p) for inv in exam.invoices}
        if self._exams is not None:
            self._exam_rows(exam, p, serialized)
        if self._invoices:
            for invoice in exam.invoices:
                self._spill(invoice, serialized[invoice.id])

    def _exam_rows(self, exam: Exam, p: Card, serialized: dict[int, list[Any]]) -> None:
        assert self._exams is not None
        pr = self.practitioners[exam.practitioner]
        texts = list(exam.texts) if exam.text_bits >= 0 else [""] * 11
        self._exams_csv.writerow(
            [
                p.first_name,
                p.family_name,
                p.birth_date.isoformat(),
                iso(exam.start),
                exam.motif,
                *texts,
                pr.first_name,
                pr.last_name,
            ]
        )
        own = sorted(
            (i for i in exam.invoices if i.kind == "invoice"), key=lambda i: (i.issued, i.id)
        )
        live = exam.live_invoice
        chain: list[Invoice] = []  # Examination._get_invoices_list, step by step
        for invoice in own:
            current: Invoice | None = invoice
            while current is not None:
                chain.append(current)
                current = current.canceled_by
        chain.reverse()
        if live is not None:
            chain.remove(live)
        others = [dict(zip(INVOICE_KEYS, serialized[i.id], strict=True)) for i in chain]
        last = self._xlsx_invoice(serialized[live.id], live.issued) if live else _NO_INVOICE
        facture = ", ".join(str(i.id) for i in reversed(own)) or None
        self._exams.write(
            [
                exam.id,
                live.number if live else None,
                json.dumps(others, ensure_ascii=False) if others else None,
                *last,
                pr.username,
                pr.email,
                pr.first_name,
                pr.last_name,
                p.family_name,
                p.first_name,
                p.original_name,
                p.birth_date,
                people.OFFICE_NAME,
                False,
                exam.motif,
                *texts,
                exam.start,
                exam.status,
                exam.status_reason or None,
                exam.type,
                str(p.id),
                str(pr.id),
                "1",
                facture,
            ]
        )
        self.counts["examinations"] += 1

    def _spill(self, invoice: Invoice, values: list[Any]) -> None:
        """The invoice's rows, rendered now, to its day's spill file (sorted at the end).

        The CSV row is rendered in two pieces around its instalment columns (their count
        is known at the end); the XLSX row with a placeholder for its row number.
        """
        day = invoice.issued.toordinal()
        handle = self._spills.get(day)
        if handle is None:
            if len(self._spills) >= 16:  # chains end within days: old days are done
                self._spills.pop(min(self._spills)).close()
            handle = self._spills[day] = open(self._spill_dir / f"{day:07d}", "ab")  # noqa: SIM115
        payments = values[2]
        self._max_payments = max(self._max_payments, len(payments))
        self._invoice_rows += 1
        head = [values[i] for i in self._csv_head]
        for payment in payments:
            head += [payment[k] for k in PAYMENT_KEYS]
        serial = excel_serial(invoice.issued)
        marshal.dump(
            (
                serial,
                invoice.id,
                self._csv_text(head)[:-2],
                len(payments),
                self._csv_text([values[i] for i in self._csv_tail]),
                self._invoice_row(self._xlsx_invoice(values, serial), ROW_PLACEHOLDER),
            ),
            handle,
        )

    def close(self) -> dict[str, list[Path]]:
        """Write invoices newest first, finish every file; returns the paths per dataset."""
        paths: dict[str, list[Path]] = {}
        if "patients" in self.parts:
            paths["patients"] = [self.folder / "patients.csv", *self._patients_xlsx.close()]
        if self._exams is not None:
            paths["examinations"] = [self.folder / "examinations.csv", *self._exams.close()]
        if self._invoices:
            paths["invoices"] = self._write_invoices()
        for text_file in self._files:
            text_file.close()
        return paths

    def _write_invoices(self) -> list[Path]:
        for handle in self._spills.values():
            handle.close()
        pay_keys = [
            f"paiments_list.{n}.{k}" for n in range(self._max_payments) for k in PAYMENT_KEYS
        ]
        keys = [*_CSV_HEAD_KEYS, *pay_keys, *_CSV_TAIL_KEYS]
        assert keys == sorted(INVOICE_KEYS[:2] + INVOICE_KEYS[3:] + pay_keys)
        self._csv("invoices.csv", [INVOICE_CSV_LABELS.get(k, k) for k in keys])  # the header
        write_csv = self._files[-1].write  # then the rendered rows
        invoices_xlsx = ReportSheet(
            self.folder / "invoices.xlsx",
            INVOICE_XLSX,
            INVOICE_KINDS,
            zip64=self._zip64,
            rows=self._invoice_rows,
        )
        # Empty instalment columns: one more separator per missing field, then the tail.
        padding = [
            "," * (len(PAYMENT_KEYS) * (self._max_payments - n) + 1)
            for n in range(self._max_payments + 1)
        ]
        for spill in sorted(self._spill_dir.iterdir(), reverse=True):
            records = []
            with open(spill, "rb") as stream:
                while True:
                    try:
                        records.append(marshal.load(stream))
                    except EOFError:
                        break
            records.sort(key=lambda r: (-r[0], r[1]))  # Invoice.Meta.ordering = ["-date"]
            for _, _, head, payments, tail, row in records:
                write_csv(head + padding[payments] + tail)
                invoices_xlsx.write_rendered(row)
            self.counts["invoices"] += len(records)
        shutil.rmtree(self._spill_dir)
        return [self.folder / "invoices.csv", *invoices_xlsx.close()]


def _csv_renderer() -> Callable[[list[Any]], str]:
    """A row -> its text as the invoices.csv writer writes it (CRLF included)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def render(fields: list[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(fields)
        return buffer.getvalue()

    return render


# invoices.csv columns are the sorted keys: instalment columns (paiments_list.N.*) fall
# between these two runs of invoice keys.
_CSV_KEYS = sorted(INVOICE_KEYS[:2] + INVOICE_KEYS[3:])
_CSV_HEAD_KEYS = [k for k in _CSV_KEYS if k < "paiments_list."]
_CSV_TAIL_KEYS = [k for k in _CSV_KEYS if k > "paiments_list."]
_NO_INVOICE: list[Any] = [None] * len(INVOICE_KEYS)

"""Write the practice as LibreOsteo's own exports (commit ded787b, drf-excel 2.4).

Files, byte-compatible in layout with `shared/testdata/libreosteo-sample` (see its README):
`patients.csv`, `examinations.csv`, `invoices.csv` (UTF-8, CRLF, raw or French labels),
and `patients.xlsx`, `examinations.xlsx`, `invoices.xlsx` (sheet "Report", inline strings,
typed cells, drf-excel's apostrophe). Invoices are newest first: they are spilled to one
temporary file per month while generating and written in reverse at the end. A workbook
past Excel's row limit continues in `<name>-2.xlsx`, `<name>-3.xlsx`, ...

What LibreOsteo cannot express, and how its ground truth follows:
- It has no "bank transfer" means of payment (only cash, check, ecard; `notpaid` is a
  closing code): a payment by virement is recorded as `ecard`, so the libreosteo truth
  counts virement under `cb`.
- It has no appointment book: cancelled appointments and no-shows are examinations with
  status 3 (not invoiced) whose `status_reason` is one of `vocab.REASONS_CANCELLED` /
  `vocab.REASONS_NO_SHOW`; other status-3 reasons (`vocab.REASONS_FREE`) are done sessions.
  Status 0 (still open on the export day) is a done session not yet invoiced.

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
import json
import marshal
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, BinaryIO
from zoneinfo import ZoneInfo

from . import people
from .libreosteo_format import (
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
from .model import Exam, Invoice, Payment
from .people import Card, Patient, Practitioner
from .xlsx import ReportSheet, excel_serial

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
    ) -> None:
        self.folder = folder
        self._card = card
        self.practitioners = practitioners
        self.header = people.office_header(practitioners[0])
        self._files: list[IO[str]] = []
        self._patients_csv = self._csv("patients.csv", PATIENT_CSV)
        self._exams_csv = self._csv("examinations.csv", EXAM_CSV)
        self._patients_xlsx = ReportSheet(
            folder / "patients.xlsx", PATIENT_XLSX, PATIENT_KINDS, zip64=zip64
        )
        self._exams_xlsx = ReportSheet(
            folder / "examinations.xlsx", EXAM_XLSX, EXAM_KINDS, zip64=zip64
        )
        self._zip64 = zip64
        self._spill_dir = folder / ".invoices-spill"
        self._spill_dir.mkdir()
        self._spills: dict[tuple[int, int], BinaryIO] = {}
        self._max_payments = 0
        self._invoice_rows = 0
        self.counts: dict[str, int] = {"patients": 0, "examinations": 0, "invoices": 0}

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
        p, pr = self._card(exam.patient), self.practitioners[exam.practitioner]
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
        serialized = {inv.id: self._serialize(inv, p) for inv in exam.invoices}
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
        last = self._xlsx_invoice(serialized[live.id], live.issued) if live else [None] * 39
        facture = ", ".join(str(i.id) for i in reversed(own)) or None
        self._exams_xlsx.write(
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
        for invoice in exam.invoices:
            self._spill(invoice, serialized[invoice.id])

    def _spill(self, invoice: Invoice, values: list[Any]) -> None:
        month = (invoice.issued.year, invoice.issued.month)
        handle = self._spills.get(month)
        if handle is None:
            if len(self._spills) >= 4:  # chains end within days: old months are done
                oldest = min(self._spills)
                self._spills.pop(oldest).close()
            handle = self._spills[month] = open(  # noqa: SIM115
                self._spill_dir / f"{month[0]}-{month[1]:02d}", "ab"
            )
        self._max_payments = max(self._max_payments, len(invoice.late))
        self._invoice_rows += 1
        marshal.dump((excel_serial(invoice.issued), values), handle)

    def close(self) -> dict[str, list[Path]]:
        """Write invoices newest first, finish every file; returns the paths per dataset."""
        for handle in self._spills.values():
            handle.close()
        keys = sorted(
            INVOICE_KEYS[:2]
            + INVOICE_KEYS[3:]
            + [f"paiments_list.{n}.{k}" for n in range(self._max_payments) for k in PAYMENT_KEYS]
        )
        invoices_csv = self._csv("invoices.csv", [INVOICE_CSV_LABELS.get(k, k) for k in keys])
        invoices_xlsx = ReportSheet(
            self.folder / "invoices.xlsx",
            INVOICE_XLSX,
            INVOICE_KINDS,
            zip64=self._zip64,
            rows=self._invoice_rows,
        )
        position = {k: i for i, k in enumerate(INVOICE_KEYS)}
        for spill in sorted(self._spill_dir.iterdir(), reverse=True):
            records = []
            with open(spill, "rb") as stream:
                while True:
                    try:
                        records.append(marshal.load(stream))
                    except EOFError:
                        break
            records.sort(key=lambda r: (-r[0], r[1][0]))  # Invoice.Meta.ordering = ["-date"]
            for serial, values in records:
                flat = {k: values[i] for k, i in position.items()}
                for n, payment in enumerate(values[2]):
                    for k in PAYMENT_KEYS:
                        flat[f"paiments_list.{n}.{k}"] = payment[k]
                invoices_csv.writerow([flat.get(k) for k in keys])
                invoices_xlsx.write(self._xlsx_invoice(values, serial))
                self.counts["invoices"] += 1
        shutil.rmtree(self._spill_dir)
        for text_file in self._files:
            text_file.close()
        return {
            "patients": [self.folder / "patients.csv", *self._patients_xlsx.close()],
            "examinations": [self.folder / "examinations.csv", *self._exams_xlsx.close()],
            "invoices": [self.folder / "invoices.csv", *invoices_xlsx.close()],
        }

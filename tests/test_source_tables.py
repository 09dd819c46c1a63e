"""One stage-1 table builder and one practitioner role rule, for every adapter."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import fields
from datetime import date, time
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from docx import Document

from osteo_analytics.pseudonymize.primitives import normalize_name
from osteo_analytics.sources import SourceBatch, docx, generic, ledger, libreosteo
from osteo_analytics.sources.base import SCHEMAS
from osteo_analytics.sources.tables import (
    DERIVED,
    ROWS,
    ConsultationRow,
    InvoiceRow,
    PatientRow,
    PaymentRow,
    assign_roles,
    build_batch,
    build_table,
)
from osteo_analytics.synthetic import synthesize
from osteo_analytics.synthetic.people import make_practitioners
from tests.conftest import PASSPHRASE, osteo

DAY = date(2024, 3, 15)
MARIE = PatientRow(family_name="Dupont", first_name="Marie", source_file="f.csv", source_row=2)


def seen(name: str, row: int, file: str = "f.csv") -> ConsultationRow:
    """A consultation row naming ``name``: what assign_roles counts."""
    return ConsultationRow(
        consultation_ref=f"{file}#{row}",
        patient=MARIE,
        practitioner_name=name,
        consulted_on=DAY,
        status="done",
        consultation_type="other",
        source_file=file,
        source_row=row,
    )


def roles(batch_or_rows: SourceBatch | list) -> dict[str, str]:
    rows = (
        batch_or_rows.practitioners.to_pylist()
        if isinstance(batch_or_rows, SourceBatch)
        else [{"display_name": r.display_name, "role": r.role} for r in batch_or_rows]
    )
    return {r["display_name"]: r["role"] for r in rows}


# --- the rule ----------------------------------------------------------------------------


def test_the_practitioner_with_most_rows_is_titular_the_others_associates() -> None:
    rows = [seen("Paul Petit", 2), seen("Marie Martin", 3), seen("Marie Martin", 4)]
    rows += [seen("Léa Roux", 5), seen("Marie Martin", 6)]
    assert roles(assign_roles(rows)) == {
        "Paul Petit": "associate",
        "Marie Martin": "titular",
        "Léa Roux": "associate",
    }


@pytest.mark.parametrize("order", [1, -1])
def test_a_tie_goes_to_the_folded_name_that_sorts_first_whatever_the_order(order: int) -> None:
    rows = [seen("Zoé Abel", 2), seen("Zoé Abel", 3), seen("ÉLODIE Zan", 4), seen("Elodie Zan", 5)]
    got = {normalize_name(r.display_name): r.role for r in assign_roles(rows[::order])}
    assert got == {"elodie zan": "titular", "zoe abel": "associate"}  # two rows each


def test_names_fold_as_pseudonymize_folds_them_first_row_names_and_locates() -> None:
    rows = [seen("Jean-Pierre Le Goff", 7, "a.csv"), seen("JEAN PIERRE LE GOFF", 2, "b.csv")]
    [only] = assign_roles(rows)
    assert (only.display_name, only.role, only.source_file, only.source_row) == (
        "Jean-Pierre Le Goff",
        "titular",
        "a.csv",
        7,
    )


def test_replacement_only_when_the_source_says_so() -> None:
    rows = [seen("Marie Martin", n) for n in range(2, 6)] + [seen("Paul Petit", 6)]
    rows += [seen("Léa Roux", 7), seen("Léa Roux", 8)]
    assert roles(assign_roles(rows)) == {
        "Marie Martin": "titular",
        "Paul Petit": "associate",
        "Léa Roux": "associate",
    }
    said = assign_roles(rows, replacements=["PAUL PETIT"])  # any spelling of the name
    assert roles(said) == {
        "Marie Martin": "titular",
        "Paul Petit": "replacement",
        "Léa Roux": "associate",
    }
    # a replacement is never titular, however many rows: the next one is
    assert roles(assign_roles(rows, replacements=["Marie Martin"])) == {
        "Marie Martin": "replacement",
        "Paul Petit": "associate",
        "Léa Roux": "titular",
    }
    assert assign_roles([]) == []


# --- the builder -------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", sorted(ROWS))
def test_each_record_is_its_schema(dataset: str) -> None:
    """A record's fields are its schema's columns but the derived ones and the patient's."""
    schema = SCHEMAS[dataset]
    record = {f.name: f for f in fields(ROWS[dataset])}
    own = [n for n in schema.names if n not in DERIVED and not n.startswith("patient_")]
    names_patient = any(n.startswith("patient_") for n in schema.names)
    assert sorted(record) == sorted(own + ["patient"] * names_patient)
    for name in own:  # optional (None by default) exactly when nullable
        assert (record[name].default is None) == schema.field(name).nullable, name


def test_build_batch_numbers_payments_and_fills_source() -> None:
    invoices = [
        InvoiceRow(
            invoice_number=n,
            patient=MARIE,
            practitioner_name="Marie Martin",
            issued_on=DAY,
            amount=Decimal("55.00"),
            status="paid",
            source_file="f.csv",
            source_row=row,
        )
        for row, n in ((2, "F1"), (3, "F2"))
    ]
    payments = [
        PaymentRow(
            invoice_number=n,
            paid_on=DAY,
            amount=Decimal(a),
            method="cb",
            source_file="f.csv",
            source_row=row,
        )
        for row, n, a in ((2, "F1", "20"), (3, "F2", "55"), (2, "F1", "35"))
    ]
    consultation = seen("Marie Martin", 2)
    consultation.start_time = time(9, 30)
    batch = build_batch(
        "generic", patients=[MARIE], consultations=[consultation], invoices=invoices,
        payments=payments, files=[], rejected=[],
    )  # fmt: skip
    batch.assert_valid()
    assert batch.payments.column("payment_id").to_pylist() == ["F1/1", "F2/1", "F1/2"]
    assert batch.payments.column("amount").to_pylist() == [Decimal(a) for a in ("20", "55", "35")]
    for table in batch.tables().values():
        assert table.column("source").to_pylist() == ["generic"] * table.num_rows
    assert batch.consultations.column("start_time").to_pylist() == [time(9, 30)]
    assert batch.patients.to_pylist()[0]["birth_date"] is None
    named = batch.invoices.select(["patient_family_name", "patient_first_name"]).to_pylist()
    assert named == [{"patient_family_name": "Dupont", "patient_first_name": "Marie"}] * 2
    assert roles(batch) == {"Marie Martin": "titular"}


def test_an_empty_read_gives_empty_tables_of_each_schema() -> None:
    batch = build_batch(
        "docx", patients=[], consultations=[], invoices=[], payments=[], files=[], rejected=[]
    )
    for name, table in batch.tables().items():
        assert table.num_rows == 0 and table.schema.equals(SCHEMAS[name])


def test_a_required_column_left_empty_is_an_adapter_bug() -> None:
    row = PatientRow(family_name="Dupont", first_name=None, source_file="f", source_row=2)
    with pytest.raises(AssertionError, match="first_name"):
        build_table(SCHEMAS["patients"], "generic", [row])


# --- every adapter -----------------------------------------------------------------------

# (day, patient, Praticien): Marie Martin three times, Paul Petit once
VISITS = [
    ("01/03/2024", "DUPONT Marie", "Marie Martin"),
    ("02/03/2024", "MARTIN Jean", "Paul Petit"),
]
VISITS += [("04/03/2024", "LEROY Ana", "Marie Martin"), ("05/03/2024", "MOREL Luc", "MARIE MARTIN")]
EXPECTED = {"Marie Martin": "titular", "Paul Petit": "associate"}


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter=";").writerows(rows)
    return path


GENERIC_MAPPING = """
format: osteo-mapping/1
feeds: [consultations, invoices]
columns:
  Date: consulted_on
  Patient: full_name
  Montant: amount
  Praticien: practitioner
"""


def read_generic(tmp: Path) -> SourceBatch:
    rows = [["Date", "Patient", "Montant", "Praticien"]]
    rows += [[day, patient, "55", who] for day, patient, who in VISITS]
    mapping = tmp / "mapping.yaml"
    mapping.write_text(GENERIC_MAPPING, encoding="utf-8")
    return generic.read([write_rows(tmp / "visites.csv", rows)], mapping=mapping)


def read_ledger(tmp: Path) -> SourceBatch:
    rows = [["Date", "Patient", "Montant", "Mode de règlement", "Praticien"]]
    rows += [[day, patient, "55", "CB", who] for day, patient, who in VISITS]
    return ledger.read([write_rows(tmp / "recettes-2024.csv", rows)])


def read_docx(tmp: Path) -> SourceBatch:
    for i, (day, patient, who) in enumerate(VISITS):
        doc = Document()
        doc.add_heading(patient, level=1)
        doc.add_paragraph(f"Praticien : {who}")
        doc.add_paragraph(f"{day} lombalgie. Tarif : 55 € réglé CB")
        doc.save(str(tmp / f"patient-{i}.docx"))
    return docx.read([tmp])


def synthetic_libreosteo(tmp: Path) -> Path:
    """A small LibreOsteo export of three osteopaths: the titular and two associates."""
    synthesize(tmp / "practice", years=1, practitioners=3, scale=0.05, formats=("libreosteo",))
    return tmp / "practice" / "libreosteo"


def read_libreosteo(tmp: Path) -> SourceBatch:
    export = synthetic_libreosteo(tmp)
    return libreosteo.read([export / f"{k}.csv" for k in ("patients", "examinations", "invoices")])


def synthetic_roles() -> dict[str, str]:
    return {p.display_name: p.role for p in make_practitioners(3, 42)}


READERS: dict[str, tuple[Callable[[Path], SourceBatch], Callable[[], dict[str, str]]]] = {
    "generic": (read_generic, lambda: EXPECTED),
    "ledger": (read_ledger, lambda: EXPECTED),
    "docx": (read_docx, lambda: EXPECTED),
    "libreosteo": (read_libreosteo, synthetic_roles),
}


@pytest.mark.parametrize("adapter", sorted(READERS))
def test_every_adapter_gives_a_titular_and_associates(adapter: str, tmp_path: Path) -> None:
    read, expected = READERS[adapter]
    assert roles(read(tmp_path)) == expected()


def test_the_titular_does_not_depend_on_the_order_of_files(tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(GENERIC_MAPPING, encoding="utf-8")
    header = ["Date", "Patient", "Montant", "Praticien"]
    a = write_rows(tmp_path / "a.csv", [header, ["01/03/2024", "DUPONT Marie", "55", "Zoé Abel"]])
    b = write_rows(tmp_path / "b.csv", [header, ["02/03/2024", "MARTIN Jean", "55", "Anne Zan"]])
    for files in ([a, b], [b, a]):
        got = roles(generic.read(files, mapping=mapping))
        assert got == {"Anne Zan": "titular", "Zoé Abel": "associate"}


THERAPIST = ("Prénom du thérapeute", "Nom du thérapeute")  # both exports label them so


def said_replacement_csv(export: Path, who: str, quality: str) -> None:
    path = export / "invoices.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    head = rows[0]
    first, last, said = (head.index(h) for h in (*THERAPIST, "En qualité de"))
    for row in rows[1:]:
        if f"{row[first]} {row[last]}" == who:
            row[said] = quality
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)


def said_replacement_xlsx(export: Path, who: str, quality: str) -> None:
    path = export / "invoices.xlsx"
    book = openpyxl.load_workbook(path)
    sheet = book.active
    head = [c.value for c in sheet[1]]
    first, last, said = (head.index(h) for h in (*THERAPIST, "Qualité"))
    for row in sheet.iter_rows(min_row=2):
        if f"{row[first].value} {row[last].value}" == who:
            row[said].value = quality
    book.save(path)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_libreosteo_says_replacement_through_the_invoice_quality(fmt: str, tmp_path: Path) -> None:
    """LibreOsteo copies the therapist's title ("En qualité de") onto every invoice."""
    export = synthetic_libreosteo(tmp_path)
    titular, one, other = make_practitioners(3, 42)
    quality = f"Ostéopathe D.O., remplaçante de {titular.first_name[0]}. {titular.last_name}"
    (said_replacement_csv if fmt == "csv" else said_replacement_xlsx)(
        export, one.display_name, quality
    )
    batch = libreosteo.read(
        [export / f"{k}.{fmt}" for k in ("patients", "examinations", "invoices")]
    )
    assert roles(batch) == {
        titular.display_name: "titular",
        one.display_name: "replacement",
        other.display_name: "associate",
    }


def test_imported_practitioners_keep_their_roles(tmp_path: Path) -> None:
    """Through `osteo import` and `osteo sql`: the roles reach the snapshot."""
    env = {"OSTEO_PASSPHRASE": PASSPHRASE}
    ws = tmp_path / "ws"
    assert osteo("init", workspace=ws, env=env).returncode == 0
    source = tmp_path / "in"
    source.mkdir()
    read_generic(source)  # writes visites.csv and mapping.yaml
    done = osteo(
        "import", str(source / "visites.csv"), "--format", "generic",
        "--mapping", str(source / "mapping.yaml"), workspace=ws, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    sql = "SELECT display_name, role FROM practitioners ORDER BY display_name"
    shown = osteo("sql", "-c", sql, "--format", "json", workspace=ws, env=env)
    assert shown.returncode == 0, shown.stderr
    assert {r["display_name"]: r["role"] for r in json.loads(shown.stdout)} == EXPECTED

"""Word adapter: one .docx per patient → stage-1 tables, conventions, accounting, privacy."""

from __future__ import annotations

import json
import zipfile
from datetime import date, time
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osteo_analytics import snapshots, workspace
from osteo_analytics.errors import InputError
from osteo_analytics.ingest import import_paths
from osteo_analytics.sources import docx as docx_adapter
from osteo_analytics.sources.docx import parse as dp
from tests.conftest import PASSPHRASE, osteo

# Everything identifying or clinical written in the fixtures: none may reach a snapshot.
# (The practitioner's name is kept: professional, not health data; docs/datasets.md.)
SECRETS = (
    "DUPONT", "Dupont", "Marie", "Martin", "Jean", "Lilas", "Rennes", "0612345678",
    "06 12 34 56 78", "marie@example.org", "appendicectomie", "jardinage", "sciatique",
    "torticolis", "1981-04-03", "MOREAU", "Lucien",
)  # fmt: skip


def make_docx(path: Path, paragraphs: list[str], *, heading: str | None = None,
              table: list[list[str]] | None = None) -> Path:  # fmt: skip
    """A Word file written by python-docx: optional heading, paragraphs, then a table."""
    doc = Document()
    if heading is not None:
        doc.add_heading(heading, level=1)
    for text in paragraphs:
        doc.add_paragraph(text)
    if table:
        grid = doc.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, text in enumerate(row):
                grid.rows[r].cells[c].text = text
    doc.save(str(path))
    return path


def marie(folder: Path) -> Path:
    return make_docx(
        folder / "DUPONT Marie.docx",
        [
            "Adresse : 12 rue des Lilas 35000 Rennes",
            "Tél : 06 12 34 56 78",
            "Email : marie@example.org",
            "Antécédents : appendicectomie en 1995",
            "",
            "15/03/2024 : lombalgie aiguë après jardinage. Tarif : 55 € réglé CB",
            "2 avril 2024 14h30 urgence torticolis 60 € non réglé",
            "32/04/2024 suivi",
            "15/03/2024 : la même séance recopiée",
        ],
        heading="DUPONT Marie – née le 03/04/1981",
        table=[
            ["Date", "Motif", "Tarif", "Règlement"],
            ["10/05/2024", "genou", "50", "chèque"],
            ["11/05/2024", "à domicile, sciatique", "", ""],
            ["", "", "", ""],
        ],
    )


# Jean's file: no heading, his identity and his practitioner in the first paragraphs.
JEAN = [
    "Martin Jean (01/02/1990)",
    "Praticien : Paul Lemaire",
    "01.06.24 Bilan. Honoraires : 50 € espèces",
]


def jean(folder: Path) -> Path:
    return make_docx(folder / "jean.docx", JEAN)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "dossiers"
    folder.mkdir()
    marie(folder)
    jean(folder)
    make_docx(folder / "scan001.docx", ["Notes diverses sur le cabinet"])  # no identity
    make_docx(folder / "MOREAU Lucien.docx", ["Né le 05/06/1970", "Sportif, course à pied"])
    make_docx(folder / "vide.docx", [])
    (folder / "~$lock.docx").write_bytes(b"owner file of an open document")
    return folder


def test_reads_a_folder_of_patient_files(folder: Path) -> None:
    batch = docx_adapter.read([folder])
    batch.assert_valid()
    names = [f.path.name for f in batch.files]
    assert names == [
        "DUPONT Marie.docx",
        "MOREAU Lucien.docx",
        "jean.docx",
        "scan001.docx",
        "vide.docx",
    ]
    # the file name is the patient's: source_file is its position instead
    labels = {r["source_file"] for t in batch.tables().values() for r in t.to_pylist()}
    assert labels == {"docx-1", "docx-3"}
    patients = batch.patients.to_pylist()
    got_patients = [
        (p["family_name"], p["first_name"], p["birth_date"], p["sex"], p["postcode"])
        for p in patients
    ]
    assert got_patients == [
        ("DUPONT", "Marie", date(1981, 4, 3), "F", "35000"),
        ("Martin", "Jean", date(1990, 2, 1), None, None),
    ]
    consultations = batch.consultations.to_pylist()
    got = [
        (c["source_file"], c["source_row"], c["consulted_on"], c["start_time"],
         c["consultation_type"], c["motif_category"], c["practitioner_name"])
        for c in consultations
    ]  # fmt: skip
    assert got == [
        ("docx-1", 7, date(2024, 3, 15), None, "other", "low_back", "Praticien du cabinet"),
        ("docx-1", 8, date(2024, 4, 2), time(14, 30), "urgent", "neck", "Praticien du cabinet"),
        ("docx-1", 12, date(2024, 5, 10), None, "other", "lower_limb", "Praticien du cabinet"),
        ("docx-1", 13, date(2024, 5, 11), None, "home", "low_back", "Praticien du cabinet"),
        ("docx-3", 3, date(2024, 6, 1), None, "other", "checkup", "Paul Lemaire"),
    ]
    invoices = [(i["invoice_number"], i["amount"], i["status"]) for i in batch.invoices.to_pylist()]
    assert invoices == [
        ("W-20240315-#1", Decimal("55.00"), "paid"),
        ("W-20240402-#2", Decimal("60.00"), "issued"),
        ("W-20240510-#3", Decimal("50.00"), "paid"),
        ("W-20240601-#4", Decimal("50.00"), "paid"),
    ]
    methods = [(p["invoice_number"], p["method"]) for p in batch.payments.to_pylist()]
    assert methods == [
        ("W-20240315-#1", "cb"),
        ("W-20240510-#3", "cheque"),
        ("W-20240601-#4", "especes"),
    ]
    roles = {p["display_name"]: p["role"] for p in batch.practitioners.to_pylist()}
    assert roles == {"Praticien du cabinet": "titular", "Paul Lemaire": "associate"}


def test_every_file_is_accounted_for(folder: Path) -> None:
    batch = docx_adapter.read([folder])
    reports = {f.path.name: f for f in batch.files}
    for report in reports.values():
        report.assert_balanced()
    marie_report = reports["DUPONT Marie.docx"]
    # 9 non-empty paragraphs + 4 table rows; identity line and 4 visits accepted
    assert (marie_report.rows_read, marie_report.accepted) == (13, 5)
    assert marie_report.reasons == {
        "patient_details": 3,  # address (postcode kept), phone, email
        "free_text": 1,
        "bad_date": 1,
        "duplicate": 1,
        "table_header": 1,
        "blank_row": 1,
    }
    assert reports["scan001.docx"].reasons == {"no_identity": 1}
    assert reports["MOREAU Lucien.docx"].reasons == {"no_visit": 1, "free_text": 1}
    assert reports["vide.docx"].rows_read == 0
    rejected = {(r.source_file, r.source_row, r.rule) for r in batch.rejected}
    assert rejected == {
        ("docx-1", 9, "bad_date"),
        ("docx-2", 1, "no_visit"),  # the identity came from the file name: its first row
        ("docx-4", 1, "no_identity"),
        ("docx-5", 0, "empty_document"),
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DUPONT Marie – née le 03/04/1981", ("DUPONT", "Marie", date(1981, 4, 3), "F")),
        ("Dupont Marie (03/04/1981)", ("Dupont", "Marie", date(1981, 4, 3), None)),
        ("DUPONT Marie", ("DUPONT", "Marie", None, None)),
        ("Marie DUPONT, né le 3 avril 1981", ("DUPONT", "Marie", date(1981, 4, 3), "M")),
        (
            "Patient : LE GOFF Anne-Sophie - 01.02.85",
            ("LE GOFF", "Anne-Sophie", date(1985, 2, 1), None),
        ),
        ("Mme D'ARTAGNAN Léa", ("D'ARTAGNAN", "Léa", None, "F")),
        ("DUPONT_Marie", ("DUPONT", "Marie", None, None)),
        ("Fiche patient", None),
        ("Consultations 2024", None),
        ("DUPONT", None),  # a family name alone is not enough to key a patient
        ("Dupont Marie née le 31/02/1981", None),  # a birth date that is not a date
        ("Lombalgie depuis trois semaines avec irradiation vers la jambe gauche", None),
    ],
)
def test_identity_lines(text: str, expected: tuple | None) -> None:
    found = dp.identity(text)
    got = None if found is None else (found.family, found.first, found.birth_date, found.sex)
    assert got == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "15/03/2024 : lombalgie. Tarif : 55 € réglé CB",
            (date(2024, 3, 15), "done", "other", "low_back", "55.00", True, "cb"),
        ),
        (
            "15.03.24 - cervicalgie - 50€",
            (date(2024, 3, 15), "done", "other", "neck", "50.00", False, None),
        ),
        (
            "lundi 15 mars 2024 à 9h urgence entorse cheville Montant 60,00 payé",
            (date(2024, 3, 15), "done", "urgent", "lower_limb", "60.00", True, None),
        ),
        (
            "2024-03-15 visite à domicile bébé 70 euros chèque",
            (date(2024, 3, 15), "done", "home", "infant_child", "70.00", True, "cheque"),
        ),
        ("15/03/2024 annulé", (date(2024, 3, 15), "cancelled", "other", None, None, False, None)),
        (
            "15/03/2024 absente (lapin)",
            (date(2024, 3, 15), "no_show", "other", None, None, False, None),
        ),
        (
            "15/03/2024 séance offerte, tarif : gratuit",
            (date(2024, 3, 15), "done", "other", "other", None, False, None),
        ),
        (
            "15/03/2024 Tarif : 55 € impayé, CB refusée",
            (date(2024, 3, 15), "done", "other", "other", "55.00", False, None),
        ),
        (
            "1er févr. 24 : stress, sommeil. Honoraires 1 234,50 € virement",
            (date(2024, 2, 1), "done", "other", "stress_sleep", "1234.50", True, "virement"),
        ),
    ],
)
def test_visit_lines(text: str, expected: tuple) -> None:
    v = dp.visit_line(text)
    fee = None if v.fee is None else str(v.fee)
    assert (v.consulted_on, v.status, v.ctype, v.motif, fee, v.paid, v.method) == expected


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("31/02/2024 lombalgie", "bad_date"),
        ("15/03/2024 Tarif : ??", "bad_amount"),
        ("15/03/2024 25h30 lombalgie", "bad_time"),
    ],
)
def test_bad_visit_lines(text: str, rule: str) -> None:
    with pytest.raises(dp.BadValue) as err:
        dp.visit_line(text)
    assert err.value.rule == rule


def test_lines_that_are_not_visits() -> None:
    assert dp.leading_date("12 séances 2024 prévues") is None
    assert dp.leading_date("Antécédents : 2 entorses") is None
    assert dp.leading_date("Mardi 5 mars 2024 : lombalgie") is not None
    assert dp.details("Adresse : 3 bis rue X, 29200 Brest").postcode == "29200"  # type: ignore[union-attr]
    assert dp.details("Praticien : Gaëlle Tanguy").practitioner == "Gaëlle Tanguy"  # type: ignore[union-attr]
    assert dp.details("Née le 3 avril 1981").birth_date == date(1981, 4, 3)  # type: ignore[union-attr]
    assert dp.details("Lombalgie chronique") is None


def test_source_file_is_never_the_file_name(tmp_path: Path) -> None:
    path = marie(tmp_path)
    batch = docx_adapter.read([path])
    dump = json.dumps([r.__repr__() for r in batch.rejected])
    for table in batch.tables().values():
        assert set(table.column("source_file").to_pylist()) <= {"docx-1"}
    assert "DUPONT Marie" not in dump and "docx-1" in dump


def test_detect(tmp_path: Path, folder: Path) -> None:
    assert docx_adapter.detect(folder)
    assert docx_adapter.detect(folder / "jean.docx")
    (tmp_path / "fake.docx").write_text("not a zip")
    assert not docx_adapter.detect(tmp_path / "fake.docx")
    assert not docx_adapter.detect(tmp_path / "missing.docx")
    assert docx_adapter.name == "docx"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"plain text pretending", "pas un document Word"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "ancien"),
        (b"PK\x03\x04truncated zip", "endommagé"),
        (b"", "pas un document Word"),
    ],
)
def test_unreadable_files_are_one_line_input_errors(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "DUPONT Marie.docx"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as err:
        docx_adapter.read([path])
    assert "\n" not in str(err.value) and str(err.value).startswith("DUPONT Marie.docx : ")


def test_a_zip_that_is_not_a_word_document(tmp_path: Path) -> None:
    path = tmp_path / "archive.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(InputError, match="endommagé"):
        docx_adapter.read([path])


def test_missing_inputs(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        docx_adapter.read([])
    with pytest.raises(InputError, match="introuvable"):
        docx_adapter.read([tmp_path / "nope.docx"])
    with pytest.raises(InputError, match="aucun fichier Word"):
        docx_adapter.read([tmp_path])


PARAGRAPH = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            "15/03/2024 lombalgie Tarif : 55 € CB", "Tarif : 55 €", "31/02/2024", "DUPONT Marie",
            "Adresse : 35000", "=HYPERLINK(\"http://x\",\"y\")", "1er mars 24 : 55€ réglé",
            "15/03/2024 Tarif : abc", "\u00a0", "15/03/2024 99h99", "x" * 10_000,
        ]
    ),
)  # fmt: skip


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    heading=st.one_of(st.none(), PARAGRAPH),
    paragraphs=st.lists(PARAGRAPH, max_size=8),
    table=st.one_of(
        st.none(), st.lists(st.lists(PARAGRAPH, min_size=3, max_size=3), min_size=1, max_size=4)
    ),
)
def test_fuzzed_documents_never_raise_and_balance(
    tmp_path: Path, heading: str | None, paragraphs: list[str], table: list[list[str]] | None
) -> None:
    clean = [
        "".join(c for c in p if c.isprintable() or c == " ") for p in [heading or "", *paragraphs]
    ]  # XML refuses control characters; python-docx would not write them
    cells = [["".join(c for c in x if c.isprintable()) for x in row] for row in table or []]
    path = make_docx(
        tmp_path / "f.docx", clean[1:], heading=clean[0] if heading else None, table=cells or None
    )
    batch = docx_adapter.read([path])
    batch.assert_valid()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(junk=st.binary(max_size=3000), zipped=st.booleans())
def test_binary_junk_is_an_input_error(tmp_path: Path, junk: bytes, zipped: bool) -> None:
    path = tmp_path / "junk.docx"
    path.write_bytes(b"PK\x03\x04" + junk if zipped else junk)
    try:
        batch = docx_adapter.read([path])
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    batch.assert_valid()  # junk that happens to start like nothing at all: still balanced


# --- end to end ---------------------------------------------------------------------------


@pytest.fixture
def imported(tmp_path: Path, folder: Path) -> dict:
    unlocked = workspace.init_workspace(tmp_path / "ws", PASSPHRASE, work_factor=10).unlocked
    first = import_paths(unlocked, [folder], fmt="docx")
    again = import_paths(unlocked, [folder], fmt="docx")
    return {"unlocked": unlocked, "first": first, "again": again}


def test_import_into_a_workspace(imported: dict) -> None:
    first = imported["first"]
    assert first.rows == {
        "practitioners": 2,
        "patients": 2,
        "consultations": 5,
        "invoices": 4,
        "payments": 3,
    }
    for report in first.files:
        report.assert_balanced()
    assert sum(f.accepted for f in first.files) == 7  # 5 visits + 2 identity lines
    assert imported["again"].changed is False


def test_no_name_or_text_from_the_word_files_in_the_snapshot(imported: dict) -> None:
    unlocked = imported["unlocked"]
    tables = snapshots.read_snapshot(unlocked.workspace.snapshots_dir, unlocked.identities)
    dump = json.dumps({k: t.to_pylist() for k, t in tables.items()}, default=str)
    dump += json.dumps({k: t.schema.to_string() for k, t in tables.items()})
    for secret in SECRETS:
        assert secret not in dump, secret
    assert "docx" in dump  # the source column, and nothing else from the files


def test_reimport_counts_duplicates(imported: dict) -> None:
    again = imported["again"]
    assert all(f.accepted == 0 for f in again.files)


def test_cli_import(tmp_path: Path, folder: Path) -> None:
    env = {"OSTEO_PASSPHRASE": PASSPHRASE}
    ws = tmp_path / "ws"
    assert osteo("init", workspace=ws, env=env).returncode == 0
    done = osteo("import", str(folder), "--format", "docx", "--json", workspace=ws, env=env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["rows"]["consultations"] == 5
    assert len(summary["files"]) == 5
    for f in summary["files"]:
        assert f["rows_read"] == f["accepted"] + f["quarantined"] + f["duplicates"] + f["excluded"]
    (folder / "broken.docx").write_bytes(b"not a zip")
    refused = osteo("import", str(folder), "--format", "docx", workspace=ws, env=env)
    assert refused.returncode == 2 and "broken.docx" in refused.stderr
    assert "Traceback" not in refused.stderr

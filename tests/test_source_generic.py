"""Generic adapter: CSV/XLSX + YAML mapping → stage-1 tables; mapping validation; drafts."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osteo_analytics import snapshots, sources, workspace
from osteo_analytics.errors import Hint, InputError, MappingError
from osteo_analytics.ingest import import_paths
from osteo_analytics.sources import generic
from osteo_analytics.sources.generic.suggest import guess
from tests.conftest import PASSPHRASE, ROOT, osteo

EXAMPLE = ROOT / "data_contracts" / "sources" / "example-visits.yaml"
README = ROOT / "data_contracts" / "sources" / "README.md"

HEADER = ["Date", "Patient", "Né(e) le", "Motif", "Montant", "Règlement", "Statut", "Téléphone"]
# (date, patient, birth, motif, amount, payment, status, phone) as a person types them
ROWS = [
    ["15/03/2024", "DUPONT Marie", "03/04/1981", "lombalgie aiguë", "55,00 €", "CB", "", "0611"],
    ["16/03/2024", "Martin Jean", "", "torticolis", "60", "", "", ""],
    ["16/03/2024", "Martin Jean", "", "torticolis", "60", "", "", ""],  # typed twice
    ["", "", "", "", "", "", "", ""],
    ["17/03/2024", "LEROY Ana", "", "", "", "", "Annulé", ""],
    ["18/03/2024", "Ana LEROY", "", "genou", "1 234,50", "Carte bleue", "", ""],
    ["", "Total", "", "", "1349,5", "", "", ""],
    ["32/03/2024", "BAD Date", "", "", "50", "", "", ""],
    ["19/03/2024", "BAD Amount", "", "", "abc", "", "", ""],
    ["20/03/2024", "ODD Status", "", "", "50", "", "peut-être", ""],
]
MAPPING = """
format: osteo-mapping/1
feeds: [consultations, invoices, payments]
practitioner: Gaëlle Tanguy
columns:
  Date: consulted_on
  Patient: full_name
  Né(e) le: birth_date
  Motif: motif
  Montant: amount
  Règlement: payment_method
  Statut: status
  Téléphone: drop
"""
EXPECTED_REPORT = {
    "rows_read": 11,  # title row + 10 data rows
    "accepted": 4,
    "quarantined": 3,
    "duplicates": 1,
    "excluded": 3,
    "reasons": {
        "title_row": 1,
        "blank_row": 1,
        "subtotal_row": 1,
        "duplicate": 1,
        "bad_date": 1,
        "bad_amount": 1,
        "unknown_value": 1,
    },
}


def write_mapping(tmp_path: Path, text: str = MAPPING) -> Path:
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8", sep: str = ";") -> Path:
    lines = [sep.join(r) for r in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[Any]], sheet: str = "Séances") -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Notes"
    ws.append(["not this sheet"])
    ws = book.create_sheet(sheet)
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def typed(row: list[str]) -> list[object]:
    """The same row as a workbook holds it: real dates and numbers where Excel would."""
    out: list[object] = list(row)
    for i in (0, 2):
        if row[i] and row[i] != "32/03/2024":
            out[i] = datetime.strptime(row[i], "%d/%m/%Y")
    if row[4] in ("60", "1349,5"):
        out[4] = float(row[4].replace(",", "."))
    return [None if v == "" else v for v in out]


VARIANTS = {
    "csv-utf8": lambda d: write_csv(d / "s.csv", [["Séances 2024"], HEADER, *ROWS]),
    "csv-cp1252": lambda d: write_csv(d / "s.csv", [["Séances"], HEADER, *ROWS], "cp1252"),
    "csv-bom-comma": lambda d: write_csv(
        d / "s.csv", [["Séances"], HEADER, *[[c.replace(",", ".") for c in r] for r in ROWS]],
        "utf-8-sig", ",",
    ),
    "xlsx": lambda d: write_xlsx(d / "s.xlsx", [["Séances 2024"], HEADER, *map(typed, ROWS)]),
}  # fmt: skip


def rows_of(batch: sources.SourceBatch, table: str) -> list[dict]:
    drop = {"source", "source_file", "source_row", "consultation_ref"}
    return [
        {k: v for k, v in r.items() if k not in drop} for r in batch.tables()[table].to_pylist()
    ]


@pytest.fixture(params=sorted(VARIANTS))
def variant_batch(request: pytest.FixtureRequest, tmp_path: Path) -> sources.SourceBatch:
    path = VARIANTS[request.param](tmp_path)
    mapping = MAPPING if request.param != "xlsx" else MAPPING + "sheet: Séances\n"
    return generic.read([path], mapping=write_mapping(tmp_path, mapping))


def test_every_variant_reads_the_same_visits(variant_batch: sources.SourceBatch) -> None:
    batch = variant_batch
    batch.assert_valid()
    (report,) = batch.files
    assert {k: getattr(report, k) for k in EXPECTED_REPORT} == EXPECTED_REPORT
    consultations = rows_of(batch, "consultations")
    assert [(c["patient_family_name"], c["consulted_on"], c["status"]) for c in consultations] == [
        ("DUPONT", date(2024, 3, 15), "done"),
        ("Martin", date(2024, 3, 16), "done"),
        ("LEROY", date(2024, 3, 17), "cancelled"),
        ("LEROY", date(2024, 3, 18), "done"),
    ]
    assert [c["motif_category"] for c in consultations] == ["low_back", "neck", None, "lower_limb"]
    assert consultations[0]["patient_birth_date"] == date(1981, 4, 3)
    assert {c["practitioner_name"] for c in consultations} == {"Gaëlle Tanguy"}
    invoices = rows_of(batch, "invoices")
    assert [(i["invoice_number"], i["amount"], i["status"]) for i in invoices] == [
        ("G-20240315-#1", Decimal("55.00"), "paid"),
        ("G-20240316-#2", Decimal("60.00"), "issued"),  # no payment means: unpaid
        ("G-20240318-#3", Decimal("1234.50"), "paid"),
    ]
    payments = rows_of(batch, "payments")
    assert [(p["payment_id"], p["paid_on"], p["amount"], p["method"]) for p in payments] == [
        ("G-20240315-#1/1", date(2024, 3, 15), Decimal("55.00"), "cb"),
        ("G-20240318-#3/1", date(2024, 3, 18), Decimal("1234.50"), "cb"),
    ]
    # 'Ana LEROY' and 'LEROY Ana' are one patient; the phone column is never read
    assert len(rows_of(batch, "patients")) == 3
    assert "0611" not in json.dumps([t.to_pylist() for t in batch.tables().values()], default=str)
    assert {(r.source_row, r.column, r.rule) for r in batch.rejected} == {
        (10, "Date", "bad_date"),
        (11, "Montant", "bad_amount"),
        (12, "Statut", "unknown_value"),
    }


# A patients sheet, one line a row: a repeat in other formats, a nameless row.
PATIENTS_SHEET = """\
Nom;Prénom;Date de naissance;Sexe;CP;Adresse
Dupont;Marie;03.04.81;Mme;5000;1 rue X
DUPONT;marie;1981-04-03;Femme;05000;
Martin;Jean;;Masc.;35 000;
;Sans nom;;;;
"""


def test_patients_sheet_with_value_maps(tmp_path: Path) -> None:
    rows = [line.split(";") for line in PATIENTS_SHEET.splitlines()]
    mapping = write_mapping(
        tmp_path,
        """
format: osteo-mapping/1
feeds: [patients]
columns: {Nom: family_name, Prénom: first_name, Date de naissance: birth_date,
          Sexe: sex, CP: postcode, Adresse: drop}
values: {sex: {Masc.: M}}
""",
    )
    batch = generic.read([write_csv(tmp_path / "p.csv", rows)], mapping=mapping)
    got = [
        (p["family_name"], p["birth_date"], p["sex"], p["postcode"])
        for p in rows_of(batch, "patients")
    ]
    assert got == [("Dupont", date(1981, 4, 3), "F", "5000"), ("Martin", None, "M", "35000")]
    report = batch.files[0]
    assert (report.accepted, report.duplicates, report.quarantined) == (2, 1, 1)
    assert batch.consultations.num_rows == batch.invoices.num_rows == 0


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ({"Statut facture": "Réglée", "Mode": ""}, ("paid", [("autre", "55.00")])),
        ({"Statut facture": "en attente", "Mode": "chèque"}, ("issued", [])),
        ({"Statut facture": "Annulée", "Mode": "CB"}, ("cancelled", [])),
        ({"Statut facture": "", "Mode": "Chq"}, ("paid", [("cheque", "55.00")])),
        ({"Statut facture": "", "Mode": "Pas encore"}, ("issued", [])),
        ({"Statut facture": "", "Mode": "Esp", "Reçu": "20"}, ("issued", [("especes", "20.00")])),
    ],
)
def test_invoice_status_and_payment_rules(tmp_path: Path, cells: dict, expected: tuple) -> None:
    header = [
        "Nom",
        "Prénom",
        "Date",
        "N°",
        "Montant",
        "Statut facture",
        "Mode",
        "Encaissé le",
        "Reçu",
    ]
    row = {"Nom": "Dupont", "Prénom": "Marie", "Date": "15/03/2024", "N°": "2024-001"}
    row |= {"Montant": "55", "Encaissé le": "20/03/2024"} | cells
    mapping = write_mapping(
        tmp_path,
        """
format: osteo-mapping/1
feeds: [invoices, payments]
columns: {Nom: family_name, Prénom: first_name, Date: issued_on, N°: invoice_number,
          Montant: amount, Statut facture: invoice_status, Mode: payment_method,
          Encaissé le: paid_on, Reçu: paid_amount}
values: {payment_method: {pas encore: unpaid}}
""",
    )
    path = write_csv(tmp_path / "f.csv", [header, [row.get(h, "") for h in header]])
    batch = generic.read([path], mapping=mapping)
    (invoice,) = rows_of(batch, "invoices")
    assert invoice["invoice_number"] == "2024-001" and invoice["status"] == expected[0]
    payments = [(p["method"], str(p["amount"])) for p in rows_of(batch, "payments")]
    assert payments == expected[1]
    assert all(p["paid_on"] == date(2024, 3, 20) for p in rows_of(batch, "payments"))
    assert batch.consultations.num_rows == 0 and batch.patients.num_rows == 1


def test_date_format_decimal_separator_and_times(tmp_path: Path) -> None:
    rows = [
        ["Jour", "Heure", "Nom", "Prénom", "Prix"],
        ["2024/03/15", "14h30", "A", "B", "1.234"],
        ["2024/03/16", "9:05", "C", "D", "55.50"],
        ["15/03/2024", "", "E", "F", "50"],  # not the declared format
        ["2024/03/17", "25h00", "G", "H", "50"],
    ]
    mapping = write_mapping(
        tmp_path,
        """
format: osteo-mapping/1
feeds: [consultations, invoices]
date_format: "%Y/%m/%d"
decimal_separator: "."
delimiter: ";"
columns: {Jour: consulted_on, Heure: start_time, Nom: family_name, Prénom: first_name, Prix: amount}
""",
    )
    batch = generic.read([write_csv(tmp_path / "t.csv", rows)], mapping=mapping)
    assert [(c["consulted_on"], c["start_time"]) for c in rows_of(batch, "consultations")] == [
        (date(2024, 3, 16), time(9, 5))
    ]
    assert {(r.source_row, r.rule) for r in batch.rejected} == {
        (2, "bad_amount"),  # '1.234' with a decimal point: three decimals
        (4, "bad_date"),
        (5, "bad_time"),
    }


def test_folder_and_header_row_option(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    for name in ("b.csv", "a.csv"):
        write_csv(folder / name, [["Cabinet"], ["x"], ["Nom", "Prénom"], ["Dupont", name]])
    (folder / "~$a.xlsx").write_bytes(b"lock file")
    mapping = write_mapping(
        tmp_path,
        "format: osteo-mapping/1\nfeeds: [patients]\nheader_row: 3\n"
        "columns: {Nom: family_name, Prénom: first_name}\n",
    )
    batch = generic.read([folder], mapping=mapping)
    assert [f.path.name for f in batch.files] == ["a.csv", "b.csv"]
    assert all((f.rows_read, f.excluded, f.accepted) == (3, 2, 1) for f in batch.files)
    other = tmp_path / "other"
    other.mkdir()
    write_csv(other / "a.csv", [["Nom", "Prénom"], ["Martin", "Jean"]])
    with pytest.raises(InputError, match=r"a\.csv : deux fichiers"):
        generic.read([folder, other / "a.csv"], mapping=mapping)


# --- mapping validation -------------------------------------------------------------------

BASE: dict[str, Any] = {
    "format": "osteo-mapping/1",
    "feeds": ["consultations"],
    "columns": {"Nom": "family_name", "Prénom": "first_name", "Date": "consulted_on"},
}


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"sheeet": "X"}, "sheeet"),
        ({"format": "v2"}, "format"),
        ({"feeds": ["visits"]}, "visits"),
        ({"feeds": []}, "feeds"),
        ({"feeds": ["payments"]}, "payments"),
        ({"columns": {"Nom": "family_name", "Prénom": "prenom"}}, "columns.Prénom"),
        ({"columns": {"Nom": "family_name", "Date": "consulted_on"}}, "first_name"),
        ({"columns": {"Nom": "full_name", "P": "first_name", "Date": "consulted_on"}}, "full_name"),
        ({"columns": {"Nom": "full_name", "X": "full_name", "Date": "consulted_on"}}, "columns.X"),
        ({"columns": {"Nom": "full_name"}}, "consulted_on"),
        ({"columns": {**BASE["columns"], "Montant": "amount"}}, "columns.Montant"),
        ({"feeds": ["consultations", "invoices"]}, "amount"),
        (
            {
                "columns": {**BASE["columns"], "Statut": "status"},
                "values": {"status": {"Annulé": "x"}},
            },
            "values.status.Annulé",
        ),
        ({"values": {"colour": {"x": "y"}}}, "values.colour"),
        ({"values": {"sex": {"Mme": "F"}}}, "values.sex"),
        ({"date_format": "dd/mm/yyyy"}, "date_format"),
        ({"decimal_separator": ";"}, "decimal_separator"),
        ({"encoding": "utf-16"}, "encoding"),
        ({"header_row": 0}, "header_row"),
        ({"columns": None}, "columns"),
    ],
)
def test_mapping_errors_name_the_key(tmp_path: Path, change: dict, names: str) -> None:
    doc = {**BASE, **change}
    path = write_mapping(tmp_path, yaml.safe_dump(doc, allow_unicode=True))
    with pytest.raises(MappingError) as err:
        generic.load_mapping(path)
    message = str(err.value)
    assert names in message and "\n" not in message and message.startswith("mapping.yaml : ")


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("format: osteo-mapping/1\ncolumns: {Nom: full_name, Nom: family_name}\n", "Nom"),
        ("format: [unclosed\n", "ligne"),
        ("- just\n- a list\n", "dictionnaire"),
        ("feeds: [patients]\ncolumns: {Nom: full_name}\n", "format"),
    ],
)
def test_malformed_mapping_files(tmp_path: Path, text: str, names: str) -> None:
    with pytest.raises(MappingError, match=names):
        generic.load_mapping(write_mapping(tmp_path, text))


def test_missing_mapping_or_mapped_header(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "s.csv", [["Nom", "Prénom"], ["A", "B"]])
    with pytest.raises(MappingError, match="demande un fichier de correspondance") as caught:
        generic.read([path])
    assert caught.value.hint is Hint.MAPPING_REQUIRED  # the command line names --mapping
    mapping = write_mapping(tmp_path, MAPPING)
    with pytest.raises(InputError, match="« Date »"):
        generic.read([path], mapping=mapping)


def test_example_mapping_is_valid_and_documented() -> None:
    spec = generic.load_mapping(EXAMPLE)
    assert spec.feeds == {"consultations", "invoices", "payments"}
    readme = README.read_text(encoding="utf-8")
    from osteo_analytics.sources.generic import mapping as gm

    for key in [*gm.TOP_KEYS, *gm.COLUMNS, *gm.VALUE_CODES]:
        assert f"`{key}`" in readme, key


def test_detect_is_always_false(tmp_path: Path) -> None:
    assert generic.detect(write_csv(tmp_path / "s.csv", [HEADER, *ROWS])) is False
    assert generic.name == "generic"


# --- suggest-mapping ------------------------------------------------------------------------

FRENCH_HEADERS = [
    "Date de séance", "NOM", "Prénom", "Date de naissance", "Code postal", "Sexe",
    "Motif", "Praticien", "Statut", "Montant TTC", "Mode de paiement", "N° facture",
    "Téléphone", "E-mail", "Observations", "Colonne 12",
]  # fmt: skip
EXPECTED_DRAFT = {
    "Date de séance": "consulted_on",
    "NOM": "family_name",
    "Prénom": "first_name",
    "Date de naissance": "birth_date",
    "Code postal": "postcode",
    "Sexe": "sex",
    "Motif": "motif",
    "Praticien": "practitioner",
    "Statut": "status",
    "Montant TTC": "amount",
    "Mode de paiement": "payment_method",
    "N° facture": "invoice_number",
    "Téléphone": "drop",
    "E-mail": "drop",
    "Observations": "drop",
    "Colonne 12": "drop",
}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_suggest_mapping_for_french_headers(tmp_path: Path, fmt: str) -> None:
    rows = [["Mes séances 2024"], FRENCH_HEADERS, ["15/03/2024", "DUPONT", "Marie"]]
    if fmt == "csv":
        path = write_csv(tmp_path / "s.csv", rows, "cp1252")
    else:
        path = write_xlsx(tmp_path / "s.xlsx", rows, sheet="Feuil1")
    draft = generic.suggest_mapping(path)
    doc = yaml.safe_load(draft)
    assert doc["columns"] == EXPECTED_DRAFT
    assert doc["feeds"] == ["consultations", "invoices", "payments"]
    assert doc["header_row"] == 2
    # the draft is a valid mapping that reads its own file
    assert doc.get("sheet") == ("Feuil1" if fmt == "xlsx" else None)
    spec_path = write_mapping(tmp_path, draft)
    batch = generic.read([path], mapping=spec_path)
    assert batch.files[0].accepted == 1


def test_suggest_mapping_marks_uncertain_guesses() -> None:
    chosen = guess(["Date", "Patient", "Prénom du patient", "Montant réglé", "Reglemnt", "Tarif"])
    by_header = {i: target for i, (target, _) in chosen.items()}
    assert by_header == {
        0: "consulted_on",
        2: "first_name",
        3: "paid_amount",
        4: "payment_method",  # a typo, matched by difflib
        5: "amount",
    }  # "Patient" next to a first-name column is not a full name: left for the person
    sure = {i for i, (_, score) in chosen.items() if score >= 0.9}
    assert sure == {0, 2, 3, 5}  # only the typo is uncertain


def test_suggest_mapping_comments_in_the_draft(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "s.csv", [["Date", "Patient", "Reglemnt", "Tarif", "Adresse"]])
    draft = generic.suggest_mapping(path)
    assert '"Reglemnt": payment_method  # à vérifier' in draft
    assert '"Adresse": drop  # jamais lue' in draft
    assert "MANQUE" not in draft


# --- fuzzing --------------------------------------------------------------------------------

CELL = st.one_of(
    st.text(max_size=30),
    st.sampled_from(['=HYPERLINK("http://x","y")', "15/03/2024", "55,00 €", "CB", '"', "\x00"]),
    st.just("x" * 5000),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(CELL, max_size=12), max_size=12),
    encoding=st.sampled_from(["utf-8", "cp1252", "utf-16"]),
    suffix=st.sampled_from([".csv", ".xlsx"]),
)
def test_fuzzed_csv_is_read_or_refused_in_one_line(
    tmp_path: Path, rows: list[list[str]], encoding: str, suffix: str
) -> None:
    mapping = write_mapping(tmp_path)
    text = "\n".join(";".join(r) for r in [HEADER, *rows])
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(text.encode(encoding, errors="replace"))
    try:
        batch = generic.read([path], mapping=mapping)
    except InputError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("fuzz")
        return
    batch.assert_valid()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(junk=st.binary(max_size=2000), suffix=st.sampled_from([".csv", ".xlsx", ".txt"]))
def test_binary_junk_is_an_input_error(tmp_path: Path, junk: bytes, suffix: str) -> None:
    path = tmp_path / f"junk{suffix}"
    path.write_bytes(b"PK\x03\x04" + junk if suffix == ".xlsx" else junk + b"\x00")
    with pytest.raises(InputError):
        generic.read([path], mapping=write_mapping(tmp_path))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "vide"),
        ("csv.xlsx", b"Date;Patient\n", "renommez"),
        ("old.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "mot de passe"),
        ("huge.csv", b'Date;Patient\n"' + b"x" * (2 << 20) + b'";a\n', "CSV mal form"),
        ("notes.docx", b"x", "non pris en charge"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as err:
        generic.read([path], mapping=write_mapping(tmp_path))
    assert "\n" not in str(err.value)


def test_ragged_rows_and_formulas_are_quarantined_or_kept_as_text(tmp_path: Path) -> None:
    rows = [
        HEADER,
        ["15/03/2024", "DUPONT Marie"],  # short row: the missing cells are empty
        ["15/03/2024", '=HYPERLINK("http://x","y")', "", "", "=1+2"],
        ["15/03/2024", "A B", "", "", "55", "", "", "", "extra", "cells"],
    ]
    batch = generic.read([write_csv(tmp_path / "r.csv", rows)], mapping=write_mapping(tmp_path))
    batch.assert_valid()
    assert {(r.source_row, r.rule) for r in batch.rejected} == {(3, "bad_amount")}
    assert batch.files[0].accepted == 2


# --- end to end ---------------------------------------------------------------------------


def test_import_into_a_workspace(tmp_path: Path) -> None:
    path = VARIANTS["xlsx"](tmp_path)
    mapping = write_mapping(tmp_path, MAPPING + "sheet: Séances\n")
    unlocked = workspace.init_workspace(tmp_path / "ws", PASSPHRASE, work_factor=10).unlocked
    result = import_paths(unlocked, [path], fmt="generic", mapping=mapping)
    assert result.rows == {
        "practitioners": 1,
        "patients": 3,
        "consultations": 4,
        "invoices": 3,
        "payments": 2,
    }
    (report,) = result.files
    assert {k: getattr(report, k) for k in EXPECTED_REPORT} == EXPECTED_REPORT
    again = import_paths(unlocked, [path], fmt="generic", mapping=mapping)
    assert again.changed is False
    (report,) = again.files
    assert report.accepted == 0 and report.duplicates == 1 + 4  # in-file duplicate + 4 stored
    tables = snapshots.read_snapshot(unlocked.workspace.snapshots_dir, unlocked.identities)
    dump = json.dumps({k: t.to_pylist() for k, t in tables.items()}, default=str)
    for secret in ("DUPONT", "Martin", "LEROY", "lombalgie", "torticolis", "1981-04-03"):
        assert secret not in dump


def test_cli_import_and_suggest_mapping(tmp_path: Path) -> None:
    env = {"OSTEO_PASSPHRASE": PASSPHRASE}
    ws = tmp_path / "ws"
    assert osteo("init", workspace=ws, env=env).returncode == 0
    path = VARIANTS["csv-utf8"](tmp_path)
    mapping = write_mapping(tmp_path)
    done = osteo(
        "import", str(path), "--format", "generic", "--mapping", str(mapping), "--json",
        workspace=ws, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["rows"]["consultations"] == 4
    assert summary["files"][0]["rows_read"] == EXPECTED_REPORT["rows_read"]
    draft = osteo("import", "--suggest-mapping", str(path), workspace=ws, env=env)
    assert draft.returncode == 0, draft.stderr
    assert yaml.safe_load(draft.stdout)["columns"]["Règlement"] == "payment_method"
    bad = write_mapping(tmp_path, MAPPING.replace("full_name", "fullname"))
    refused = osteo(
        "import", str(path), "--format", "generic", "--mapping", str(bad), workspace=ws, env=env
    )
    assert refused.returncode == 2 and "columns.Patient" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_random_sheets_balance(tmp_path: Path) -> None:
    """Deterministic larger sheet (random.Random(42)): every row accounted for."""
    rng = random.Random(42)
    rows = [HEADER]
    for _ in range(2000):
        rows.append(rng.choice(ROWS))
    batch = generic.read([write_csv(tmp_path / "big.csv", rows)], mapping=write_mapping(tmp_path))
    batch.assert_valid()
    assert batch.files[0].rows_read == 2000

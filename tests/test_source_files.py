"""The file-reading layer (sources/files.py), and every adapter reading through it.

The layer on its own: what a file is by its content, whatever its name; each text
encoding decoded; protected workbooks opened in memory; the files a folder offers. Then
the matrix of the issue: every adapter × CSV encodings (UTF-8, UTF-8 with BOM, UTF-16,
Windows-1252) × plain and password-protected workbooks, each read giving the same rows.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from docx import Document
from msoffcrypto.format.ooxml import OOXMLFile

from osteo_analytics.errors import Hint, InputError
from osteo_analytics.sources import SourceBatch, docx, files, generic, ledger, libreosteo
from tests.conftest import LIBREOSTEO_SAMPLE, PASSPHRASE, osteo

PASSWORD = "Sésame 2024"
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp1252"]
HEADER = ["Date", "N° facture", "Patient", "Montant", "Mode de règlement"]
RECEIPTS = [
    ["05/01/2024", "240001", "DUPONT Jean", "55,00", "CB"],
    ["05/01/2024", "240002", "Marie MARTIN", "60,00", "Chèque"],
    ["06/01/2024", "240003", "LEFÈVRE Zoé", "65,00", "Espèces"],
]
TEXT = "Date;Patient\r\n05/01/2024;LEFÈVRE Zoé – 55 €\r\n"  # every encoding can write it
MAPPING = """
format: osteo-mapping/1
feeds: [consultations, invoices, payments]
practitioner: Marie Martin
columns:
  Date: consulted_on
  N° facture: invoice_number
  Patient: full_name
  Montant: amount
  Mode de règlement: payment_method
"""


# --- fixtures written by the tests --------------------------------------------------------


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8", sep: str = ";") -> Path:
    text = "".join(sep.join(r) + "\r\n" for r in rows)
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[str]]) -> Path:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)  # type: ignore[union-attr]
    book.save(path)
    return path


def write_docx(path: Path, paragraphs: list[str]) -> Path:
    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    doc.save(str(path))
    return path


def encrypt(path: Path, password: str = PASSWORD) -> Path:
    """Protect an OOXML file with a password, as Excel or Word does (agile encryption)."""
    with path.open("rb") as plain:
        out = io.BytesIO()
        OOXMLFile(plain).encrypt(password, out)
    path.write_bytes(out.getvalue())
    return path


class Asked:
    """A password callback that records which files it was asked for."""

    def __init__(self, password: str = PASSWORD) -> None:
        self.password = password
        self.paths: list[Path] = []

    def __call__(self, path: Path) -> str:
        self.paths.append(path)
        return self.password


def content(batch: SourceBatch, *, keep_file: bool = False) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows, sorted. Unless ``keep_file``, the file's name is blanked out of
    them (source_file, references built on it) so that a .csv and a .xlsx compare."""
    batch.assert_valid()
    names = [] if keep_file else [f.source_label for f in batch.files]

    def blank(value: Any) -> Any:
        for name in names if isinstance(value, str) else []:
            value = value.replace(name, "<file>")
        return value

    return {
        table: sorted(
            ({k: blank(v) for k, v in row.items()} for row in rows.to_pylist()),
            key=lambda r: json.dumps(r, default=str, sort_keys=True),
        )
        for table, rows in batch.tables().items()
    }


# --- what a file is, by content -------------------------------------------------------------


def test_a_csv_named_xlsx_and_a_workbook_named_csv_are_what_they_hold(tmp_path: Path) -> None:
    csv_named_xlsx = write_csv(tmp_path / "recettes.xlsx", [HEADER, *RECEIPTS])
    xlsx_named_csv = write_xlsx(tmp_path / "recettes.csv", [HEADER, *RECEIPTS])
    assert files.sniff(csv_named_xlsx) == files.CSV
    assert files.sniff(xlsx_named_csv) == files.XLSX
    # the content decides, unless the adapter wants the name to agree with it
    assert files.identify(csv_named_xlsx, (files.CSV, files.XLSX)) == files.CSV
    with pytest.raises(InputError, match=r"^recettes\.xlsx : pas un classeur Excel.*renommez"):
        files.identify(csv_named_xlsx, (files.CSV, files.XLSX), by_name=True)
    with pytest.raises(InputError, match=r"^recettes\.csv : classeur Excel.*renommez-le en \.xlsx"):
        files.identify(xlsx_named_csv, (files.CSV, files.XLSX), by_name=True)


def test_a_word_document_an_encrypted_workbook_and_junk(tmp_path: Path) -> None:
    document = write_docx(tmp_path / "notes.xlsx", ["Fiche patient"])  # misnamed on purpose
    protected = encrypt(write_xlsx(tmp_path / "secret.xlsx", [HEADER]))
    junk = tmp_path / "junk.csv"
    junk.write_bytes(bytes(range(256)) * 4)
    assert files.sniff(document) == files.DOCX
    assert files.sniff(protected) == files.ENCRYPTED
    assert files.sniff(junk) == files.BINARY
    with pytest.raises(InputError, match="contenu binaire"):
        files.identify(junk, (files.CSV, files.XLSX))
    with pytest.raises(InputError, match="document Word, pas un tableau"):
        files.identify(document, (files.CSV, files.XLSX))
    assert files.identify(protected, (files.CSV, files.XLSX)) == files.ENCRYPTED
    with pytest.raises(InputError, match="document Word protégé par mot de passe"):
        files.identify(encrypt(write_docx(tmp_path / "s.docx", ["x"])), (files.DOCX,))


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("cut.xlsx", b"PK\x03\x04 a zip cut short", "classeur Excel endommagé ou tronqué"),
        ("cut.docx", b"PK\x03\x04 a zip cut short", "document Word endommagé ou tronqué"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "endommagé (ancien format"),
    ],
)
def test_a_damaged_container_is_one_line_naming_the_file(
    tmp_path: Path, name: str, data: bytes, words: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InputError) as err:
        files.sniff(path)
    message = str(err.value)
    assert message.startswith(f"{name} : ") and words in message and "\n" not in message
    assert str(tmp_path) not in message


def test_a_zip_that_is_not_an_office_file(tmp_path: Path) -> None:
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(InputError, match="sans contenu Office"):
        files.sniff(path)


# --- text ------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", [*ENCODINGS, "utf-16-be-bom"])
def test_each_encoding_decodes_to_the_same_text(encoding: str) -> None:
    if encoding == "utf-16-be-bom":
        data = b"\xfe\xff" + TEXT.encode("utf-16-be")
    else:
        data = TEXT.encode(encoding)
    assert files.decode_text(data, "r.csv") == TEXT
    # the start of a larger file may end inside a character: what is whole is kept
    head = files.decode_text(data[:-1], "r.csv", partial=True)
    assert TEXT.startswith(head) and len(head) >= len(TEXT) - 2


def test_bytes_no_encoding_explains_are_one_line() -> None:
    with pytest.raises(InputError, match=r"^r\.csv : pas un fichier texte CSV"):
        files.decode_text(b"Date\x00\x01\x02", "r.csv")
    with pytest.raises(InputError, match=r"^r\.csv : texte dans un encodage inconnu"):
        files.decode_text(b"Date;\x81\x8d", "r.csv")  # bytes cp1252 leaves undefined


def test_csv_records_count_quoted_line_breaks_once() -> None:
    text = 'a;b\r\n"deux\r\nlignes";c\r\nd;e\r\n'
    assert list(files.csv_rows(text, "r.csv", delimiter=";")) == [
        (1, ["a", "b"]),
        (2, ["deux\r\nlignes", "c"]),
        (3, ["d", "e"]),
    ]
    with pytest.raises(InputError, match=r"^r\.csv : CSV mal formé vers l'enregistrement 2"):
        list(files.csv_rows('a,b\r\n"x"y,z\r\n', "r.csv", strict=True))


# --- workbooks -------------------------------------------------------------------------------


def test_a_protected_workbook_is_decrypted_in_memory_once(tmp_path: Path) -> None:
    path = encrypt(write_xlsx(tmp_path / "secret.xlsx", [HEADER, *RECEIPTS]))
    asked = Asked()
    with files.open_workbook(path, asked) as book:
        rows = list(book.rows(0))
    assert asked.paths == [path]
    assert rows == [HEADER, *RECEIPTS]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.xlsx"]  # nothing written


@pytest.mark.parametrize(
    ("password", "hint"), [(Asked("faux"), Hint.EXCEL_PASSWORD_WRONG), (None, Hint.EXCEL_PASSWORD)]
)
def test_a_wrong_or_missing_password_is_a_typed_error_with_its_hint(
    tmp_path: Path, password: Asked | None, hint: Hint
) -> None:
    path = encrypt(write_xlsx(tmp_path / "secret.xlsx", [HEADER]))
    with pytest.raises(InputError) as err:
        files.open_workbook(path, password)
    assert err.value.hint is hint
    message = str(err.value)
    assert message.startswith("secret.xlsx : ") and "mot de passe" in message
    assert PASSWORD not in message and "faux" not in message


# --- folders -------------------------------------------------------------------------------


def test_the_files_a_folder_offers_and_their_order(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    for name in ("b.csv", "A.xlsx", "c.TXT", "d.xlsm", "e.docx", "notes.pdf", ".cache.csv"):
        (folder / name).write_text("x", encoding="utf-8")
    (folder / "~$A.xlsx").write_text("lock", encoding="utf-8")  # Excel's lock file
    (folder / "sub.csv").mkdir()
    wanted = (files.CSV, files.XLSX)
    assert [p.name for p in files.folder_files(folder, wanted)] == [
        "A.xlsx",
        "b.csv",
        "c.TXT",
        "d.xlsm",
    ]
    assert [p.name for p in files.folder_files(folder, (files.DOCX,))] == ["e.docx"]
    # a file given by name is kept; one given twice (alone and in its folder) is read once
    assert [p.name for p in files.collect([folder / "b.csv", folder], wanted, "tableau")] == [
        "b.csv",
        "A.xlsx",
        "c.TXT",
        "d.xlsm",
    ]
    kept = files.collect([folder], wanted, "tableau", keep=lambda p: p.suffix == ".csv")
    assert [p.name for p in kept] == ["b.csv"]


def test_missing_and_empty_inputs_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^aucun tableau donné"):
        files.collect([], (files.CSV,), "tableau")
    with pytest.raises(InputError, match=r"^absent\.csv : fichier ou dossier introuvable"):
        files.collect([tmp_path / "absent.csv"], (files.CSV,), "tableau")
    with pytest.raises(InputError, match=r"aucun fichier Word \(\.docx\) dans ce dossier"):
        files.collect([tmp_path], (files.DOCX,), "fichier Word")


# --- every adapter × encodings × plain and protected workbooks ------------------------------


VARIANTS = [*ENCODINGS, "xlsx", "protected"]


def receipts_file(tmp_path: Path, variant: str) -> Path:
    """The same receipts as a CSV in one encoding, a workbook, or a protected workbook."""
    folder = tmp_path / variant
    folder.mkdir()
    rows = [HEADER, *RECEIPTS]
    if variant in ENCODINGS:
        return write_csv(folder / "recettes.csv", rows, variant)
    path = write_xlsx(folder / "recettes.xlsx", rows)
    return encrypt(path) if variant == "protected" else path


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_ledger_adapter_reads_every_variant_alike(tmp_path: Path, variant: str) -> None:
    reference = ledger.read([write_csv(tmp_path / "ref.csv", [HEADER, *RECEIPTS])])
    path, asked = receipts_file(tmp_path, variant), Asked()
    batch = ledger.read([path], password=asked)
    assert content(batch) == content(reference)
    assert batch.invoices.num_rows == 3
    assert asked.paths == ([path] if variant == "protected" else [])


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_generic_adapter_reads_every_variant_alike(tmp_path: Path, variant: str) -> None:
    """UTF-16 and protected workbooks: read by the generic adapter as by the ledger's."""
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    reference = generic.read(
        [write_csv(tmp_path / "ref.csv", [HEADER, *RECEIPTS])], mapping=mapping
    )
    path, asked = receipts_file(tmp_path, variant), Asked()
    batch = generic.read([path], mapping=mapping, password=asked)
    assert content(batch) == content(reference)
    assert batch.invoices.num_rows == 3 and batch.payments.num_rows == 3
    assert asked.paths == ([path] if variant == "protected" else [])


LIBREOSTEO_EXPORTS = ("patients", "examinations", "invoices")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_the_libreosteo_adapter_reads_its_csv_exports_in_every_encoding(
    tmp_path: Path, encoding: str
) -> None:
    originals = [LIBREOSTEO_SAMPLE / f"{stem}.csv" for stem in LIBREOSTEO_EXPORTS]
    for path in originals:
        text = path.read_text(encoding="utf-8")
        (tmp_path / path.name).write_bytes(text.encode(encoding))
    batch = libreosteo.read([tmp_path])
    assert content(batch, keep_file=True) == content(libreosteo.read(originals), keep_file=True)
    assert batch.consultations.num_rows > 0 and batch.payments.num_rows > 0


def test_the_libreosteo_adapter_reads_workbooks_protected_after_export(tmp_path: Path) -> None:
    originals = [LIBREOSTEO_SAMPLE / f"{stem}.xlsx" for stem in LIBREOSTEO_EXPORTS]
    for path in originals:
        encrypt(Path(shutil.copy(path, tmp_path / path.name)))
    encrypt(write_xlsx(tmp_path / "recettes.xlsx", [HEADER]))  # not LibreOsteo's: skipped
    asked = Asked()
    batch = libreosteo.read([tmp_path], password=asked)
    # asked once for each of LibreOsteo's files, never for the other workbook
    assert sorted(p.name for p in asked.paths) == sorted(p.name for p in originals)
    assert content(batch, keep_file=True) == content(libreosteo.read(originals), keep_file=True)
    assert {f.format for f in batch.files} == {"xlsx"}
    assert not libreosteo.detect(tmp_path / "invoices.xlsx")  # detection never asks


def test_the_word_adapter_reads_documents_and_refuses_protected_ones(tmp_path: Path) -> None:
    lines = ["DUPONT Marie", "15/03/2024 lombalgie Tarif : 55 € réglé CB"]
    folder = tmp_path / "patients"
    folder.mkdir()
    write_docx(folder / "DUPONT Marie.docx", lines)
    batch = docx.read([folder])
    assert batch.consultations.num_rows == 1 and batch.invoices.num_rows == 1
    protected = encrypt(write_docx(tmp_path / "DUPONT Jean.docx", lines))
    assert not docx.detect(protected)
    with pytest.raises(InputError) as err:
        docx.read([protected])
    message = str(err.value)
    assert message.startswith("DUPONT Jean.docx : ") and "mot de passe" in message
    text = write_csv(tmp_path / "notes.docx", [["15/03/2024", "x"]])
    with pytest.raises(InputError, match=r"^notes\.docx : pas un document Word"):
        docx.read([text])


# --- the real command line --------------------------------------------------------------


def test_osteo_import_generic_reads_a_protected_workbook(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    env = {"OSTEO_PASSPHRASE": PASSPHRASE, "OSTEO_EXCEL_PASSWORD": PASSWORD}
    assert osteo("init", workspace=ws, env=env).returncode == 0
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    path = encrypt(write_xlsx(tmp_path / "séances.xlsx", [HEADER, *RECEIPTS]))
    draft = osteo("import", "--suggest-mapping", str(path), workspace=ws, env=env)
    assert draft.returncode == 0, draft.stderr
    assert '"N° facture": invoice_number' in draft.stdout
    args = ("import", str(path), "--format", "generic", "--mapping", str(mapping))
    done = osteo(*args, "--json", workspace=ws, env=env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["rows"]["invoices"] == 3 and summary["files"][0]["accepted"] == 3
    wrong = osteo(*args, workspace=ws, env={**env, "OSTEO_EXCEL_PASSWORD": "faux"})
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
    (line,) = wrong.stderr.strip().splitlines()
    assert "séances.xlsx : mot de passe incorrect" in line and "OSTEO_EXCEL_PASSWORD" in line
    assert PASSWORD not in wrong.stderr + wrong.stdout

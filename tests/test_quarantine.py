"""`osteo quarantine`: what each import set aside, where in the original file, and the fix.

The rule catalogue is checked against every rule the code can emit: the contracts' rules
(loaded), the adapters' rules found in their source, and the rules the adapters actually
give when they read broken copies of real-looking exports.
"""

from __future__ import annotations

import ast
import csv
import io
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from docx import Document

from osteo_analytics import quarantine, workspace
from osteo_analytics.contracts import load_contracts
from osteo_analytics.ingest import import_paths, read_sources
from tests.conftest import LIBREOSTEO_SAMPLE, PASSPHRASE, ROOT

ENV = {"OSTEO_PASSPHRASE": PASSPHRASE}
SOURCES = ROOT / "osteo_analytics" / "sources"
MAPPING = ROOT / "data_contracts" / "sources" / "example-visits.yaml"


def write_csv(
    path: Path, rows: list[list[Any]], *, delimiter: str = ";", encoding: str = "cp1252"
) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def new_workspace(path: Path) -> Path:
    workspace.init_workspace(path, PASSPHRASE, work_factor=10)
    return path


# --- reading a set ---------------------------------------------------------------------


def test_a_whole_file_problem_has_no_row(tmp_path: Path) -> None:
    folder = tmp_path / "dossiers"
    folder.mkdir()
    Document().save(str(folder / "vide.docx"))
    unlocked = new_workspace_unlocked(tmp_path / "ws")
    result = import_paths(unlocked, [folder], fmt="docx")
    assert result.quarantine is not None
    (record,) = quarantine.read_set(unlocked, result.quarantine)
    assert (record.file, record.row, record.rule, record.column) == (
        "docx-1",
        None,
        "empty_document",
        "*",
    )
    assert record.to_dict()["row"] is None
    assert quarantine.list_sets(unlocked)[0].files[0].rules == {"empty_document": 1}


def new_workspace_unlocked(path: Path) -> workspace.Unlocked:
    return workspace.init_workspace(path, PASSPHRASE, work_factor=10).unlocked


# --- the catalogue ---------------------------------------------------------------------

# Calls whose argument at this position is a quarantine rule name.
SINKS = {"quarantine": 2, "note": 0, "RejectedRow": 3, "BadValue": 0, "RowError": 1, "_RowError": 1}
# Rules built at run time, by the constant their f-string starts with.
DYNAMIC = {"bad_payment_": {"bad_payment_date", "bad_payment_amount"}}


def _strings(node: ast.AST, assigned: dict[str, list[ast.expr]], where: str) -> Iterator[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _strings(node.body, assigned, where)
        yield from _strings(node.orelse, assigned, where)
    elif isinstance(node, ast.Name):
        for value in assigned.get(node.id, []):
            yield from _strings(value, assigned, where)
    elif isinstance(node, ast.JoinedStr):
        head = node.values[0]
        prefix = head.value if isinstance(head, ast.Constant) else ""
        assert prefix in DYNAMIC, f"{where}: rule built at run time, add it to DYNAMIC"
        yield from DYNAMIC[str(prefix)]
    # An attribute (exc.rule) passes on a rule raised, and collected, elsewhere.


def adapter_rules_in_source() -> dict[str, set[str]]:
    """Every quarantine rule name the adapters' source can emit → the files emitting it."""
    rules: dict[str, set[str]] = {}
    for path in sorted(SOURCES.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        scopes = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef))]
        for scope in scopes:
            assigned: dict[str, list[ast.expr]] = {}
            for n in ast.walk(scope):
                if isinstance(n, ast.Assign):
                    for target in n.targets:
                        if isinstance(target, ast.Name):
                            assigned.setdefault(target.id, []).append(n.value)
            for n in ast.walk(scope):
                sink: ast.expr | None = None
                if isinstance(n, ast.Call):
                    f = n.func
                    name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
                    if name in SINKS:
                        if len(n.args) > SINKS[name]:
                            sink = n.args[SINKS[name]]
                        sink = next((k.value for k in n.keywords if k.arg == "rule"), sink)
                elif (
                    isinstance(n, ast.Tuple)
                    and len(n.elts) == 2
                    and isinstance(n.elts[0], ast.Constant)
                    and n.elts[0].value == "quarantined"
                ):
                    sink = n.elts[1]  # the Word adapter's (outcome, rule) pairs
                if sink is not None:
                    for rule in _strings(sink, assigned, f"{path.name}:{n.lineno}"):
                        rules.setdefault(rule, set()).add(path.name)
    return rules


def contract_rules() -> set[tuple[str, str]]:
    """(rule, column) of every row-level rule of every contract."""
    return {(r.name, r.column) for c in load_contracts().values() for r in c.rules()}


def test_the_source_scan_finds_the_rules_it_should() -> None:
    found = adapter_rules_in_source()
    # Sanity: a rule from each kind of sink, so that an empty scan cannot pass.
    assert {"bad_date", "bad_amount", "invoice_number_conflict", "no_visit"} <= set(found)
    assert {"unknown_patient", "ambiguous_patient", "bad_payment_amount"} <= set(found)
    assert "blank_row" not in found and "duplicate" not in found  # excluded, not quarantined


def test_every_rule_the_code_can_emit_has_a_sentence() -> None:
    emitted = set(adapter_rules_in_source()) | {rule for rule, _ in contract_rules()}
    missing = sorted(emitted - set(quarantine.CATALOGUE))
    assert not missing, f"rules without a French explanation: {missing}"
    # And no sentence for a rule nothing emits (a renamed rule leaves one behind).
    assert sorted(set(quarantine.CATALOGUE) - emitted) == []
    assert set(quarantine.BY_COLUMN) <= contract_rules()


@pytest.mark.parametrize(
    "rule",
    [*quarantine.CATALOGUE, *(f"{r}/{c}" for r, c in quarantine.BY_COLUMN)],
)
def test_every_sentence_says_what_is_wrong_and_how_to_fix_it(rule: str) -> None:
    name, _, column = rule.partition("/")
    entry = quarantine.explanation(name, column or None)
    assert entry.problem.strip() and entry.fix.strip(), rule
    # The fix is an action on the original file, ending with importing it again.
    assert "réimport" in entry.fix, rule
    assert " : " not in entry.problem and entry.problem == entry.problem.rstrip(" .:;")
    sentence = quarantine.explain(name, column or None)
    assert sentence == f"{entry.problem} : {entry.fix}"
    assert sentence[0].islower() and not sentence.endswith(".")


def test_an_unknown_rule_still_gets_a_sentence() -> None:
    assert quarantine.explain("rule_from_a_newer_version") == quarantine.UNKNOWN_RULE.sentence
    assert quarantine.explain("foreign_key", "invoice_number") != quarantine.explain("foreign_key")


# --- the rules the adapters really give ------------------------------------------------

BAD_CELLS: list[Any] = [
    "",
    "x",
    "X-1",
    "-5",
    "0",
    "32/13/2024",
    "99:99",
    "{",
    "Ж" * 201,
    "1.5",
    "7" * 70,
    None,  # the row stops here (fewer fields than the header)
]
# Five names over rows whose width is not a multiple of five: the rows that share a bad
# cell belong to different patients (one invoice number for two people, say).
NAMES = ["MORVAN Isaure", "PRIGENT Hyacinthe", "ABGRALL Philomène", "KERVELLA Anatole"]
NAMES.append("LE BIHAN Ermeline")


def _broken(rows: list[list[Any]], bad: Any) -> list[list[Any]]:
    """Row i gets the bad cell in column i (mod width): every column is hit once a block."""
    header, out = rows[0], [rows[0]]
    for i, row in enumerate(rows[1:]):
        row = list(row)
        if bad is None:
            row = row[: i % len(header)]
        else:
            row[i % len(header)] = bad
        out.append(row)
    return out


def _day(n: int) -> str:
    return f"{date(2024, 3, 1) + timedelta(days=n):%d/%m/%Y}"


def _ledger_rows() -> list[list[Any]]:
    header = ["Date", "N° facture", "Patient", "Montant", "Mode de règlement", "Praticien"]
    return [header] + [
        [_day(d), f"F{d:03d}", NAMES[d % 5], f"{50 + d},40", "Chèque", "Dr Vasseur"]
        for d in range(1, 41)
    ]


def _generic_rows() -> list[list[Any]]:
    """Rows of the sheet data_contracts/sources/example-visits.yaml describes."""
    rows: list[dict[str, str]] = []
    for d in range(1, 41):
        family, first = NAMES[d % 5].rsplit(" ", 1)
        rows.append(
            {
                "Date de séance": _day(d),
                "Heure": "09:30",
                "Nom": family,
                "Prénom": first,
                "Date de naissance": "12/05/1980",
                "Sexe": "Mme",
                "Code postal": "29200",
                "Motif": "dos",
                "Type": "Suivi",
                "Statut": "Fait",
                "Praticien": "Gaëlle Tanguy",
                "N° facture": f"G{d:03d}",
                "Montant TTC": f"{50 + d},00",
                "Règlement": "Chq",
                "Date d'encaissement": _day(d),
                "Téléphone": "",
                "Notes": "",
            }
        )
    return [list(rows[0]), *(list(r.values()) for r in rows)]


def _libreosteo_csv(folder: Path, bad: Any) -> None:
    for name in ("patients.csv", "examinations.csv", "invoices.csv"):
        text = (LIBREOSTEO_SAMPLE / name).read_text(encoding="utf-8")
        rows = _broken(list(csv.reader(io.StringIO(text))), bad)
        write_csv(folder / name, rows, delimiter=",", encoding="utf-8")


def _libreosteo_xlsx(folder: Path, bad: Any) -> None:
    for name in ("patients.xlsx", "examinations.xlsx", "invoices.xlsx"):
        source = openpyxl.load_workbook(LIBREOSTEO_SAMPLE / name, read_only=True)
        rows = [list(r) for r in source.worksheets[0].iter_rows(values_only=True)]
        source.close()
        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet("Report")
        for row in _broken(rows, bad):
            sheet.append(row)
        book.save(folder / name)


def _word_files(folder: Path) -> None:
    def doc(name: str, lines: list[str], heading: str | None = "MORVAN Isaure") -> None:
        document = Document()
        if heading:
            document.add_heading(heading, level=1)
        for line in lines:
            document.add_paragraph(line)
        document.save(str(folder / name))

    doc("a.docx", [], heading=None)
    doc("b.docx", ["Notes diverses sur le cabinet"], heading=None)
    doc("c.docx", ["Sportive, course à pied"])
    doc("d.docx", ["32/13/2024 suivi", "15/03/2024 25h99 suivi", "16/03/2024 suivi 5x,00 €"])


def rules_given_by_the_adapters(tmp: Path) -> dict[str, set[str]]:
    seen: dict[str, set[str]] = {}

    def read(paths: list[Path], fmt: str, **kwargs: Any) -> None:
        for r in read_sources(paths, fmt, **kwargs).rejected:
            seen.setdefault(r.rule, set()).add(fmt)

    for i, bad in enumerate(BAD_CELLS):
        folder = tmp / f"libreosteo-{i}"
        folder.mkdir()
        _libreosteo_csv(folder, bad)
        read([folder], "libreosteo")
        ledger = write_csv(tmp / f"ledger-{i}.csv", _broken(_ledger_rows(), bad), encoding="utf-8")
        read([ledger], "ledger")
        generic = write_csv(
            tmp / f"generic-{i}.csv", _broken(_generic_rows(), bad), encoding="utf-8"
        )
        read([generic], "generic", mapping=MAPPING)
    for i, bad in enumerate([1.5]):  # a number where an id or a JSON list is due
        folder = tmp / f"libreosteo-xlsx-{i}"
        folder.mkdir()
        _libreosteo_xlsx(folder, bad)
        read([folder], "libreosteo")
    words = tmp / "word"
    words.mkdir()
    _word_files(words)
    read([words], "docx")
    return seen


def test_the_rules_the_adapters_give_on_broken_files_all_have_a_sentence(tmp_path: Path) -> None:
    given = rules_given_by_the_adapters(tmp_path)
    assert set(given) <= set(quarantine.CATALOGUE), sorted(set(given) - set(quarantine.CATALOGUE))
    # What really runs is what the source scan sees: neither misses a rule of the other.
    assert set(given) == set(adapter_rules_in_source())
    for fmt in ("libreosteo", "ledger", "generic", "docx"):
        assert any(fmt in formats for formats in given.values()), fmt

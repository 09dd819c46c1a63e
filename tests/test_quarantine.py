"""`osteo quarantine`: what each import set aside, where in the original file, and the fix.

The rule catalogue is checked against every rule the code can emit: the contracts' rules
(loaded), the adapters' rules found in their source, and the rules the adapters actually
give when they read broken copies of real-looking exports.
"""

from __future__ import annotations

import ast
import csv
import io
import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from docx import Document

from osteo_analytics import quarantine, workspace
from osteo_analytics.contracts.checks import load_contracts
from osteo_analytics.ingest import import_paths, read_sources
from tests.conftest import LIBREOSTEO_SAMPLE, PASSPHRASE, ROOT, osteo

ENV = {"OSTEO_PASSPHRASE": PASSPHRASE}
SOURCES = ROOT / "osteo_analytics" / "sources"
MAPPING = ROOT / "data_contracts" / "sources" / "example-visits.yaml"

# A hand-kept ledger (French Excel CSV export) with three rows to set aside.
TITLE = "Recettes du cabinet – Dr Hortense Vasseur"
HEADER = ["Date", "N° facture", "Patient", "Montant", "Mode de règlement"]
LEDGER: list[list[str]] = [
    [TITLE],  # row 1
    [],  # row 2
    HEADER,  # row 3
    ["04/03/2024", "F-2024-0101", "QUATREBARBES Zéphyrin", "61,40", "Chèque"],
    ["31/02/2024", "F-2024-0102", "ABGRALL Philomène", "72,30", "Virement"],  # bad date
    ["05/03/2024", "F-2024-0103", "KERVELLA Anatole", "soixante-dix", "Espèces"],  # bad amount
    ["06/03/2024", "F-2024-0104", "LE BIHAN Ermeline", "58,90", "Carte bleue"],
    ["07/03/1987", "F-2024-0105", "TREGUER Octave", "64,10", "Chèque"],  # contract: date_range
    ["Total mars", "", "", "184,40", ""],
]
# row in the file → (rule, column, the cell at fault)
EXPECTED = {
    5: ("bad_date", "Date", "31/02/2024"),
    6: ("bad_amount", "Montant", "soixante-dix"),
    8: ("date_range", "consulted_on", "07/03/1987"),
}
# Every value of the fixture (headers excepted): none may be printed or logged.
VALUES = sorted(
    {TITLE, "Hortense", "Vasseur"}
    | {cell for row in LEDGER[3:] for cell in row if cell}
    | {word for row in LEDGER[3:] for word in row[2].split() if len(word) > 2}
)


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


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two `osteo import` of the same ledger: the second changes nothing but sets aside again."""
    base = tmp_path_factory.mktemp("quarantine")
    ws = new_workspace(base / "ws")
    ledger = write_csv(base / "recettes-mars.csv", LEDGER)
    runs = []
    for _ in range(2):
        result = osteo("import", str(ledger), "--json", workspace=ws, env=ENV)
        assert result.returncode == 0, result.stderr
        runs.append(json.loads(result.stdout))
    outputs: dict[str, str] = {}

    def run(*args: str) -> str:
        result = osteo("quarantine", *args, workspace=ws, env=ENV)
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        outputs[" ".join(args)] = result.stdout
        return result.stdout

    stamp = runs[0]["quarantine"]
    for args in (
        (),
        ("list",),
        ("list", "--format", "json"),
        ("list", "--format", "csv"),
        ("--format", "json"),
        ("show", stamp),
        ("show", stamp, "--format", "json"),
        ("show", stamp, "--format", "csv"),
        ("--format", "csv", "show", stamp),
    ):
        run(*args)
    return {"ws": ws, "ledger": ledger, "runs": runs, "out": outputs, "stamp": stamp}


# --- through the command line ----------------------------------------------------------


def test_each_import_that_set_rows_aside_has_a_set_tied_to_it(imported: dict[str, Any]) -> None:
    first, again = imported["runs"]
    sets = json.loads(imported["out"]["list --format json"])
    assert [s["stamp"] for s in sets] == [first["quarantine"], again["quarantine"]]
    assert first["changed"] and not again["changed"]
    # The first import wrote its snapshot under its own stamp; the second left it current.
    assert [s["snapshot"] for s in sets] == [first["snapshot"], first["snapshot"]]
    assert sets[0]["snapshot"] == sets[0]["stamp"]
    for s, run in zip(sets, imported["runs"], strict=True):
        assert set(s) == {"stamp", "imported_at", "snapshot", "rows", "files"}
        assert s["imported_at"].startswith(
            f"{s['stamp'][:4]}-{s['stamp'][4:6]}-{s['stamp'][6:8]}T{s['stamp'][9:11]}:"
        )
        (report,) = run["files"]
        # The same counts as the import's own summary, reason by reason.
        set_aside = {r: n for r, n in report["reasons"].items() if r in quarantine.CATALOGUE}
        assert s["files"] == [
            {"file": "recettes-mars.csv", "rows": report["quarantined"], "rules": set_aside}
        ]
        assert s["rows"] == report["quarantined"] == 3
        assert set_aside == {"bad_date": 1, "bad_amount": 1, "date_range": 1}


def test_list_csv_is_the_json_flattened(imported: dict[str, Any]) -> None:
    sets = json.loads(imported["out"]["list --format json"])
    rows = list(csv.DictReader(io.StringIO(imported["out"]["list --format csv"])))
    assert list(rows[0]) == ["stamp", "imported_at", "snapshot", "file", "rule", "rows"]
    assert rows == [
        {
            "stamp": s["stamp"],
            "imported_at": s["imported_at"],
            "snapshot": s["snapshot"],
            "file": f["file"],
            "rule": rule,
            "rows": str(n),
        }
        for s in sets
        for f in s["files"]
        for rule, n in f["rules"].items()
    ]


def test_the_group_alone_lists_and_takes_the_format(imported: dict[str, Any]) -> None:
    out = imported["out"]
    assert out[""] == out["list"]
    assert out["--format json"] == out["list --format json"]
    assert (
        out["--format csv show " + imported["stamp"]]
        == out[f"show {imported['stamp']} --format csv"]
    )
    table = out["list"]
    for text in ("quarantaine", "fichier", "motif", "lignes", "recettes-mars.csv"):
        assert text in table
    assert quarantine.CATALOGUE["bad_date"].problem in table
    assert "6 ligne(s) mise(s) de côté en 2 import(s)" in table


def test_show_points_at_the_rows_of_the_original_file(imported: dict[str, Any]) -> None:
    records = json.loads(imported["out"][f"show {imported['stamp']} --format json"])
    assert [set(r) for r in records] == [
        {"file", "row", "dataset", "column", "rule", "explanation"}
    ] * 3
    assert {r["row"]: (r["rule"], r["column"]) for r in records} == {
        row: (rule, column) for row, (rule, column, _) in EXPECTED.items()
    }
    assert [r["dataset"] for r in records] == [None, None, "consultations"]
    # Row numbers count the file's rows (title and blank included), header = its own row.
    text = imported["ledger"].read_bytes().decode("cp1252")
    in_file = list(csv.reader(io.StringIO(text), delimiter=";"))
    for r in records:
        rule, _, cell = EXPECTED[r["row"]]
        header = "Date" if r["column"] == "consulted_on" else r["column"]
        assert in_file[r["row"] - 1][HEADER.index(header)] == cell
        assert r["explanation"] == quarantine.explain(rule, r["column"] if r["dataset"] else None)
        assert r["explanation"] != quarantine.UNKNOWN_RULE.sentence
    assert records[0]["explanation"] == (
        "date illisible : écrivez-la JJ/MM/AAAA dans le fichier d'origine, puis réimportez-le"
    )


def test_show_csv_and_table_say_the_same(imported: dict[str, Any]) -> None:
    stamp = imported["stamp"]
    records = json.loads(imported["out"][f"show {stamp} --format json"])
    rows = list(csv.DictReader(io.StringIO(imported["out"][f"show {stamp} --format csv"])))
    assert list(rows[0]) == ["file", "row", "dataset", "column", "rule", "explanation"]
    assert rows == [{k: "" if v is None else str(v) for k, v in r.items()} for r in records]
    table = imported["out"][f"show {stamp}"]
    assert f"Quarantaine {stamp} : import du " in table
    assert f"instantané {imported['runs'][0]['snapshot']}" in table
    for header in ("fichier", "ligne", "colonne", "règle", "explication"):
        assert header in table
    # A contract column is named as people know it, from the contract.
    assert "Date de consultation" in table
    for rule, _, _ in EXPECTED.values():
        assert rule in table
    assert "Date" in table and "Montant" in table  # the file's own headers
    assert "3 ligne(s) mise(s) de côté" in table


def test_no_value_of_the_file_is_printed_or_logged(imported: dict[str, Any]) -> None:
    printed = "\n".join(imported["out"].values())
    logged = (imported["ws"] / "audit.log").read_text(encoding="utf-8")
    assert printed.count("recettes-mars.csv") > 5  # the outputs are really there
    for value in VALUES:
        assert value not in printed, value
        assert value not in logged, value


def test_an_unknown_stamp_is_one_line_and_exit_2(imported: dict[str, Any]) -> None:
    stamp = "20200101T000000000000Z"
    result = osteo("quarantine", "show", stamp, workspace=imported["ws"], env=ENV)
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Erreur : ") and stamp in line and "osteo quarantine list" in line
    # Not a stamp at all (a path, say): refused without being used or repeated.
    odd = "../keys"
    result = osteo("quarantine", "show", odd, workspace=imported["ws"], env=ENV)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Erreur : ") and odd not in line
    assert "Traceback" not in result.stderr


def test_an_empty_workspace_has_nothing_set_aside(tmp_path: Path) -> None:
    ws = new_workspace(tmp_path / "ws")
    # Nothing to decrypt: no passphrase needed to say so.
    table = osteo("quarantine", workspace=ws)
    assert table.returncode == 0, table.stderr
    assert "aucune ligne mise de côté" in table.stdout
    as_json = osteo("quarantine", "list", "--format", "json", workspace=ws)
    assert json.loads(as_json.stdout) == []
    as_csv = osteo("quarantine", "list", "--format", "csv", workspace=ws)
    assert as_csv.stdout == "stamp,imported_at,snapshot,file,rule,rows\n"
    unknown = osteo("quarantine", "show", "20200101T000000000000Z", workspace=ws)
    assert unknown.returncode == 2


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
    for path in sorted(SOURCES.rglob("*.py")):
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
                    for rule in _strings(sink, assigned, f"{path.relative_to(SOURCES)}:{n.lineno}"):
                        rules.setdefault(rule, set()).add(str(path.relative_to(SOURCES)))
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


def _ledger_method_rows() -> list[list[Any]]:
    """A livre de recettes with one amount column per payment method and a Total."""
    header = ["Date", "Patient", "Chèque", "Espèces", "CB", "Virement", "Total"]
    return [header] + [
        [_day(d), NAMES[d % 5], f"{50 + d},00", "", "", "", f"{50 + d},00"] for d in range(1, 41)
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
        methods = write_csv(
            tmp / f"ledger-methods-{i}.csv", _broken(_ledger_method_rows(), bad), encoding="utf-8"
        )
        read([methods], "ledger")
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


def test_the_fixture_values_are_not_in_the_catalogue() -> None:
    # Otherwise the privacy test above could not tell a leak from a sentence.
    sentences = " ".join(
        e.sentence for e in [*quarantine.CATALOGUE.values(), *quarantine.BY_COLUMN.values()]
    )
    assert not [v for v in VALUES if v in sentences]

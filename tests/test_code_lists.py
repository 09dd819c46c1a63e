"""Code lists and their French labels come from the data contracts, and only from there.

`contracts.model.codes` / `labels` read them; a scan of the package's Python source fails
when a code list or a label is written down by hand again (issue 9, item 4: "Carte" on one
screen, "Carte bancaire" on another).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from osteo_analytics.contracts.model import codes, labels, load_contracts
from osteo_analytics.errors import ContractError

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "osteo_analytics"
CONTRACTS = load_contracts()
ENUMERATED = [
    (dataset, col.name)
    for dataset, contract in CONTRACTS.items()
    for col in contract.columns
    if col.allowed_values
]

# Words of the raw files the synthetic generator writes (a ledger's column headers,
# LibreOsteo's own payment codes and texts, what a practitioner types as a status reason):
# they imitate what practices write, which may happen to equal a canonical code or label.
# (file under osteo_analytics/, top-level name) → why it is not a copy of a code list.
RAW_VOCABULARY = {
    ("synthetic/ledger_writer.py", "METHOD_LABEL"): "ledger cells the generator writes",
    ("synthetic/ledger_writer.py", "BY_METHOD_HEADER"): "ledger column headers",
    ("synthetic/ledger_writer.py", "_METHOD_COLUMN"): "ledger column headers",
    ("synthetic/libreosteo_format.py", "MODE_CODE"): "LibreOsteo's payment codes",
    ("synthetic/libreosteo_format.py", "MODE_TEXT"): "LibreOsteo's payment texts",
    ("synthetic/vocab.py", "REASONS_NO_SHOW"): "status reasons typed in LibreOsteo",
}


# --- the accessor ----------------------------------------------------------------------


def test_codes_and_labels_are_the_contracts() -> None:
    assert codes("payments", "method") == ("cb", "cheque", "especes", "virement", "autre")
    assert codes("consultations", "status") == ("done", "cancelled", "no_show")
    assert codes("invoices", "status") == ("issued", "paid", "cancelled", "credit_note")
    assert codes("patients", "sex") == ("F", "M")
    method_labels = labels("payments", "method")
    assert list(method_labels) == list(codes("payments", "method"))  # contract order
    assert method_labels["cb"] == "Carte bancaire"
    assert labels("consultations", "status")["no_show"] == "Rendez-vous non honoré"
    for dataset, column in ENUMERATED:
        col = CONTRACTS[dataset].column(column)
        assert codes(dataset, column) == col.allowed_values
        assert dict(labels(dataset, column)) == dict(col.value_labels)


def test_codes_and_labels_are_cached_and_read_only() -> None:
    assert codes("payments", "method") is codes("payments", "method")
    shared = labels("payments", "method")
    assert shared is labels("payments", "method")
    with pytest.raises(TypeError):
        shared["cb"] = "Carte"  # type: ignore[index]
    assert labels("payments", "method")["cb"] == "Carte bancaire"


@pytest.mark.parametrize(
    ("dataset", "column"),
    [("payments", "moyen"), ("paiements", "method"), ("payments", "amount")],
)
def test_a_missing_code_list_is_a_contract_error(dataset: str, column: str) -> None:
    with pytest.raises(ContractError) as caught:
        codes(dataset, column)
    message = str(caught.value)
    assert message.startswith(f"{dataset}.{column} : pas de liste de codes")
    assert "\n" not in message
    with pytest.raises(ContractError, match=r"valueLabels|validValues"):
        labels(dataset, column)


# --- the contracts: one French label per code ------------------------------------------


@pytest.mark.parametrize(("dataset", "column"), ENUMERATED)
def test_every_code_has_one_french_label(dataset: str, column: str) -> None:
    names = labels(dataset, column)
    assert set(names) == set(codes(dataset, column))
    assert all(label.strip() == label and label for label in names.values())
    assert len(set(names.values())) == len(names), "two codes share a label"


def test_a_column_in_several_contracts_has_the_same_labels() -> None:
    by_column: dict[str, dict[str, str]] = {}
    for dataset, column in ENUMERATED:
        first = by_column.setdefault(column, dict(labels(dataset, column)))
        if column == "source":  # the only column that means the same in every dataset
            assert dict(labels(dataset, column)) == first, dataset
    # a code used by two columns reads the same wherever it appears (status "cancelled")
    assert (
        labels("consultations", "status")["cancelled"] == labels("invoices", "status")["cancelled"]
    )


def test_docs_list_the_contracts_codes() -> None:
    """docs/datasets.md lists each enumerated column's codes in backquotes: the same ones."""
    text = (REPO / "docs" / "datasets.md").read_text(encoding="utf-8")
    checked = 0
    for section in re.split(r"^### ", text, flags=re.MULTILINE)[1:]:
        dataset = section.split()[0]
        for line in section.splitlines():
            cells = [c.strip() for c in line.strip("|").split("|")]
            if len(cells) != 6 or (dataset, cells[0]) not in ENUMERATED:
                continue
            documented = re.findall(r"`([^`]+)`", cells[5])
            if documented:  # "as patients.source" or "keyword rules (below)" name none
                assert documented == list(codes(dataset, cells[0])), (dataset, cells[0])
                checked += 1
    assert checked >= 7  # role, sex, patients.source, status ×2, type, method


# --- nothing written by hand -----------------------------------------------------------


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            found.add(id(first.value))
    return found


def _top_level_name(statement: ast.stmt) -> str:
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return statement.name
    if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
        return statement.targets[0].id
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return statement.target.id
    return ""


def _strings(nodes: list[ast.expr | None]) -> list[str] | None:
    if not all(isinstance(n, ast.Constant) and isinstance(n.value, str) for n in nodes):
        return None
    return [n.value for n in nodes]  # type: ignore[union-attr]


def _code_list_of(values: list[str]) -> tuple[str, str] | None:
    """The column whose code list `values` copies: two codes or more of the same column,
    at least three unless the column has fewer (a subset is a copy that will go stale)."""
    distinct = set(values)
    for dataset, column in ENUMERATED:
        known = set(codes(dataset, column))
        if len(distinct) >= min(3, len(known)) >= 2 and distinct <= known:
            return dataset, column
    return None


def hand_written(source: str, path: str) -> Iterator[str]:
    """Every code list or label written as a literal in one module's source."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    every_label = {label for d, c in ENUMERATED for label in labels(d, c).values()}
    for statement in tree.body:
        if (path, _top_level_name(statement)) in RAW_VOCABULARY:
            continue
        for node in ast.walk(statement):
            where = f"{path}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Constant) and node.value in every_label:
                if id(node) not in docstrings:
                    yield f"{where}: label {node.value!r}"
            elif isinstance(node, ast.Tuple | ast.List | ast.Set):
                values = _strings(list(node.elts))
                if values and (column := _code_list_of(values)):
                    yield f"{where}: code list of {'.'.join(column)}"
            elif isinstance(node, ast.Dict):
                # code → constant (a label, a count...): a labels table or a list in disguise
                keys = _strings(list(node.keys))
                constant_values = all(isinstance(v, ast.Constant) for v in node.values)
                if keys and constant_values and (column := _code_list_of(keys)):
                    yield f"{where}: table keyed by the codes of {'.'.join(column)}"


def test_no_code_list_or_label_is_written_by_hand() -> None:
    found = [
        hit
        for module in sorted(PACKAGE.rglob("*.py"))
        for hit in hand_written(
            module.read_text(encoding="utf-8"), module.relative_to(PACKAGE).as_posix()
        )
    ]
    assert not found, "read them with contracts.model.codes()/labels():\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        'METHOD_LABELS = {"cb": "Carte", "cheque": "Chèque", "especes": "Espèces"}',
        'STATUSES = ("done", "cancelled", "no_show")',
        'def f(sex):\n    return sex in {"F", "M"}',
        'INVOICE = ["issued", "paid", "cancelled"]',
        'COUNTS = {"done": 0, "cancelled": 0, "no_show": 0}',
        'HEADER = "Carte bancaire"',
    ],
)
def test_the_scan_sees_a_hand_written_copy(source: str) -> None:
    assert list(hand_written(source, "x.py"))


@pytest.mark.parametrize(
    "source",
    [
        '"""Carte bancaire, Chèque, Espèces: payment methods."""',
        'WORDS = {"carte bancaire": "cb", "chq": "cheque", "liquide": "especes"}',
        'FORMATS = ("libreosteo", "ledger")',
        'if status == "done":\n    pass',
        'ALIASES = {"cb": ("carte", "tpe"), "cheque": ("chq",), "especes": ("esp",)}',
    ],
)
def test_the_scan_leaves_vocabulary_alone(source: str) -> None:
    assert not list(hand_written(source, "x.py"))


def test_raw_vocabulary_exceptions_still_exist() -> None:
    """An exception for a name that is gone would silently cover a new copy of that name."""
    for path, name in RAW_VOCABULARY:
        tree = ast.parse((PACKAGE / path).read_text(encoding="utf-8"))
        assert name in {_top_level_name(s) for s in tree.body}, (path, name)


# --- vocabularies lead to contract codes -----------------------------------------------


def test_motif_rules_cover_the_contracts_categories() -> None:
    from osteo_analytics.pseudonymize import motifs

    rule_codes = [rule[0] for rule in motifs.MOTIF_RULES]
    assert len(rule_codes) == len(set(rule_codes))
    assert {*rule_codes, motifs.MOTIF_OTHER} == set(codes("consultations", "motif_category"))
    assert motifs.MOTIF_LABELS is labels("consultations", "motif_category")


def test_source_words_map_onto_contract_codes() -> None:
    from osteo_analytics.sources import frenchparse
    from osteo_analytics.sources.generic.mapping import VALUE_CODES
    from osteo_analytics.sources.ledger.layout import METHOD_COLUMNS

    methods = set(codes("payments", "method"))
    assert set(METHOD_COLUMNS) == methods
    # a file that writes the contract's labels ("Carte bancaire", "Chèque"...) reads back
    for code, label in labels("payments", "method").items():
        assert frenchparse.payment_method(label) == code, label
        assert frenchparse.fold(label) in METHOD_COLUMNS[code], label
    assert set(VALUE_CODES["payment_method"]) == methods | {"unpaid"}
    assert VALUE_CODES["status"] == codes("consultations", "status")
    assert set(VALUE_CODES["invoice_status"]) < set(codes("invoices", "status"))
    assert VALUE_CODES["sex"] == codes("patients", "sex")

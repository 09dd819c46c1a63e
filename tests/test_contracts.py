"""Data contracts: ODCS validity, agreement with docs/datasets.md, and the DuckDB checker.

Fixtures are a tiny hand-made practice (two practitioners, three patients, four
consultations, five invoices, four payments); each broken case changes one cell and expects
exactly one (row_number, column, rule) failure, or a known pair for duplicates.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from osteo_analytics.contracts import sql as contract_sql
from osteo_analytics.contracts.checks import (
    CONTRACTS_DIR,
    STRATEGIES,
    CheckReport,
    RowFailure,
    check,
    load_contracts,
    validate_contract_file,
)
from osteo_analytics.errors import ContractError, InputError
from tests.conftest import ODCS_SCHEMA

REPO = Path(__file__).resolve().parents[1]
CONTRACT_FILES = sorted((REPO / "data_contracts").glob("*.odcs.yaml"))
DATASETS = ("practitioners", "patients", "consultations", "invoices", "payments")
CLASSIFICATIONS = {"public", "internal", "restricted", "confidential"}
MARKER = "ZQX-Dupont-Secret-4471"  # must never appear in a report

CONTRACTS = load_contracts()
D = dt.date
T = dt.time


def money(text: str) -> Decimal:
    return Decimal(text)


def good_rows() -> dict[str, list[dict[str, Any]]]:
    """A small consistent practice, valid against every contract."""
    return {
        "practitioners": [
            {"practitioner_id": "PR-AAAA", "display_name": "Gaëlle Tanguy", "role": "titular"},
            {"practitioner_id": "PR-BBBB", "display_name": "Marc Le Goff", "role": "associate"},
        ],
        "patients": [
            {"patient_key": "P-AAAA", "sex": "F", "birth_year": 1980, "departement": "29",
             "registered_on": D(2020, 1, 5), "source": "libreosteo"},
            {"patient_key": "P-BBBB", "sex": "M", "birth_year": 2015, "departement": "2A",
             "registered_on": None, "source": "ledger"},
            {"patient_key": "P-CCCC", "sex": None, "birth_year": None, "departement": "974",
             "registered_on": None, "source": "docx"},
        ],
        "consultations": [
            {"consultation_id": "C-0001", "patient_key": "P-AAAA", "practitioner_id": "PR-AAAA",
             "consulted_on": D(2024, 3, 1), "start_time": T(9, 0), "status": "done",
             "consultation_type": "first", "motif_category": "low_back", "source": "libreosteo"},
            {"consultation_id": "C-0002", "patient_key": "P-AAAA", "practitioner_id": "PR-AAAA",
             "consulted_on": D(2024, 3, 15), "start_time": T(10, 30), "status": "done",
             "consultation_type": "follow_up", "motif_category": None, "source": "libreosteo"},
            {"consultation_id": "C-0003", "patient_key": "P-BBBB", "practitioner_id": "PR-BBBB",
             "consulted_on": D(2024, 4, 2), "start_time": None, "status": "cancelled",
             "consultation_type": "urgent", "motif_category": "infant_child", "source": "ledger"},
            {"consultation_id": "C-0004", "patient_key": "P-CCCC", "practitioner_id": "PR-BBBB",
             "consulted_on": D(2024, 5, 10), "start_time": T(14, 0), "status": "no_show",
             "consultation_type": "other", "motif_category": None, "source": "docx"},
        ],
        "invoices": [
            {"invoice_number": "F-2024-001", "consultation_id": "C-0001", "patient_key": "P-AAAA",
             "practitioner_id": "PR-AAAA", "issued_on": D(2024, 3, 1), "amount": money("60.00"),
             "status": "paid", "replaces_invoice_number": None, "cancels_invoice_number": None,
             "source": "libreosteo"},
            {"invoice_number": "F-2024-002", "consultation_id": "C-0002", "patient_key": "P-AAAA",
             "practitioner_id": "PR-AAAA", "issued_on": D(2024, 3, 15), "amount": money("60.00"),
             "status": "cancelled", "replaces_invoice_number": None,
             "cancels_invoice_number": None, "source": "libreosteo"},
            {"invoice_number": "F-2024-003", "consultation_id": "C-0002", "patient_key": "P-AAAA",
             "practitioner_id": "PR-AAAA", "issued_on": D(2024, 3, 20), "amount": money("-60.00"),
             "status": "credit_note", "replaces_invoice_number": None,
             "cancels_invoice_number": "F-2024-002", "source": "libreosteo"},
            {"invoice_number": "F-2024-004", "consultation_id": "C-0002", "patient_key": "P-AAAA",
             "practitioner_id": "PR-AAAA", "issued_on": D(2024, 3, 20), "amount": money("55.00"),
             "status": "issued", "replaces_invoice_number": "F-2024-002",
             "cancels_invoice_number": None, "source": "libreosteo"},
            {"invoice_number": "L-20240402-001", "consultation_id": None, "patient_key": "P-BBBB",
             "practitioner_id": "PR-BBBB", "issued_on": D(2024, 4, 2), "amount": money("0.00"),
             "status": "issued", "replaces_invoice_number": None, "cancels_invoice_number": None,
             "source": "ledger"},
        ],
        "payments": [
            {"payment_id": "F-2024-001/1", "invoice_number": "F-2024-001",
             "paid_on": D(2024, 3, 1), "amount": money("60.00"), "method": "cb",
             "source": "libreosteo"},
            {"payment_id": "F-2024-001/2", "invoice_number": "F-2024-001",
             "paid_on": D(2024, 3, 5), "amount": money("-10.00"), "method": "virement",
             "source": "libreosteo"},
            {"payment_id": "F-2024-004/1", "invoice_number": "F-2024-004",
             "paid_on": D(2024, 3, 25), "amount": money("30.00"), "method": "cheque",
             "source": "libreosteo"},
            {"payment_id": "F-2024-004/2", "invoice_number": "F-2024-004",
             "paid_on": D(2024, 4, 1), "amount": money("25.00"), "method": "especes",
             "source": "libreosteo"},
        ],
    }  # fmt: skip


def to_arrow(rows: dict[str, list[dict[str, Any]]]) -> dict[str, pa.Table]:
    return {
        name: pa.Table.from_pylist(r, schema=CONTRACTS[name].arrow_schema())
        for name, r in rows.items()
    }


def related_for(dataset: str, tables: dict[str, pa.Table]) -> dict[str, pa.Table]:
    return {name: t for name, t in tables.items() if name != dataset}


def failures(report: CheckReport) -> set[tuple[int, str, str]]:
    return {(f.row_number, f.column, f.rule) for f in report.failures}


# --- the contract files ----------------------------------------------------------------


def test_the_five_canonical_datasets_have_a_contract() -> None:
    assert sorted(CONTRACTS) == sorted(DATASETS)
    assert [p.name for p in CONTRACT_FILES] == [f"{d}.odcs.yaml" for d in sorted(DATASETS)]
    assert CONTRACTS_DIR == REPO / "data_contracts"
    assert load_contracts(REPO / "data_contracts") == CONTRACTS


@pytest.mark.parametrize("path", CONTRACT_FILES, ids=lambda p: p.name)
def test_contract_file_is_valid_odcs_v3_1(path: Path) -> None:
    import jsonschema
    import yaml

    schema = json.loads(ODCS_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
    assert errors == []
    assert validate_contract_file(path, odcs_schema=ODCS_SCHEMA).name == path.name.split(".")[0]


@pytest.mark.parametrize("dataset", DATASETS)
def test_every_column_has_the_required_attributes(dataset: str) -> None:
    contract = CONTRACTS[dataset]
    assert contract.version and contract.primary_key() and contract.source_columns()
    for col in contract.columns:
        assert col.logical_type and col.physical_type and col.description, col.name
        assert col.business_name and col.classification in CLASSIFICATIONS, col.name
        assert col.strategy in STRATEGIES, col.name
        if not col.stored:  # removed columns hold identity or free text
            assert col.strategy not in ("keep", "hmac") and not col.rules, col.name
    pk = contract.column(contract.primary_key()[0])
    assert pk.required and pk.unique


def _spec_tables() -> dict[str, list[list[str]]]:
    """Stage-2 column tables of docs/datasets.md, by section title."""
    text = (REPO / "docs/datasets.md").read_text(encoding="utf-8")
    stage2 = text.split("## Stage 2", 1)[1].split("## Stage 1", 1)[0]
    tables = {}
    for section in stage2.split("\n### ")[1:]:
        title = section.split()[0]
        rows = [
            [c.strip() for c in line.strip().strip("|").split("|")]
            for line in section.splitlines()
            if line.startswith("|") and not line.startswith("|---")
        ]
        tables[title] = rows[1:]
    return tables


@pytest.mark.parametrize("dataset", DATASETS)
def test_stored_columns_match_docs_datasets_md(dataset: str) -> None:
    contract = CONTRACTS[dataset]
    spec = [r for r in _spec_tables()[dataset] if r[1]]  # rows with a type are stored
    assert [r[0] for r in spec] == contract.snapshot_columns()
    for name, ptype, req, uniq, strategy, _ in spec:
        col = contract.column(name)
        assert (col.physical_type, col.required, col.unique, col.strategy) == (
            ptype, req == "yes", uniq == "yes", strategy
        ), name  # fmt: skip


def test_code_lists_and_labels() -> None:
    c, i, p = CONTRACTS["consultations"], CONTRACTS["invoices"], CONTRACTS["payments"]
    assert c.allowed_values()["status"] == ("done", "cancelled", "no_show")
    assert c.allowed_values()["consultation_type"] == (
        "first", "follow_up", "return", "urgent", "home", "other"
    )  # fmt: skip
    assert i.allowed_values()["status"] == ("issued", "paid", "cancelled", "credit_note")
    assert p.allowed_values()["method"] == ("cb", "cheque", "especes", "virement", "autre")
    assert CONTRACTS["practitioners"].allowed_values()["role"] == (
        "titular", "associate", "replacement"
    )  # fmt: skip
    assert CONTRACTS["patients"].allowed_values()["sex"] == ("F", "M")
    motifs = {r[0].strip("`"): r[1] for r in _spec_tables()["Motif"]}
    assert c.value_labels()["motif_category"] == motifs
    assert set(c.allowed_values()["motif_category"]) == set(motifs)


def test_libreosteo_consultation_type_mapping_is_documented() -> None:
    import yaml

    doc = yaml.safe_load((REPO / "data_contracts/consultations.odcs.yaml").read_text())
    prop = next(p for p in doc["schema"][0]["properties"] if p["name"] == "consultation_type")
    custom = {c["property"]: c["value"] for c in prop["customProperties"]}
    mapping = {
        (m["sourceValue"], m["sourceLabel"]): m["value"] for m in custom["libreosteoMapping"]
    }
    assert mapping == {
        ("1", "normal"): "first", ("2", "continuing"): "follow_up",
        ("3", "return"): "return", ("4", "emergency"): "urgent",
    }  # fmt: skip


def test_pii_source_columns_are_documented_as_removed() -> None:
    strategies = CONTRACTS["patients"].strategies()
    assert strategies["birth_date"] == "generalize-year"
    assert strategies["postcode"] == "generalize-departement"
    for name in ("family_name", "first_name", "address", "email", "phone", "nir"):
        assert strategies[name] == "drop" and name in CONTRACTS["patients"].source_columns()
    assert CONTRACTS["consultations"].strategies()["reason"] == "categorize"
    for name in ("notes", "diagnosis", "treatment", "conclusion"):
        assert name in CONTRACTS["consultations"].source_columns()


def test_arrow_schema_of_stored_datasets() -> None:
    assert CONTRACTS["invoices"].arrow_schema().field("amount").type == pa.decimal128(12, 2)
    assert CONTRACTS["payments"].arrow_schema().field("paid_on").type == pa.date32()
    assert CONTRACTS["consultations"].arrow_schema().field("start_time").type == pa.time64("us")
    assert CONTRACTS["patients"].arrow_schema().field("birth_year").type == pa.int32()
    assert CONTRACTS["patients"].arrow_schema().names == CONTRACTS["patients"].snapshot_columns()


# --- loading errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("apiVersion: v3.1.0", "apiVersion: v9", "apiVersion v3.1.0"),
        ("            value: hmac\n", "            value: scramble\n", "anonymizationStrategy"),
        ("        required: true\n        unique: true\n", "        required: false\n"
         "        unique: true\n", "required/unique"),
        ("metric: duplicateValues\n            mustBe: 0", "metric: duplicateValues\n"
         "            mustBeLessThan: 3", "mustBe: 0"),
        ("            value: pseudonymized\n", "            value: later\n", "stage"),
        ("physicalType: VARCHAR\n", "physicalType: TEXT[]\n", "physicalType"),
        ("kind: DataContract", "kind: [DataContract", "YAML invalide"),
        ("{value: titular, label: Titulaire}", "titular", "structure inattendue"),
    ],
)  # fmt: skip
def test_malformed_contract_is_a_one_line_contract_error(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    text = (REPO / "data_contracts/practitioners.odcs.yaml").read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "practitioners.odcs.yaml").write_text(text.replace(old, new, 1), "utf-8")
    with pytest.raises(ContractError, match=re.escape(message)) as err:
        load_contracts(tmp_path)
    assert "\n" not in str(err.value) and "practitioners.odcs.yaml" in str(err.value)


def test_empty_contract_folder_and_unknown_dataset(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match=re.escape("aucun contrat de données (*.odcs.yaml)")):
        load_contracts(tmp_path)
    with pytest.raises(ContractError, match="jeu de données « visits » : aucun contrat de données"):
        check(None, "visits", pa.table({"a": [1]}))


# --- the checker -----------------------------------------------------------------------


@pytest.mark.parametrize("dataset", DATASETS)
def test_good_tables_pass_with_every_rule_checked(dataset: str) -> None:
    tables = to_arrow(good_rows())
    report = check(None, dataset, tables[dataset], related=related_for(dataset, tables))
    assert report.ok, report.to_dict()
    assert report.not_checked() == [] and report.row_count == tables[dataset].num_rows
    assert len(report.rules) == len(CONTRACTS[dataset].rules())


BROKEN = [
    # id, dataset, row index, new values, expected failures (row_number, column, rule)
    ("null_required", "consultations", 1, {"status": None}, {(2, "status", "not_null")}),
    ("null_money", "invoices", 0, {"amount": None}, {(1, "amount", "not_null")}),
    ("duplicate_key", "patients", 2, {"patient_key": "P-AAAA"},
     {(1, "patient_key", "unique"), (3, "patient_key", "unique")}),
    ("bad_consultation_status", "consultations", 2, {"status": "finished"},
     {(3, "status", "allowed_values")}),
    ("bad_consultation_type", "consultations", 0, {"consultation_type": "normal"},
     {(1, "consultation_type", "allowed_values")}),
    ("bad_motif", "consultations", 1, {"motif_category": "back"},
     {(2, "motif_category", "allowed_values")}),
    ("bad_invoice_status", "invoices", 3, {"status": "unpaid"}, {(4, "status", "allowed_values")}),
    ("bad_payment_method", "payments", 2, {"method": "carte"}, {(3, "method", "allowed_values")}),
    ("bad_role", "practitioners", 1, {"role": "intern"}, {(2, "role", "allowed_values")}),
    ("bad_sex", "patients", 0, {"sex": "X"}, {(1, "sex", "allowed_values")}),
    ("name_as_patient_key", "patients", 1, {"patient_key": "Jean Dupont"},
     {(2, "patient_key", "pattern")}),
    ("bad_departement", "patients", 0, {"departement": "20"}, {(1, "departement", "pattern")}),
    ("negative_invoice_not_credit_note", "invoices", 0, {"amount": money("-60.00")},
     {(1, "amount", "negative_only_for_credit_note")}),
    ("zero_payment", "payments", 1, {"amount": money("0.00")}, {(2, "amount", "not_zero")}),
    ("payment_id_of_other_invoice", "payments", 3, {"payment_id": "F-2024-001/3"},
     {(4, "payment_id", "prefixed_by_invoice_number")}),
    ("consulted_too_early", "consultations", 3, {"consulted_on": D(1985, 6, 1)},
     {(4, "consulted_on", "date_range")}),
    ("paid_in_the_far_future", "payments", 0, {"paid_on": D(2999, 1, 1)},
     {(1, "paid_on", "date_range")}),
    ("issued_too_early", "invoices", 4, {"issued_on": D(1989, 12, 31)},
     {(5, "issued_on", "date_range")}),
    ("birth_year_too_old", "patients", 1, {"birth_year": 1850}, {(2, "birth_year", "year_range")}),
    ("orphan_consultation_patient", "consultations", 3, {"patient_key": "P-ZZZZ"},
     {(4, "patient_key", "foreign_key")}),
    ("orphan_consultation_practitioner", "consultations", 0, {"practitioner_id": "PR-ZZZZ"},
     {(1, "practitioner_id", "foreign_key")}),
    ("orphan_invoice_consultation", "invoices", 1, {"consultation_id": "C-9999"},
     {(2, "consultation_id", "foreign_key")}),
    ("orphan_invoice_patient", "invoices", 4, {"patient_key": "P-ZZZZ"},
     {(5, "patient_key", "foreign_key")}),
    ("orphan_payment", "payments", 2,
     {"invoice_number": "F-2024-999", "payment_id": "F-2024-999/1"},
     {(3, "invoice_number", "foreign_key")}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("dataset", "index", "values", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in BROKEN],
)
def test_broken_row_fails_the_right_rule(
    dataset: str, index: int, values: dict[str, Any], expected: set[tuple[int, str, str]]
) -> None:
    rows = good_rows()
    rows[dataset][index].update(values)
    tables = to_arrow(rows)
    report = check(
        None, dataset, tables[dataset], related=related_for(dataset, to_arrow(good_rows()))
    )
    assert not report.ok and report.table_failures == []
    assert failures(report) == expected
    assert sum(report.counts().values()) == len(expected)


@pytest.mark.parametrize(
    ("dataset", "change", "column", "rule"),
    [
        ("patients", lambda t: t.append_column("family_name", pa.array(["x"] * 3)),
         "family_name", "dropped_column_present"),
        ("patients", lambda t: t.append_column("birth_date", pa.array([D(1980, 1, 2)] * 3)),
         "birth_date", "dropped_column_present"),
        ("consultations", lambda t: t.append_column("notes", pa.array(["x"] * 4)),
         "notes", "dropped_column_present"),
        ("invoices", lambda t: t.drop_columns(["status"]), "status", "missing_column"),
        ("payments", lambda t: t.set_column(3, "amount", pc.cast(t["amount"], pa.float64())),
         "amount", "wrong_type"),
        ("practitioners", lambda t: t.append_column("phone_number", pa.array(["x"] * 2)),
         "phone_number", "unexpected_column"),
    ],
)  # fmt: skip
def test_table_level_failures_are_reported_not_raised(
    dataset: str, change: Any, column: str, rule: str
) -> None:
    tables = to_arrow(good_rows())
    report = check(None, dataset, change(tables[dataset]), related=related_for(dataset, tables))
    assert not report.ok and report.failures == []
    assert [(f.column, f.rule) for f in report.table_failures] == [(column, rule)]


def test_rules_reading_a_missing_column_are_not_checked() -> None:
    tables = to_arrow(good_rows())
    report = check(None, "invoices", tables["invoices"].drop_columns(["status"]))
    skipped = {(r.column, r.rule) for r in report.not_checked()}
    assert ("amount", "negative_only_for_credit_note") in skipped  # reads status too
    assert ("status", "allowed_values") in skipped


def test_foreign_keys_without_related_tables_are_not_checked() -> None:
    report = check(None, "consultations", to_arrow(good_rows())["consultations"])
    assert report.ok
    assert {(r.column, r.note) for r in report.not_checked()} == {
        ("patient_key", "related table patients not given"),
        ("practitioner_id", "related table practitioners not given"),
    }


def test_source_row_gives_the_row_numbers() -> None:
    rows = good_rows()
    rows["consultations"][2]["status"] = "finished"
    table = to_arrow(rows)["consultations"]
    table = table.append_column("source_row", pa.array([7, 9, 12, 15], pa.int32()))
    report = check(None, "consultations", table)
    assert report.row_number_basis == "source_row"
    assert failures(report) == {(12, "status", "allowed_values")}
    by_position = check(None, "consultations", table, row_numbers="position")
    assert by_position.row_number_basis == "position"
    assert failures(by_position) == {(3, "status", "allowed_values")}


def test_duckdb_table_and_arrow_table_give_the_same_report() -> None:
    rows = good_rows()
    rows["invoices"][1]["consultation_id"] = "C-9999"
    rows["invoices"][3]["status"] = "avoir"
    tables = to_arrow(rows)
    con = duckdb.connect(":memory:")
    for name, table in tables.items():
        con.register("staging", table)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM staging")
        con.unregister("staging")
    by_name = check(con, "invoices", "invoices", related={d: d for d in DATASETS})
    by_arrow = check(None, "invoices", tables["invoices"], related=related_for("invoices", tables))
    assert by_name.to_dict() == by_arrow.to_dict()
    assert failures(by_name) == {
        (2, "consultation_id", "foreign_key"),
        (4, "status", "allowed_values"),
    }
    # Arrow input into a caller's connection: registered only for the call.
    in_con = check(con, "invoices", tables["invoices"], related={d: d for d in DATASETS})
    assert in_con.to_dict() == by_name.to_dict()
    assert sorted(r[0] for r in con.execute("SHOW TABLES").fetchall()) == sorted(DATASETS)


def test_works_on_a_hardened_connection() -> None:
    con = duckdb.connect(":memory:", config={"temp_directory": ""})
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    tables = to_arrow(good_rows())
    assert check(con, "payments", tables["payments"], related=tables).ok


def test_unknown_table_name_is_an_input_error() -> None:
    with pytest.raises(InputError, match="« nope » : aucune table ni vue de ce nom"):
        check(duckdb.connect(), "patients", "nope")


def test_report_never_contains_the_offending_value() -> None:
    rows = good_rows()
    rows["patients"][0]["patient_key"] = MARKER
    rows["patients"][1]["sex"] = MARKER
    rows["patients"][2]["source"] = MARKER
    table = to_arrow(rows)["patients"].append_column("family_name", pa.array([MARKER] * 3))
    table = table.append_column(MARKER.lower(), pa.array([1, 2, 3]))  # except as a column name
    report = check(None, "patients", table)
    assert {(f.row_number, f.rule) for f in report.failures} == {
        (1, "pattern"), (2, "allowed_values"), (3, "allowed_values")
    }  # fmt: skip
    text = report.to_json()
    assert MARKER not in text and json.loads(text)["ok"] is False
    assert set(RowFailure.__dataclass_fields__) == {"row_number", "column", "rule"}


def test_contract_values_are_bound_not_formatted_into_sql() -> None:
    text, params = contract_sql.allowed_values("(t)", "status", ("done", "it's"))
    assert "done" not in text and params == {"values": ["done", "it's"]}
    text, params = contract_sql.pattern("(t)", "patient_key", "^P-[A-Z]+$")
    assert "^P-" not in text and params == {"pattern": "^P-[A-Z]+$"}
    assert contract_sql.quote_ident('we"ird') == '"we""ird"'


@pytest.mark.slow
def test_one_million_consultations_in_a_few_seconds() -> None:
    con = duckdb.connect(":memory:")
    con.execute(
        "CREATE TABLE practitioners AS SELECT 'PR-' || i AS practitioner_id, "
        "'Praticien ' || i AS display_name, 'titular' AS role FROM range(3) t(i)"
    )
    con.execute("CREATE TABLE patients AS SELECT 'P-' || i AS patient_key FROM range(100000) t(i)")
    # Two broken rows at known positions: a bad status and an orphan patient.
    con.execute(
        """
        CREATE TABLE consultations AS SELECT
          'C-' || i AS consultation_id,
          CASE WHEN i = 654321 THEN 'P-NOPE' ELSE 'P-' || (i % 100000) END AS patient_key,
          'PR-' || (i % 3) AS practitioner_id,
          (DATE '2005-01-01' + (i % 7000)::INTEGER) AS consulted_on,
          (TIME '08:00:00' + INTERVAL (i % 600) MINUTE) AS start_time,
          CASE WHEN i = 123456 THEN 'bogus'
               ELSE ['done', 'done', 'done', 'cancelled', 'no_show'][i % 5 + 1] END AS status,
          ['first', 'follow_up', 'return', 'urgent', 'home', 'other'][i % 6 + 1]
            AS consultation_type,
          CASE WHEN i % 4 = 0 THEN NULL ELSE 'low_back' END AS motif_category,
          'synthetic' AS source
        FROM range(1000000) t(i)
        """
    )
    started = time.perf_counter()
    report = check(
        con, "consultations", "consultations",
        related={"patients": "patients", "practitioners": "practitioners"},
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    print(f"\ncontracts.check: 1,000,000 consultations, {len(report.rules)} rules, {elapsed:.2f} s")
    assert report.row_count == 1_000_000 and report.not_checked() == []
    assert failures(report) == {
        (123457, "status", "allowed_values"),
        (654322, "patient_key", "foreign_key"),
    }


def test_a_contract_rule_that_cannot_run_is_a_contract_error(tmp_path: Path) -> None:
    text = (REPO / "data_contracts/practitioners.odcs.yaml").read_text(encoding="utf-8")
    broken = (
        "          - name: broken\n"
        "            type: sql\n"
        "            query: SELECT COUNT(*) FROM {object} WHERE no_such_function({property})\n"
        "            mustBe: 0\n"
    )
    (tmp_path / "practitioners.odcs.yaml").write_text(
        text.replace("      - name: role\n", broken + "      - name: role\n", 1), "utf-8"
    )
    table = to_arrow(good_rows())["practitioners"]
    with pytest.raises(
        ContractError, match="la règle « broken » de la colonne « display_name » n'a pas pu"
    ):
        check(None, "practitioners", table, contracts=load_contracts(tmp_path))


def test_missing_related_table_name_is_an_input_error() -> None:
    tables = to_arrow(good_rows())
    with pytest.raises(InputError, match="« pat » : aucune table ni vue de ce nom"):
        check(
            duckdb.connect(), "consultations", tables["consultations"], related={"patients": "pat"}
        )

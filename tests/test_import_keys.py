"""Generated invoice numbers and conflicts across imports (no silent data loss).

Sources without invoice numbers (ledgers, generic sheets, Word files) get numbers derived
from each receipt's content, keyed with the workspace's pseudonym key: importing files
one after the other keeps every distinct receipt, re-importing changes nothing, an
overlapping file dedups. A later row that brings a stored natural key with different
content replaces it and is counted as a conflict (`--json`, summary table, audit log).
"""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from docx import Document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osteo_analytics import snapshots, workspace
from osteo_analytics.ingest import ImportResult, import_paths
from tests.conftest import (
    PASSPHRASE,
    by_method,
    copy_workspace,
    osteo,
    osteo_json,
    osteo_ok,
    visit_mapping,
)

ENV = {"OSTEO_PASSPHRASE": PASSPHRASE}
GENERATED = re.compile(r"[LGW]-\d{8}-[A-Z2-7]{12}")

LEDGER_HEADER = ["Date", "Patient", "Montant", "Mode de règlement"]
# The issue's two ledgers: no invoice numbers, the same day in both.
FIRST = [
    ["02/01/2024", "Martin Paul", "60,00 €", "CB"],
    ["02/01/2024", "Durand Anne", "55,00 €", "Chèque"],
]
SECOND = [
    ["02/01/2024", "Bernard Luc", "70,00 €", "Espèces"],
    ["03/01/2024", "Petit Eve", "65,00 €", "CB"],
]


def write_ledger(path: Path, rows: list[list[str]], header: list[str] = LEDGER_HEADER) -> Path:
    """A ';' CSV ledger in Windows-1252, as Excel writes it in France."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows([header, *rows])
    path.write_bytes(buffer.getvalue().encode("cp1252"))
    return path


# --- the issue's reproduction, through the real command line ---------------------------


@pytest.fixture(scope="module")
def issue(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """`osteo init`, then `osteo import` of the two ledgers one after the other."""
    folder = tmp_path_factory.mktemp("issue")
    ws = folder / "ws"
    osteo_ok("init", workspace=ws, env=ENV)
    imports = [
        osteo_json(
            "import", str(write_ledger(folder / name, rows)), "--json", workspace=ws, env=ENV
        )
        for name, rows in (("premier.csv", FIRST), ("second.csv", SECOND))
    ]
    query = "SELECT invoice_number, payment_id FROM invoices JOIN payments USING (invoice_number)"
    return {
        "ws": ws,
        "imports": imports,
        "metrics": osteo_json("metrics", "--format", "json", workspace=ws, env=ENV),
        "numbers": osteo_json("sql", "-c", query, "--format", "json", workspace=ws, env=ENV),
    }


def test_two_ledgers_without_numbers_keep_all_four_receipts(issue: dict) -> None:
    totals = issue["metrics"]["totals"]
    assert totals["revenue_received"] == "250.00"
    assert totals["revenue_invoiced"] == "250.00"
    assert totals["received_by_method"] == by_method(cb="125.00", cheque="55.00", especes="70.00")
    assert issue["imports"][-1]["rows"]["invoices"] == 4
    assert issue["imports"][-1]["rows"]["payments"] == 4
    for summary in issue["imports"]:
        (report,) = summary["files"]
        assert (report["accepted"], report["duplicates"], report["conflicts"]) == (2, 0, 0)


def test_generated_numbers_keep_the_day_and_a_keyed_digest(issue: dict) -> None:
    rows = issue["numbers"]
    numbers = sorted(r["invoice_number"] for r in rows)
    assert len(set(numbers)) == 4
    assert all(GENERATED.fullmatch(n) for n in numbers), numbers
    assert [n[:11] for n in numbers] == ["L-20240102-"] * 3 + ["L-20240103-"]
    assert all(r["payment_id"] == f"{r['invoice_number']}/1" for r in rows)


def test_conflicts_are_in_json_the_summary_table_and_the_audit_log(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    workspace.init_workspace(ws, PASSPHRASE, work_factor=10)  # quick to unlock; CLI below
    header = ["Date", "N° facture", "Patient", "Montant", "Mode de règlement"]
    stored = write_ledger(
        tmp_path / "a.csv", [["05/01/2024", "240001", "DUPONT Jean", "55", "CB"]], header
    )
    # The same invoice number re-exported with another means of payment, then another amount.
    method = write_ledger(
        tmp_path / "b.csv", [["05/01/2024", "240001", "DUPONT Jean", "55", "Chèque"]], header
    )
    amount = write_ledger(
        tmp_path / "c.csv", [["05/01/2024", "240001", "DUPONT Jean", "60", "Chèque"]], header
    )
    first = osteo("import", str(stored), "--json", workspace=ws, env=ENV)
    assert json.loads(first.stdout)["files"][0]["conflicts"] == 0
    second = osteo("import", str(method), "--json", workspace=ws, env=ENV)
    assert second.returncode == 0, second.stderr
    (report,) = json.loads(second.stdout)["files"]
    assert (report["accepted"], report["conflicts"], report["duplicates"]) == (1, 1, 0)
    assert report["rows_read"] == 1  # a conflict is part of accepted: the invariant holds
    table = osteo("import", str(amount), workspace=ws, env=ENV)
    assert table.returncode == 0, table.stderr
    assert "dont conflits" in table.stdout and "conflits : 1 ligne(s)" in table.stdout
    log = [json.loads(line) for line in (ws / "audit.log").read_text().splitlines()]
    assert [e["counts"].get("conflicts") for e in log if e["action"] == "import"] == [0, 1, 1]
    received = osteo("metrics", "--format", "json", workspace=ws, env=ENV)
    totals = json.loads(received.stdout)["totals"]  # the newer row replaced the stored one
    assert (
        totals["revenue_received"] == "60.00" and totals["received_by_method"]["cheque"] == "60.00"
    )


# --- in process, on a workspace with a low scrypt work factor -------------------------


# Tests import into copies of one blank workspace (conftest): they share its pseudonym key.


def stored(unlocked: workspace.Unlocked) -> dict[str, pa.Table]:
    return snapshots.read_snapshot(unlocked.workspace.snapshots_dir, unlocked.identities)


def encaisse(unlocked: workspace.Unlocked) -> Decimal:
    return sum(stored(unlocked)["payments"].column("amount").to_pylist(), Decimal(0))


def counts(result: ImportResult) -> list[tuple[int, int, int, int]]:
    """(rows read, accepted, duplicates, conflicts) of each file."""
    return [(f.rows_read, f.accepted, f.duplicates, f.conflicts) for f in result.files]


def test_reimporting_a_ledger_changes_nothing(blank_workspace: Path, tmp_path: Path) -> None:
    ws = copy_workspace(blank_workspace, tmp_path / "ws")
    path = write_ledger(tmp_path / "l.csv", FIRST + SECOND)
    import_paths(ws, [path], fmt="ledger")
    before = stored(ws)
    again = import_paths(ws, [path], fmt="ledger")
    assert again.changed is False and counts(again) == [(4, 0, 4, 0)]
    # the same rows in another order, under another file name: still nothing new
    shuffled = write_ledger(tmp_path / "copie.csv", [SECOND[1], FIRST[1], SECOND[0], FIRST[0]])
    assert counts(import_paths(ws, [shuffled], fmt="ledger")) == [(4, 0, 4, 0)]
    assert stored(ws) == before


def test_an_overlapping_ledger_dedups_and_identical_receipts_stay_distinct(
    blank_workspace: Path, tmp_path: Path
) -> None:
    ws = copy_workspace(blank_workspace, tmp_path / "ws")
    twice = [FIRST[0], FIRST[0]]  # Martin paid 60 € by card twice that day: two receipts
    import_paths(ws, [write_ledger(tmp_path / "a.csv", [*twice, FIRST[1]])], fmt="ledger")
    assert encaisse(ws) == Decimal("175.00")
    overlap = write_ledger(tmp_path / "b.csv", [FIRST[1], FIRST[0], *SECOND])
    result = import_paths(ws, [overlap], fmt="ledger")
    assert counts(result) == [(4, 2, 2, 0)]  # Durand and one Martin receipt: already there
    assert encaisse(ws) == Decimal("310.00")
    third = write_ledger(tmp_path / "c.csv", [*twice, FIRST[0]])  # a third identical one
    assert counts(import_paths(ws, [third], fmt="ledger")) == [(3, 1, 2, 0)]
    assert encaisse(ws) == Decimal("370.00")
    assert stored(ws)["invoices"].num_rows == 6


def test_every_reference_follows_the_generated_number(
    blank_workspace: Path, tmp_path: Path
) -> None:
    ws = copy_workspace(blank_workspace, tmp_path / "ws")
    refunded = [
        ["02/01/2024", "Durand Anne", "55", "CB"],
        ["04/01/2024", "Durand Anne", "-55", "CB"],
    ]
    import_paths(ws, [write_ledger(tmp_path / "r.csv", refunded)], fmt="ledger")
    tables = stored(ws)
    invoices = {i["status"]: i for i in tables["invoices"].to_pylist()}
    assert set(invoices) == {"cancelled", "credit_note"}
    numbers = {i["invoice_number"] for i in invoices.values()}
    assert all(GENERATED.fullmatch(n) for n in numbers)
    assert (
        invoices["credit_note"]["cancels_invoice_number"] == invoices["cancelled"]["invoice_number"]
    )
    for p in tables["payments"].to_pylist():
        assert p["invoice_number"] in numbers and p["payment_id"] == f"{p['invoice_number']}/1"


def test_numbers_are_keyed_by_the_workspace(tmp_path: Path) -> None:
    """Another workspace (another pseudonym key) numbers the same receipts differently."""
    path = write_ledger(tmp_path / "l.csv", FIRST)
    numbers = []
    for name in ("a", "b"):
        workspace.init_workspace(tmp_path / name, PASSPHRASE, work_factor=10)
        workspace.forget_unlocked()
        ws = workspace.Workspace(tmp_path / name).unlock(PASSPHRASE)
        import_paths(ws, [path], fmt="ledger")
        numbers.append(set(stored(ws)["invoices"].column("invoice_number").to_pylist()))
    assert len(numbers[0]) == 2 and not numbers[0] & numbers[1]


# --- generic sheets --------------------------------------------------------------------

MAPPING = visit_mapping("birth_date", "invoice_number")
SHEET_HEADER = ["Date", "Heure", "Nom", "Prénom", "Montant", "Règlement"]  # no numbers
VISITS = [
    ["15/03/2024", "09:00", "DUPONT", "Marie", "55,00", "CB"],
    ["15/03/2024", "10:00", "MARTIN", "Éloïse", "60,00", "Chèque"],
    ["15/03/2024", "11:00", "DUPONT", "Marie", "55,00", "CB"],  # a second visit that day
    ["16/03/2024", "09:00", "LEROY", "Ana", "50,00", "Espèces"],
]


def test_generic_sheets_without_numbers(blank_workspace: Path, tmp_path: Path) -> None:
    ws = copy_workspace(blank_workspace, tmp_path / "ws")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")

    def load(name: str, rows: list[list[str]]) -> ImportResult:
        path = write_ledger(tmp_path / name, rows, SHEET_HEADER)
        return import_paths(ws, [path], fmt="generic", mapping=mapping)

    # two exports of different visits on the same day: both kept
    assert counts(load("a.csv", [VISITS[0]])) == [(1, 1, 0, 0)]
    assert counts(load("b.csv", [VISITS[1]])) == [(1, 1, 0, 0)]
    assert encaisse(ws) == Decimal("115.00")
    # re-import changes nothing; an overlapping export adds only the new visits
    assert load("a.csv", [VISITS[0]]).changed is False
    assert counts(load("all.csv", VISITS)) == [(4, 2, 2, 0)]
    assert encaisse(ws) == Decimal("220.00")
    numbers = stored(ws)["invoices"].column("invoice_number").to_pylist()
    assert len(set(numbers)) == 4 and all(GENERATED.fullmatch(n) for n in numbers)
    # a visit exported unpaid, then paid: the same invoice, updated and counted
    unpaid = ["17/03/2024", "09:00", "LEROY", "Ana", "50,00", ""]
    assert counts(load("d.csv", [unpaid])) == [(1, 1, 0, 0)]
    assert counts(load("e.csv", [[*unpaid[:5], "CB"]])) == [(1, 1, 0, 1)]
    invoices = stored(ws)["invoices"].to_pylist()
    assert len(invoices) == 5 and all(i["status"] == "paid" for i in invoices)
    assert encaisse(ws) == Decimal("270.00")


# --- Word files ------------------------------------------------------------------------


def word_file(path: Path, heading: str, *lines: str) -> Path:
    doc = Document()
    doc.add_heading(heading, level=1)
    for line in lines:
        doc.add_paragraph(line)
    doc.save(str(path))
    return path


def test_word_files_without_numbers(blank_workspace: Path, tmp_path: Path) -> None:
    ws = copy_workspace(blank_workspace, tmp_path / "ws")
    one, two, folder = tmp_path / "un", tmp_path / "deux", tmp_path / "dossier"
    for f in (one, two, folder):
        f.mkdir()
    marie = ("DUPONT Marie – née le 03/04/1981", "15/03/2024 lombalgie. Tarif : 55 € réglé CB")
    jean = ("MARTIN Jean (01/02/1990)", "15/03/2024 bilan. Tarif : 60 € réglé chèque")
    word_file(one / "DUPONT Marie.docx", *marie)
    word_file(two / "MARTIN Jean.docx", *jean)
    # each file alone, the same day: two invoices
    assert counts(import_paths(ws, [one], fmt="docx")) == [(2, 2, 0, 0)]
    assert counts(import_paths(ws, [two], fmt="docx")) == [(2, 2, 0, 0)]
    assert encaisse(ws) == Decimal("115.00")
    # the whole folder, later, with a new visit: only the new visit is added
    word_file(folder / "DUPONT Marie.docx", *marie, "20/03/2024 suivi. Tarif : 50 € non réglé")
    word_file(folder / "MARTIN Jean.docx", *jean)
    result = import_paths(ws, [folder], fmt="docx")
    assert counts(result) == [(3, 1, 2, 0), (2, 0, 2, 0)]
    # the new visit paid since: the same invoice, now paid, and a conflict reported
    word_file(folder / "DUPONT Marie.docx", *marie, "20/03/2024 suivi. Tarif : 50 € réglé espèces")
    result = import_paths(ws, [folder], fmt="docx")
    assert counts(result) == [(3, 1, 2, 1), (2, 0, 2, 0)]
    invoices = stored(ws)["invoices"].to_pylist()
    assert len(invoices) == 3 and all(GENERATED.fullmatch(i["invoice_number"]) for i in invoices)
    assert {i["status"] for i in invoices} == {"paid"}
    assert encaisse(ws) == Decimal("165.00")


# --- property: any imports of any subsets, in any order --------------------------------

PROPERTY_HEADER = ["Date", "Patient", "Montant", "Mode de règlement", "Praticien"]
# Distinct receipts, several differing from the first by one field only.
POOL = [
    ["02/01/2024", "MARTIN Paul", "60,00", "CB", "Marie Martin"],
    ["02/01/2024", "MARTIN Paul", "60,00", "Chèque", "Marie Martin"],  # means
    ["02/01/2024", "MARTIN Paul", "55,00", "CB", "Marie Martin"],  # amount
    ["02/01/2024", "MARTIN Paul", "60,00", "CB", "Paul Petit"],  # practitioner
    ["03/01/2024", "MARTIN Paul", "60,00", "CB", "Marie Martin"],  # day
    ["02/01/2024", "DURAND Anne", "60,00", "CB", "Marie Martin"],  # patient
    ["02/01/2024", "BERNARD Luc", "70,00", "Espèces", "Marie Martin"],
    ["03/01/2024", "PETIT Eve", "65,00", "Virement", "Paul Petit"],
    ["04/01/2024", "DURAND Anne", "-60,00", "CB", "Marie Martin"],  # a refund
]
AMOUNTS = [Decimal(r[2].replace(",", ".")) for r in POOL]

# Each import is a file of some receipts of the pool, in some order.
files = st.lists(st.sampled_from(range(len(POOL))), min_size=1, max_size=len(POOL), unique=True)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(imports=st.lists(files, min_size=1, max_size=4))
def test_any_imports_of_any_subsets_keep_each_distinct_receipt_once(
    blank_workspace: Path, tmp_path: Path, imports: list[list[int]]
) -> None:
    run = tmp_path / f"run-{len(list(tmp_path.iterdir()))}"
    ws = copy_workspace(blank_workspace, run / "ws")
    for n, rows in enumerate(imports):
        path = write_ledger(run / f"{n}.csv", [POOL[i] for i in rows], PROPERTY_HEADER)
        import_paths(ws, [path], fmt="ledger")
    union = set().union(*imports)
    assert encaisse(ws) == sum((AMOUNTS[i] for i in union), Decimal(0))
    assert stored(ws)["invoices"].num_rows == len(union)

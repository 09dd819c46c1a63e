"""The metric library against hand-computed values, the LibreOsteo sample and the generator.

Three references, each where it is strongest:
- a hand-made practice of 30 rows (below) whose every expected value is written by hand:
  a cancelled-and-replaced invoice, a credit note, an unpaid invoice, a minor, a no-show,
  a payment split in two, an orphan payment, a visit 20 years ago;
- the LibreOsteo sample's own ground_truth.json, where its definitions are ours;
- `osteo synth`'s libreosteo/ground_truth.json (headline schema) for three seeds.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from osteo_analytics import ingest, metrics, snapshots, workspace
from osteo_analytics.warehouse import (
    Warehouse,
    metric_names,
    metric_sql,
    open_warehouse,
    shared_sql,
)
from tests.conftest import PASSPHRASE, PRACTICE, ROOT, by_method

D = dt.date
E = Decimal
DEC = pa.decimal128(12, 2)

# --- the hand-made practice (30 rows) ----------------------------------------------------

A, B = "PR-AAAAAAAAAAAAAAAA", "PR-BBBBBBBBBBBBBBBB"
ADULT, MINOR, ELDER, OLD = "P-ADULT", "P-MINOR", "P-ELDER", "P-OLD"

PRACTITIONERS = pa.table(
    {
        "practitioner_id": [A, B],
        "display_name": ["Anne Titulaire", "Bruno Remplaçant"],
        "role": ["titular", "replacement"],
    }
)
PATIENTS = pa.table(
    {
        "patient_key": [ADULT, MINOR, ELDER, OLD],
        "sex": ["F", "M", None, "M"],
        "birth_year": pa.array([1980, 2022, 1950, 1940], pa.int32()),
        "departement": ["35", "29", "75", "35"],
        "registered_on": [D(2024, 12, 2), D(2024, 12, 10), D(2025, 1, 6), D(2000, 3, 1)],
        "source": ["synthetic"] * 4,
    }
)
# id, patient, practitioner, day, time, status, type, motif
_CONSULTATIONS = [
    ("C-1", ADULT, A, D(2024, 12, 2), dt.time(9), "done", "first", "low_back"),
    ("C-2", MINOR, A, D(2024, 12, 10), dt.time(10), "done", "first", "infant_child"),
    ("C-3", ADULT, A, D(2024, 12, 20), dt.time(14), "no_show", "follow_up", None),
    ("C-4", ADULT, A, D(2025, 1, 6), dt.time(9, 30), "done", "follow_up", "low_back"),
    ("C-5", ELDER, B, D(2025, 1, 6), dt.time(11), "done", "first", "neck"),
    ("C-6", MINOR, A, D(2025, 1, 13), dt.time(10), "cancelled", "follow_up", None),
    ("C-7", ELDER, B, D(2025, 2, 3), dt.time(16), "done", "urgent", "neck"),
    ("C-8", OLD, A, D(2004, 5, 10), dt.time(9), "done", "first", None),
]
# number, consultation, patient, practitioner, issued, amount, status, replaces, cancels
_INVOICES = [
    ("24001", "C-1", ADULT, A, D(2024, 12, 2), "55.00", "paid", None, None),
    ("24002", "C-2", MINOR, A, D(2024, 12, 10), "60.00", "cancelled", None, None),
    ("24003", "C-2", MINOR, A, D(2024, 12, 12), "50.00", "paid", "24002", None),
    # issued the day after 25002 although numbered before it: backdated
    ("25001", "C-4", ADULT, A, D(2025, 1, 7), "55.00", "cancelled", None, None),
    ("25002", "C-5", ELDER, B, D(2025, 1, 6), "70.00", "paid", None, None),
    ("25003", "C-4", ADULT, A, D(2025, 1, 8), "-55.00", "credit_note", None, "25001"),
    # 25004 is missing: a gap
    ("25005", "C-7", ELDER, B, D(2025, 2, 3), "80.00", "issued", None, None),
    ("04001", "C-8", OLD, A, D(2004, 5, 10), "40.00", "paid", None, None),
]
# payment id, day, amount, method
_PAYMENTS = [
    ("24001/1", D(2024, 12, 2), "55.00", "cb"),
    ("24003/1", D(2024, 12, 12), "50.00", "cheque"),
    ("25001/1", D(2025, 1, 7), "55.00", "especes"),
    ("25003/1", D(2025, 1, 8), "-55.00", "especes"),  # the credit note's refund
    ("25002/1", D(2025, 1, 6), "30.00", "cb"),  # split payment, first part
    ("25002/2", D(2025, 2, 10), "40.00", "virement"),  # ... and the rest
    ("04001/1", D(2004, 5, 10), "40.00", "especes"),
    ("23999/1", D(2025, 2, 14), "20.00", "autre"),  # no such invoice
]


# Each hand-made table's columns in the order of its row tuples, as name:kind (see KINDS;
# no kind: the type pyarrow infers). Every table also gets source = 'synthetic'.
COLUMNS = {
    "consultations": "consultation_id patient_key practitioner_id consulted_on:date"
    " start_time:time status consultation_type motif_category:text",
    "invoices": "invoice_number consultation_id patient_key practitioner_id issued_on:date"
    " amount:money status replaces_invoice_number:text cancels_invoice_number:text",
    "payments": "payment_id paid_on:date amount:money method",
}
KINDS = {"date": pa.date32(), "time": pa.time64("us"), "text": pa.string(), "money": DEC}


def _table(name: str, rows: list[tuple[Any, ...]]) -> pa.Table:
    """Table `name` of the hand-made practice from its row tuples."""
    arrays: dict[str, Any] = {}
    for column, values in zip(COLUMNS[name].split(), zip(*rows, strict=True), strict=True):
        field, _, kind = column.partition(":")
        cells = [E(v) for v in values] if kind == "money" else values
        arrays[field] = pa.array(cells, KINDS.get(kind))
    if name == "payments":  # a payment's id is its invoice's number, '/', its rank
        ids = arrays.pop("payment_id").to_pylist()
        arrays = {"payment_id": ids, "invoice_number": [i.split("/")[0] for i in ids], **arrays}
    return pa.table({**arrays, "source": ["synthetic"] * len(rows)})


def practice_tables(
    consultations: list[tuple[Any, ...]],
    invoices: list[tuple[Any, ...]],
    payments: list[tuple[Any, ...]],
    patients: pa.Table = PATIENTS,
) -> dict[str, pa.Table]:
    """A hand-made practice's canonical tables from its row tuples."""
    return {
        "practitioners": PRACTITIONERS,
        "patients": patients,
        "consultations": _table("consultations", consultations),
        "invoices": _table("invoices", invoices),
        "payments": _table("payments", payments),
    }


def hand_tables() -> dict[str, pa.Table]:
    """The hand-made practice as canonical tables (at most 30 rows in all)."""
    return practice_tables(_CONSULTATIONS, _INVOICES, _PAYMENTS)


def workspace_with(root: Path, tables: dict[str, pa.Table]) -> workspace.Unlocked:
    """A workspace whose current snapshot holds `tables`, written as in production."""
    unlocked = workspace.init_workspace(root, PASSPHRASE, work_factor=10).unlocked
    snapshots.write_snapshot(unlocked.workspace.snapshots_dir, tables, unlocked.recipients())
    return unlocked


def hand_workspace(root: Path) -> workspace.Unlocked:
    """A workspace whose current snapshot is the hand-made practice."""
    return workspace_with(root, hand_tables())


def _warehouse(unlocked: workspace.Unlocked) -> Iterator[Warehouse]:
    with open_warehouse(unlocked) as wh:
        yield wh


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    yield from _warehouse(hand_workspace(tmp_path_factory.mktemp("hand") / "ws"))


DEC_1, FEB_28 = D(2024, 12, 1), D(2025, 2, 28)


def records(frame: Any) -> list[dict[str, Any]]:
    """Rows as dicts, pandas' missing values (NaN for text) as None."""
    return [
        {k: None if v is None or (isinstance(v, float) and v != v) else v for k, v in r.items()}
        for r in frame.to_dict("records")
    ]


def columns(frame: Any, names: str) -> list[tuple[Any, ...]]:
    """Each row's values of the columns `names` (separated by spaces); see records."""
    return [tuple(r[n] for n in names.split()) for r in records(frame)]


def aging_rows(owed: dict[str, tuple[int, Decimal]]) -> list[tuple[Any, ...]]:
    """unpaid_aging's (bucket, invoices, due) rows: `owed` per bucket, nothing elsewhere."""
    buckets = ("0-30", "31-60", "61-90", ">90")
    return [(b, *owed.get(b, (0, E("0.00")))) for b in buckets]


def test_the_fixture_has_at_most_30_rows() -> None:
    assert sum(t.num_rows for t in hand_tables().values()) <= 30


# A headline document's figures in DESIGN.md order: a month's, then the totals' (no
# active_patients there, distinct_patients last). received_by_method is given apart.
MONTH_FIGURES = [
    "consultations_done",
    "consultations_cancelled",
    "consultations_no_show",
    "new_patients",
    "active_patients",
    "revenue_invoiced",
    "revenue_received",
    "unpaid_invoices",
    "unpaid_amount",
]
TOTAL_FIGURES = [f for f in MONTH_FIGURES if f != "active_patients"] + ["distinct_patients"]


def headline_document(
    period: tuple[str, str],
    months: dict[str, tuple[Any, ...]],
    totals: tuple[Any, ...],
    received: dict[str, dict[str, str]],
) -> dict[str, Any]:
    """The headline document from a row of figures per month and one of totals, and the
    methods that received money, per month and in "totals"."""

    def figures(names: list[str], row: tuple[Any, ...], key: str) -> dict[str, Any]:
        received_by_method = by_method(**received.get(key, {}))
        return {**dict(zip(names, row, strict=True)), "received_by_method": received_by_method}

    return {
        "from": period[0],
        "to": period[1],
        "months": [{"month": m, **figures(MONTH_FIGURES, r, m)} for m, r in months.items()],
        "totals": figures(TOTAL_FIGURES, totals, "totals"),
    }


# December invoiced: 24001 + replacement 24003, not 24002. January: the adult came in
# December, not new; invoiced: 25001 cancelled, 25003 credit note; received: 30 (split)
# + 55 - 55 (refunded); 25002: 30 + 40 by 28 February, not unpaid.
HAND_HEADLINE = headline_document(
    ("2024-12-01", "2025-02-28"),
    {  # done, cancelled, no show, new, active, invoiced, received, unpaid, due
        "2024-12": (2, 0, 1, 2, 2, "105.00", "105.00", 0, "0.00"),
        "2025-01": (2, 1, 0, 1, 2, "70.00", "30.00", 0, "0.00"),
        "2025-02": (1, 0, 0, 0, 1, "80.00", "60.00", 1, "80.00"),
    },
    (5, 1, 1, 3, "255.00", "195.00", 1, "80.00", 3),
    {
        "2024-12": {"cb": "55.00", "cheque": "50.00"},
        "2025-01": {"cb": "30.00"},
        "2025-02": {"virement": "40.00", "autre": "20.00"},
        "totals": {"cb": "85.00", "cheque": "50.00", "virement": "40.00", "autre": "20.00"},
    },
)


def test_unpaid_is_measured_on_the_to_date_after_partial_payments(hand: Warehouse) -> None:
    january = metrics.headline(hand, DEC_1, D(2025, 1, 31))["months"][1]
    assert (january["unpaid_invoices"], january["unpaid_amount"]) == (1, "40.00")
    unpaid = records(metrics.unpaid_invoices(hand, DEC_1, D(2025, 1, 31)))
    assert [
        (u["invoice_number"], u["received"], u["due"], u["age_days"], u["bucket"]) for u in unpaid
    ] == [("25002", E("30.00"), E("40.00"), 25, "0-30")]


def test_revenue_on_each_basis(hand: Warehouse) -> None:
    facture = metrics.revenue(hand, DEC_1, FEB_28, basis="facture")
    assert list(facture["amount"]) == [E("105.00"), E("70.00"), E("80.00")]
    assert set(facture["basis"]) == {"facture"}
    yearly = metrics.revenue(hand, D(2024, 1, 1), D(2025, 12, 31), grain="year")
    assert [(r["period_start"], r["amount"], r["items"]) for r in records(yearly)] == [
        (D(2024, 1, 1), E("105.00"), 2),
        (D(2025, 1, 1), E("90.00"), 5),
    ]
    weekly = metrics.revenue(hand, D(2025, 1, 6), D(2025, 1, 19), grain="week")
    assert [(r["period_start"], r["amount"]) for r in records(weekly)] == [
        (D(2025, 1, 6), E("30.00")),
        (D(2025, 1, 13), E("0.00")),
    ]
    daily = metrics.revenue(hand, D(2025, 1, 6), D(2025, 1, 8), grain="day")
    assert list(daily["amount"]) == [E("30.00"), E("55.00"), E("-55.00")]


def test_revenue_year_over_year(hand: Warehouse) -> None:
    yoy = records(metrics.revenue_yoy(hand, D(2025, 1, 1), D(2025, 1, 31), basis="facture"))
    assert yoy == [
        {
            "basis": "facture",
            "month": D(2025, 1, 1),
            "amount": E("70.00"),
            "amount_previous_year": E("0.00"),
            "change": E("70.00"),
            "change_pct": None,
        }
    ]
    dec = records(metrics.revenue_yoy(hand, D(2024, 12, 1), D(2024, 12, 31)))[0]
    assert (dec["amount"], dec["amount_previous_year"]) == (E("105.00"), E("0.00"))


def test_revenue_by_method_practitioner_and_act_type(hand: Warehouse) -> None:
    by_method = records(metrics.revenue_by_method(hand, DEC_1, FEB_28))
    assert [(m["method"], m["amount"], m["payments"], m["refunds"]) for m in by_method] == [
        ("cb", E("85.00"), 2, 0),
        ("cheque", E("50.00"), 1, 0),
        ("especes", E("0.00"), 1, 1),
        ("virement", E("40.00"), 1, 0),
        ("autre", E("20.00"), 1, 0),
    ]
    facture = records(metrics.revenue_by_practitioner(hand, DEC_1, FEB_28, basis="facture"))
    assert [(p["practitioner_id"], p["amount"], p["items"]) for p in facture] == [
        (B, E("150.00"), 2),
        (A, E("105.00"), 2),
    ]
    encaisse = records(metrics.revenue_by_practitioner(hand, DEC_1, FEB_28))
    assert [(p["practitioner_id"], p["amount"], p["items"]) for p in encaisse] == [
        (A, E("105.00"), 4),
        (B, E("70.00"), 2),
        (None, E("20.00"), 1),  # the payment whose invoice is unknown
    ]
    acts = {
        r["consultation_type"]: (r["amount"], r["items"])
        for r in records(metrics.revenue_by_act_type(hand, DEC_1, FEB_28, basis="facture"))
    }
    assert acts["first"] == (E("175.00"), 3) and acts["urgent"] == (E("80.00"), 1)
    assert acts["follow_up"] == (E("0.00"), 0) and acts["unknown"] == (E("0.00"), 0)
    paid = {
        r["consultation_type"]: (r["amount"], r["items"])
        for r in records(metrics.revenue_by_act_type(hand, DEC_1, FEB_28))
    }
    assert paid["first"] == (E("175.00"), 4)
    assert paid["follow_up"] == (E("0.00"), 2)  # paid 55, refunded 55
    assert paid["unknown"] == (E("20.00"), 1)


def test_average_fee_aging_and_cancellations(hand: Warehouse) -> None:
    fees = records(metrics.average_fee(hand, DEC_1, FEB_28))
    assert [(f["invoices"], f["average_fee"]) for f in fees] == [
        (2, E("52.50")),
        (1, E("70.00")),
        (1, E("80.00")),
    ]
    aging = metrics.unpaid_aging(hand, DEC_1, FEB_28)
    assert columns(aging, "bucket invoices due") == aging_rows({"0-30": (1, E("80.00"))})
    # 3 February -> 10 May: 96 days
    later = records(metrics.unpaid_aging(hand, DEC_1, D(2025, 5, 10)))
    assert [(a["bucket"], a["invoices"]) for a in later] == [
        ("0-30", 0),
        ("31-60", 0),
        ("61-90", 0),
        (">90", 1),
    ]
    cancellations = metrics.cancellations(hand, DEC_1, FEB_28)
    assert columns(
        cancellations,
        "cancelled_invoices cancelled_amount credit_notes credit_notes_amount"
        " replacement_invoices replacement_amount",
    ) == [
        (1, E("60.00"), 0, E("0.00"), 1, E("50.00")),
        (1, E("55.00"), 1, E("-55.00"), 0, E("0.00")),
        (0, E("0.00"), 0, E("0.00"), 0, E("0.00")),
    ]


def test_activity_by_hand(hand: Warehouse) -> None:
    status = records(metrics.consultations_by_status(hand, DEC_1, FEB_28))
    assert [(s["done"], s["cancelled"], s["no_show"], s["appointments"]) for s in status] == [
        (2, 0, 1, 3),
        (2, 1, 0, 3),
        (1, 0, 0, 1),
    ]
    assert list(metrics.new_patients(hand, DEC_1, FEB_28)["new_patients"]) == [2, 1, 0]
    registered = metrics.new_patients_registered(hand, DEC_1, FEB_28)
    assert list(registered["new_patients"]) == [2, 1, 0]
    active = records(metrics.active_patients(hand, DEC_1, FEB_28))
    assert [(a["active_patients"], a["consultations"]) for a in active] == [(2, 2), (2, 2), (1, 1)]
    visits = records(metrics.visits_per_patient(hand, DEC_1, FEB_28))
    assert visits == [{"visits": 1, "patients": 1}, {"visits": 2, "patients": 2}]
    types = records(metrics.consultations_by_type(hand, DEC_1, FEB_28))
    assert [(t["first"], t["follow_up"], t["return"], t["urgent"]) for t in types] == [
        (2, 0, 0, 0),
        (1, 1, 0, 0),
        (0, 0, 0, 1),
    ]


def test_return_rate_counts_only_fully_observed_windows(hand: Warehouse) -> None:
    # Last consultation in the data: 3 February 2025. With 40 days, the December visits
    # are observed; the adult came back after 35 days, the minor never (C-6 was cancelled).
    rate = records(metrics.return_rate(hand, DEC_1, FEB_28, within_days=40))
    assert [(r["visits"], r["observed"], r["returned"], r["return_rate_pct"]) for r in rate] == [
        (2, 2, 1, E("50.0")),
        (2, 0, 0, None),
        (1, 0, 0, None),
    ]
    shorter = records(metrics.return_rate(hand, DEC_1, D(2024, 12, 31), within_days=30))
    assert (shorter[0]["observed"], shorter[0]["returned"]) == (2, 0)  # 35 days > 30


def test_age_at_the_visit_sex_departement_motif_and_hours(hand: Warehouse) -> None:
    grid = records(metrics.age_sex(hand, DEC_1, FEB_28))
    assert len(grid) == 9 * 3
    filled = {(g["age_band"], g["sex"]): (g["consultations"], g["patients"]) for g in grid}
    nonzero = {k: v for k, v in filled.items() if v != (0, 0)}
    assert nonzero == {
        ("0-2", "M"): (1, 1),  # born 2022, seen in 2024
        ("30-44", "F"): (1, 1),  # born 1980, 44 in December 2024 ...
        ("45-59", "F"): (1, 1),  # ... 45 in January 2025: age at the visit
        ("75+", "unknown"): (2, 1),  # sex not recorded
    }
    deps = records(metrics.departement(hand, DEC_1, FEB_28))
    assert {d["departement"]: (d["patients"], d["consultations"]) for d in deps} == {
        "35": (1, 2),
        "29": (1, 1),
        "75": (1, 2),
    }
    motifs = records(metrics.motif_category(hand, DEC_1, FEB_28))
    assert {m["motif_category"]: m["consultations"] for m in motifs} == {
        "low_back": 2,
        "neck": 2,
        "infant_child": 1,
    }
    hours = records(metrics.weekday_hour(hand, DEC_1, FEB_28))
    assert [(h["weekday"], h["hour"], h["consultations"]) for h in hours] == [
        (1, 9, 2),
        (1, 11, 1),
        (1, 16, 1),
        (2, 10, 1),
    ]


def test_consultations_per_working_day_skip_french_public_holidays(hand: Warehouse) -> None:
    days = records(metrics.consultations_per_working_day(hand, DEC_1, FEB_28))
    # December 2024: 22 weekdays minus Christmas; January 2025: 23 minus New Year's Day.
    assert [
        (d["consultations"], d["working_days"], d["per_working_day"], d["days_worked"])
        for d in days
    ] == [(2, 21, E("0.10"), 2), (2, 22, E("0.09"), 1), (1, 20, E("0.05"), 1)]


def test_livre_journal(hand: Warehouse) -> None:
    journal = records(metrics.livre_journal(hand, DEC_1, FEB_28))
    assert [
        (j["paid_on"], j["invoice_number"], j["patient_key"], j["amount"], j["method"])
        for j in journal
    ] == [
        (D(2024, 12, 2), "24001", ADULT, E("55.00"), "cb"),
        (D(2024, 12, 12), "24003", MINOR, E("50.00"), "cheque"),
        (D(2025, 1, 6), "25002", ELDER, E("30.00"), "cb"),
        (D(2025, 1, 7), "25001", ADULT, E("55.00"), "especes"),
        (D(2025, 1, 8), "25003", ADULT, E("-55.00"), "especes"),
        (D(2025, 2, 10), "25002", ELDER, E("40.00"), "virement"),
        (D(2025, 2, 14), "23999", None, E("20.00"), "autre"),
    ]
    assert [j["running_total"] for j in journal] == [
        E(x) for x in ("55.00", "105.00", "135.00", "190.00", "135.00", "175.00", "195.00")
    ]
    assert [j["day_total"] for j in journal][:3] == [E("55.00"), E("50.00"), E("30.00")]


def test_invoice_numbering_by_hand(hand: Warehouse) -> None:
    anomalies = records(metrics.invoice_numbering(hand))
    assert [
        (a["anomaly"], a["invoice_number"], a["related_number"], a["missing"]) for a in anomalies
    ] == [
        ("backdated", "25001", "25002", None),  # issued 7 Jan, after 25002 of 6 Jan
        ("gap", "25005", "25003", 1),  # 25004 missing
    ]


def test_invoice_numbering_duplicates_and_prefixes() -> None:
    """The SQL alone, on a plain DuckDB table: prefixes, zero padding, yearly restarts."""
    con = duckdb.connect()
    con.execute(
        """
        CREATE TABLE invoices AS SELECT *, 'PR-A' AS practitioner_id FROM (VALUES
            ('F-0011', DATE '2024-03-01'), ('F-0012', DATE '2024-03-02'),
            ('F-12', DATE '2024-03-03'), ('F-0013', DATE '2024-03-04'),
            ('F-0001', DATE '2025-01-02'), ('L-20250102-001', DATE '2025-01-02'),
            ('SANS-NUMERO', DATE '2025-01-03')
        ) AS t(invoice_number, issued_on)
        """
    )
    # The shared macros the file calls (the others read the warehouse's views).
    called = ("in_period(", "all_practitioners(", "for_practitioners(")
    for statement in con.extract_statements(shared_sql()):
        if any(f"CREATE MACRO {name}" in statement.query for name in called):
            con.execute(statement.query)
    rows = con.execute(
        metric_sql("invoice_numbering").sql,
        {"date_from": D(2024, 1, 1), "date_to": D(2025, 12, 31), "practitioners": None},
    ).fetchall()
    # The restart at F-0001 in 2025 is no gap, L-... is its own series, SANS-NUMERO is not
    # checked, and `F-12` (a day after `F-0012`, same sequence) is only a duplicate.
    assert [(r[0], r[3], r[5]) for r in rows] == [("duplicate", "F-12", "F-0012")]


def test_reconciliation_by_hand(hand: Warehouse) -> None:
    end_feb = records(metrics.reconciliation(hand, DEC_1, FEB_28))
    assert [(r["kind"], r["invoice_number"], r["difference"]) for r in end_feb] == [
        ("payment_without_invoice", "23999", E("20.00")),
    ]
    end_jan = records(metrics.reconciliation(hand, DEC_1, D(2025, 1, 31)))
    assert [(r["kind"], r["invoice_number"], r["difference"]) for r in end_jan] == [
        ("underpaid", "25002", E("-40.00")),  # marked paid, 30 of 70 received by then
    ]


def test_tax_2035_and_micro_bnc(hand: Warehouse) -> None:
    years = records(metrics.tax_2035(hand, D(2024, 1, 1), D(2025, 12, 31)))
    assert [
        (y["year"], y["receipts"], y["refunds"], y["net_receipts"], y["payments"]) for y in years
    ] == [
        (2024, E("105.00"), E("0.00"), E("105.00"), 2),
        (2025, E("145.00"), E("-55.00"), E("90.00"), 4),
    ]
    bnc = records(metrics.micro_bnc(hand, DEC_1, FEB_28))
    assert [(b["received"], b["year_to_date"], b["threshold"], b["remaining"]) for b in bnc] == [
        (E("105.00"), E("105.00"), E("77700.00"), E("77595.00")),
        (E("30.00"), E("30.00"), E("77700.00"), E("77670.00")),
        (E("60.00"), E("90.00"), E("77700.00"), E("77610.00")),
    ]
    assert not any(b["exceeded"] for b in bnc)


def test_fec_rows(hand: Warehouse) -> None:
    rows = records(metrics.fec(hand, D(2025, 1, 7), D(2025, 1, 8)))
    assert list(rows[0]) == [
        "JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib",
        "CompAuxNum", "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit",
        "EcritureLet", "DateLet", "ValidDate", "Montantdevise", "Idevise",
        "DateRglt", "ModeRglt", "NatOp", "IdClient",
    ]  # fmt: skip
    assert [
        (
            r["EcritureNum"],
            r["EcritureDate"],
            r["CompteNum"],
            r["PieceRef"],
            r["Debit"],
            r["Credit"],
        )
        for r in rows
    ] == [
        ("RE000001", D(2025, 1, 7), "530000", "25001", E("55.00"), E("0.00")),
        ("RE000001", D(2025, 1, 7), "706000", "25001", E("0.00"), E("55.00")),
        ("RE000002", D(2025, 1, 8), "530000", "25003", E("0.00"), E("55.00")),  # refund
        ("RE000002", D(2025, 1, 8), "706000", "25003", E("55.00"), E("0.00")),
    ]
    # The settlement fields of a BNC on a cash basis (art. A47 A-1 LPF, II).
    assert [(r["DateRglt"], r["ModeRglt"], r["NatOp"]) for r in rows] == [
        (D(2025, 1, 7), "especes", "Honoraires"),
        (D(2025, 1, 7), "especes", "Honoraires"),
        (D(2025, 1, 8), "especes", "Remboursement d'honoraires"),
        (D(2025, 1, 8), "especes", "Remboursement d'honoraires"),
    ]
    assert {r["IdClient"] for r in rows} == {ADULT}  # the patient's pseudonym, never a name
    everything = metrics.fec(hand)
    # receipts 40 + 55 + 50 + 55 + 30 + 40 + 20 = 290, plus the 55 refund on the other side
    assert everything["Debit"].sum() == everything["Credit"].sum() == E("345.00")


def test_retention_by_hand(hand: Warehouse) -> None:
    due = records(metrics.retention(hand, D(2025, 6, 30)))
    assert due == [
        {
            "patient_key": OLD,
            "birth_year": 1940,
            "last_visit_on": D(2004, 5, 10),
            "keep_until": D(2024, 5, 10),
            "rule": "after_last_visit",
            "days_overdue": 416,
        }
    ]
    later = {r["patient_key"]: r for r in records(metrics.retention(hand, D(2051, 1, 1)))}
    assert set(later) == {OLD, ADULT, MINOR, ELDER}
    # Seen at 2: twenty years after the last visit (2044) come before the 28th birthday.
    assert (later[MINOR]["keep_until"], later[MINOR]["rule"]) == (D(2050, 12, 31), "minor_age")
    assert later[ELDER]["keep_until"] == D(2045, 2, 3)


def test_money_is_decimal_never_float(hand: Warehouse) -> None:
    frame = metrics.revenue(hand, DEC_1, FEB_28)
    assert all(isinstance(v, Decimal) for v in frame["amount"])
    journal = metrics.livre_journal(hand, DEC_1, FEB_28)
    assert all(isinstance(v, Decimal) for v in journal["amount"])


def test_bad_parameters_are_refused_with_a_clear_error(hand: Warehouse) -> None:
    from osteo_analytics.errors import UsageError

    with pytest.raises(UsageError, match="grain"):
        metrics.revenue(hand, grain="fortnight")
    with pytest.raises(UsageError, match="base"):
        metrics.revenue(hand, basis="both")
    with pytest.raises(UsageError, match="période vide"):
        metrics.revenue(hand, FEB_28, DEC_1)
    with pytest.raises(UsageError, match="inconnu"):
        metrics.run(hand, "revenue", grains="month")
    with pytest.raises(UsageError, match="inconnue"):
        metrics.run(hand, "../warehouse")


# --- partial credit notes: a second hand-made practice ------------------------------------

P1, P2, P3 = "P-ONE", "P-TWO", "P-THREE"
JAN_1 = D(2025, 1, 1)
# January: three visits invoiced; February: a fourth, a full cancellation and three partial
# credit notes (one on an unpaid invoice, one refunded under its own number, one refunded
# under its invoice's number).
PARTIAL_CONSULTATIONS = [
    ("C-1", P1, A, D(2025, 1, 10), dt.time(9), "done", "first", "low_back"),
    ("C-2", P2, A, D(2025, 1, 15), dt.time(10), "done", "follow_up", "neck"),
    ("C-3", P3, A, D(2025, 1, 20), dt.time(11), "done", "urgent", "neck"),
    ("C-4", P1, A, D(2025, 2, 17), dt.time(9), "done", "follow_up", "low_back"),
]
PARTIAL_INVOICES = [
    ("25001", "C-1", P1, A, D(2025, 1, 10), "60.00", "paid", None, None),
    ("25002", "C-2", P2, A, D(2025, 1, 15), "80.00", "issued", None, None),
    ("25003", "C-3", P3, A, D(2025, 1, 20), "50.00", "cancelled", None, None),
    ("25004", "C-3", P3, A, D(2025, 2, 3), "-50.00", "credit_note", None, "25003"),  # full
    ("25005", "C-2", P2, A, D(2025, 2, 5), "-20.00", "credit_note", None, "25002"),  # partial
    ("25006", "C-1", P1, A, D(2025, 2, 12), "-15.00", "credit_note", None, "25001"),  # partial
    ("25007", "C-4", P1, A, D(2025, 2, 17), "70.00", "paid", None, None),
    ("25008", "C-4", P1, A, D(2025, 2, 20), "-10.00", "credit_note", None, "25007"),  # partial
]
PARTIAL_PAYMENTS = [
    ("25001/1", D(2025, 1, 10), "60.00", "cb"),
    ("25003/1", D(2025, 1, 20), "50.00", "cheque"),
    ("25004/1", D(2025, 2, 3), "-50.00", "cheque"),  # the full cancellation's refund
    ("25006/1", D(2025, 2, 12), "-15.00", "cb"),  # refund booked on the credit note
    ("25007/1", D(2025, 2, 17), "70.00", "cb"),
    ("25007/2", D(2025, 2, 20), "-10.00", "especes"),  # refund booked on the invoice
]


def partial_tables() -> dict[str, pa.Table]:
    """The practice with partial credit notes as canonical tables."""
    patients = PATIENTS.slice(0, 3).set_column(0, "patient_key", pa.array([P1, P2, P3]))
    return practice_tables(PARTIAL_CONSULTATIONS, PARTIAL_INVOICES, PARTIAL_PAYMENTS, patients)


def partial_workspace(root: Path) -> workspace.Unlocked:
    """A workspace whose current snapshot is the practice with partial credit notes."""
    return workspace_with(root, partial_tables())


@pytest.fixture(scope="module")
def partial(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    yield from _warehouse(partial_workspace(tmp_path_factory.mktemp("partial") / "ws"))


# January invoiced: 25001 + 25002, not the cancelled 25003; unpaid: 25002, 80 - 20
# credited on 5 February, nothing paid. February invoiced: 70 (25007) - 20 - 15 - 10, 25004
# removed; received: -50 - 15 + 70 - 10; 25007 not unpaid: 70 - 10 credited = 70 - 10
# refunded.
PARTIAL_HEADLINE = headline_document(
    ("2025-01-01", "2025-02-28"),
    {  # done, cancelled, no show, new, active, invoiced, received, unpaid, due
        "2025-01": (3, 0, 0, 3, 3, "140.00", "110.00", 1, "60.00"),
        "2025-02": (1, 0, 0, 0, 1, "25.00", "-5.00", 0, "0.00"),
    },
    (4, 0, 0, 3, "165.00", "105.00", 1, "60.00", 3),
    {
        "2025-01": {"cb": "60.00", "cheque": "50.00"},
        "2025-02": {"cb": "55.00", "cheque": "-50.00", "especes": "-10.00"},
        "totals": {"cb": "115.00", "especes": "-10.00"},
    },
)


@pytest.mark.parametrize(
    ("which", "period", "expected"),
    [
        ("hand", (DEC_1, FEB_28), HAND_HEADLINE),
        # partial credit notes reduce the month they are issued in
        ("partial", (JAN_1, FEB_28), PARTIAL_HEADLINE),
    ],
)
def test_headline_by_hand(
    request: pytest.FixtureRequest, which: str, period: tuple[D, D], expected: dict
) -> None:
    """The headline document of each hand-made practice, every figure written by hand."""
    wh = request.getfixturevalue(which)
    assert metrics.headline(wh, *period) == expected


def test_a_partial_credit_note_counts_from_its_own_day(partial: Warehouse) -> None:
    january = metrics.headline(partial, JAN_1, D(2025, 1, 31))["months"][0]
    assert (january["revenue_invoiced"], january["unpaid_amount"]) == ("140.00", "80.00")
    # Credit notes of January invoices still reduce February on its own.
    february = metrics.headline(partial, D(2025, 2, 1), FEB_28)["totals"]
    assert (february["revenue_invoiced"], february["unpaid_invoices"]) == ("25.00", 0)
    daily = metrics.revenue(partial, D(2025, 2, 12), D(2025, 2, 12), grain="day", basis="facture")
    assert (daily["amount"][0], daily["items"][0]) == (E("-15.00"), 0)  # not an invoice


def test_a_full_cancellation_still_removes_the_invoice_and_its_credit_note(
    partial: Warehouse,
) -> None:
    live = partial.query("SELECT invoice_number, kind, amount FROM live_invoices ORDER BY 1")
    assert [tuple(r.values()) for r in records(live)] == [
        ("25001", "invoice", E("60.00")),
        ("25002", "invoice", E("80.00")),
        ("25005", "partial_credit_note", E("-20.00")),
        ("25006", "partial_credit_note", E("-15.00")),
        ("25007", "invoice", E("70.00")),
        ("25008", "partial_credit_note", E("-10.00")),
    ]  # neither 25003 (cancelled) nor 25004 (its credit note)
    cancellations = metrics.cancellations(partial, JAN_1, FEB_28)
    assert columns(
        cancellations,
        "cancelled_invoices credit_notes credit_notes_amount partial_credit_notes"
        " partial_credit_notes_amount",
    ) == [(1, 0, E("0.00"), 0, E("0.00")), (0, 4, E("-95.00"), 3, E("-45.00"))]


def test_every_facture_figure_nets_partial_credit_notes(partial: Warehouse) -> None:
    facture = metrics.revenue(partial, JAN_1, FEB_28, basis="facture")
    assert [(r["amount"], r["items"]) for r in records(facture)] == [
        (E("140.00"), 2),
        (E("25.00"), 1),
    ]
    yoy = records(metrics.revenue_yoy(partial, D(2025, 2, 1), FEB_28, basis="facture"))
    assert yoy[0]["amount"] == E("25.00")
    by_practitioner = records(
        metrics.revenue_by_practitioner(partial, JAN_1, FEB_28, basis="facture")
    )
    assert [(p["practitioner_id"], p["amount"], p["items"]) for p in by_practitioner] == [
        (A, E("165.00"), 3),
        (B, E("0.00"), 0),
    ]
    acts = {
        r["consultation_type"]: (r["amount"], r["items"])
        for r in records(metrics.revenue_by_act_type(partial, JAN_1, FEB_28, basis="facture"))
    }
    # Each credit note counts for its invoice's consultation: 60 - 15; 80 - 20 + 70 - 10.
    assert acts["first"] == (E("45.00"), 1) and acts["follow_up"] == (E("120.00"), 2)
    assert acts["urgent"] == (E("0.00"), 0)
    fees = records(metrics.average_fee(partial, JAN_1, FEB_28))
    # The month's facturé over the invoices issued in it: February is 25 / 1.
    assert [(f["invoices"], f["amount"], f["average_fee"]) for f in fees] == [
        (2, E("140.00"), E("70.00")),
        (1, E("25.00"), E("25.00")),
    ]


def test_amount_due_is_reduced_by_partial_credit_notes(partial: Warehouse) -> None:
    unpaid = records(metrics.unpaid_invoices(partial, JAN_1, FEB_28))
    assert [
        (u["invoice_number"], u["amount"], u["credited"], u["received"], u["due"], u["bucket"])
        for u in unpaid
    ] == [("25002", E("80.00"), E("20.00"), E("0.00"), E("60.00"), "31-60")]
    before = records(metrics.unpaid_invoices(partial, JAN_1, D(2025, 2, 4)))
    assert [(u["credited"], u["due"]) for u in before] == [(E("0.00"), E("80.00"))]
    aging = metrics.unpaid_aging(partial, JAN_1, FEB_28)
    assert columns(aging, "bucket invoices due") == aging_rows({"31-60": (1, E("60.00"))})
    # 25007 received 70 - 10 for 70 - 10, 25001 60 - 15 (refunded on 25006) for 60 - 15.
    assert metrics.reconciliation(partial, JAN_1, FEB_28).empty
    ahead = records(metrics.reconciliation(partial, JAN_1, D(2025, 2, 11)))
    assert ahead == []  # 25006 (12 February) not yet issued: 25001 owes and received 60


def test_a_partial_credit_note_needs_no_load_of_its_invoice_year(tmp_path: Path) -> None:
    """A January credit note on a December invoice reduces January even with 2025 alone."""
    invoices = [
        ("24001", "C-1", P1, A, D(2024, 12, 20), "60.00", "paid", None, None),
        ("24002", "C-2", P2, A, D(2024, 12, 21), "80.00", "cancelled", None, None),
        ("25001", "C-1", P1, A, D(2025, 1, 8), "-15.00", "credit_note", None, "24001"),
        ("25002", "C-2", P2, A, D(2025, 1, 9), "-80.00", "credit_note", None, "24002"),
        ("25003", "C-3", P3, A, D(2025, 1, 20), "50.00", "issued", None, None),
    ]
    payments = [("24001/1", D(2024, 12, 20), "60.00", "cb")]
    patients = partial_tables()["patients"]
    tables = practice_tables(PARTIAL_CONSULTATIONS[:3], invoices, payments, patients)
    unlocked = workspace_with(tmp_path / "ws", tables)
    for years in (None, [2025]):
        with open_warehouse(unlocked, years=years) as wh:
            january = metrics.headline(wh, JAN_1, D(2025, 1, 31))["months"][0]
            assert january["revenue_invoiced"] == "35.00", years  # 50 - 15; 25002 full
            by_practitioner = metrics.revenue_by_practitioner(
                wh, JAN_1, D(2025, 1, 31), basis="facture"
            )
            assert by_practitioner["amount"][0] == E("35.00"), years
            loaded = wh.query("SELECT count(*) AS n FROM invoices")["n"][0]
            assert loaded == (5 if years is None else 3)  # 2024's invoices stay unloaded


def test_generator_truth_agrees_with_the_sql_on_partial_credit_notes(partial: Warehouse) -> None:
    from osteo_analytics.synthetic.truth import TruthBook, record_exam
    from tests.test_synthetic import partial_credit_exams

    book = TruthBook(JAN_1, FEB_28)
    for exam in partial_credit_exams():
        record_exam(book, exam)
    assert book.to_json() == metrics.headline(partial, JAN_1, FEB_28)


# --- every metric is documented and states its basis ------------------------------------


def test_every_metric_file_has_a_section_in_docs_metrics_md() -> None:
    doc = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    sections = set(re.findall(r"^### ([a-z0-9_]+)$", doc, flags=re.MULTILINE))
    missing = [name for name in metric_names() if name not in sections]
    assert not missing, f"metrics without a section in docs/metrics.md: {missing}"


@pytest.mark.parametrize("name", metric_names())
def test_every_metric_file_states_its_basis_and_parameters(name: str) -> None:
    spec = metric_sql(name)
    assert spec.header.get("metric") == name
    assert spec.basis, f"{name}.sql has no `-- basis:` line"
    assert spec.title
    declared = spec.header.get("params", "")
    for param in spec.params:
        assert param in declared, f"{name}.sql binds ${param} but its header does not list it"


@pytest.mark.parametrize("name", metric_names())
def test_every_metric_runs_with_defaults_and_as_a_view(hand: Warehouse, name: str) -> None:
    frame = metrics.run(hand, name)
    view = hand.query(f"SELECT * FROM {name}")
    assert list(view.columns) == list(frame.columns)
    assert len(view) == len(frame)


# Parameters Python fills in itself (settings, the calendar of jours ouvrés), and the
# Python names of the period's bounds.
_COMPUTED = {"working_days", "threshold_years", "threshold_amounts", "retention_years", "minor_age"}
_SQL_NAMES = {"from_": "date_from", "to": "date_to"}


def test_a_python_function_per_metric() -> None:
    for name in metric_names():
        assert callable(getattr(metrics, name)), name
    assert set(metrics.METRICS) == set(metric_names())
    for name, metric in metrics.METRICS.items():
        if name != "headline":  # metrics.headline() is the document made from this frame
            assert getattr(metrics, name) is metric, name
        assert name in metrics.__all__
        parameters = list(inspect.signature(metric).parameters)
        assert parameters[0] == "wh", name
        options = {_SQL_NAMES.get(p, p) for p in parameters[1:]}
        assert options == set(metric_sql(name).params) - _COMPUTED, name
        assert metric.title == metric_sql(name).title and metric.basis
        assert metric.__doc__ and f"Basis: {metric.basis}" in metric.__doc__


@pytest.mark.parametrize("name", metric_names())
def test_each_metric_returns_the_columns_its_file_documents(hand: Warehouse, name: str) -> None:
    documented = [c.strip() for c in metric_sql(name).header["columns"].split(",")]
    assert list(metrics.METRICS[name].columns) == documented
    assert list(metrics.METRICS[name](hand).columns) == documented


# --- the LibreOsteo sample's own ground truth -------------------------------------------


@pytest.fixture(scope="module")
def sample(sample_workspace: Path, libreosteo_sample: Path) -> Any:
    truth = json.loads((libreosteo_sample / "ground_truth.json").read_text(encoding="utf-8"))
    with open_warehouse(workspace.Workspace(sample_workspace).unlock(PASSPHRASE)) as wh:
        yield wh, truth


def _cents(value: float | str) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def test_sample_months_agree_where_definitions_coincide(sample: Any) -> None:
    wh, truth = sample
    start, end = D(2024, 3, 1), D(2025, 2, 28)
    monthly = truth["monthly"]
    head = metrics.headline(wh, start, end)["months"]
    assert [m["month"] for m in head] == [m["month"] for m in monthly]
    invoiced = metrics.revenue(wh, start, end, basis="facture")
    appointments = metrics.consultations_by_status(wh, start, end)
    registered = metrics.new_patients_registered(wh, start, end)
    for i, month in enumerate(monthly):
        label = month["month"]
        # invoice_amount_net: invoices not cancelled, credit notes excluded, by issue month
        assert invoiced["amount"][i] == _cents(month["invoice_amount_net"]), label
        assert head[i]["revenue_invoiced"] == str(_cents(month["invoice_amount_net"])), label
        # examinations of every status = appointments
        assert appointments["appointments"][i] == month["examinations"], label
        # creation_date = registered_on; first examination = first done consultation
        assert registered["new_patients"][i] == month["new_patients"], label
        assert head[i]["new_patients"] == month["new_patients_by_first_examination"], label
        assert head[i]["active_patients"] == month["distinct_patients_seen"], label
        # status 1 at export time = not fully paid on the last day of the export
        assert head[i]["unpaid_invoices"] == month["unpaid_invoices"], label
        assert _cents(head[i]["unpaid_amount"]) == _cents(month["unpaid_amount"]), label


def test_sample_totals_agree(sample: Any) -> None:
    wh, truth = sample
    totals = truth["totals"]
    head = metrics.headline(wh)
    assert head["totals"]["revenue_invoiced"] == str(_cents(totals["invoice_amount_net"]))
    # Every correction is complete over the export: receipts = paid invoices.
    assert head["totals"]["revenue_received"] == str(_cents(totals["paid_amount"]))
    effective = totals["invoice_amount_net_by_effective_mode"]
    by_method = {m["method"]: m["amount"] for m in records(metrics.revenue_by_method(wh))}
    assert by_method["especes"] == _cents(effective["cash"])
    assert by_method["cheque"] == _cents(effective["check"])
    assert by_method["cb"] == _cents(effective["ecard"])
    assert head["totals"]["unpaid_amount"] == str(_cents(totals["unpaid_amount"]))
    assert head["totals"]["distinct_patients"] == totals["distinct_patients_with_examination"]
    cancelled = metrics.cancellations(wh)
    assert cancelled["cancelled_invoices"].sum() == totals["canceled_invoices"]
    assert cancelled["cancelled_amount"].sum() == _cents(totals["canceled_amount"])
    assert cancelled["credit_notes"].sum() == totals["credit_notes"]
    assert cancelled["credit_notes_amount"].sum() == _cents(totals["credit_notes_amount"])
    assert cancelled["replacement_invoices"].sum() == totals["replacement_invoices"]
    assert metrics.consultations_by_status(wh)["appointments"].sum() == totals["examinations"]
    assert metrics.invoice_numbering(wh).empty  # 24001.. and 25001.., no hole
    assert metrics.reconciliation(wh).empty


# --- the synthetic generator's ground truth, three seeds ---------------------------------

# The shared practice (conftest.PRACTICE, seed 7) and two more seeds of the same size: the
# truth must hold whatever the draw, so these two are generated here.
SEEDS = (PRACTICE["seed"], 22, 33)


@pytest.fixture(scope="module", params=SEEDS)
def synthetic(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A one-year practice of 150 patients, its LibreOsteo export imported."""
    if request.param == PRACTICE["seed"]:
        export = request.getfixturevalue("practice") / "libreosteo"
    else:
        from osteo_analytics.synthetic import synthesize

        out = tmp_path_factory.mktemp(f"synth{request.param}") / "out"
        other_seed = {**PRACTICE, "seed": request.param}
        synthesize(out, **other_seed, formats=("libreosteo",))  # type: ignore[arg-type]
        export = out / "libreosteo"
    unlocked = workspace.init_workspace(
        tmp_path_factory.mktemp("synth-ws") / "ws", PASSPHRASE, work_factor=10
    ).unlocked
    ingest.import_paths(unlocked, [export])
    truth = json.loads((export / "ground_truth.json").read_text("utf-8"))
    with open_warehouse(unlocked) as wh:
        yield wh, truth


def test_synthetic_headline_equals_the_ground_truth(synthetic: Any) -> None:
    wh, truth = synthetic
    start, end = D.fromisoformat(truth["from"]), D.fromisoformat(truth["to"])
    assert metrics.headline(wh, start, end) == truth


def test_synthetic_metrics_agree_with_the_ground_truth(synthetic: Any) -> None:
    wh, truth = synthetic
    start, end = D.fromisoformat(truth["from"]), D.fromisoformat(truth["to"])
    months, totals = truth["months"], truth["totals"]
    facture = metrics.revenue(wh, start, end, basis="facture")
    encaisse = metrics.revenue(wh, start, end)
    assert [str(a) for a in facture["amount"]] == [m["revenue_invoiced"] for m in months]
    assert [str(a) for a in encaisse["amount"]] == [m["revenue_received"] for m in months]
    status = metrics.consultations_by_status(wh, start, end)
    assert list(status["done"]) == [m["consultations_done"] for m in months]
    assert list(status["cancelled"]) == [m["consultations_cancelled"] for m in months]
    assert list(status["no_show"]) == [m["consultations_no_show"] for m in months]
    assert list(metrics.new_patients(wh, start, end)["new_patients"]) == [
        m["new_patients"] for m in months
    ]
    assert list(metrics.active_patients(wh, start, end)["active_patients"]) == [
        m["active_patients"] for m in months
    ]
    by_method = {m["method"]: str(m["amount"]) for m in records(metrics.revenue_by_method(wh))}
    assert by_method == totals["received_by_method"]
    aging = metrics.unpaid_aging(wh, start, end)
    assert aging["invoices"].sum() == totals["unpaid_invoices"]
    assert str(aging["due"].sum()) == totals["unpaid_amount"]
    assert len(metrics.unpaid_invoices(wh, start, end)) == totals["unpaid_invoices"]
    tax = metrics.tax_2035(wh, start, end)
    assert str(tax["net_receipts"].sum()) == totals["revenue_received"]
    journal = metrics.livre_journal(wh, start, end)
    assert str(journal["amount"].sum()) == totals["revenue_received"]
    assert str(journal["running_total"].iloc[-1]) == totals["revenue_received"]
    fec = metrics.fec(wh, start, end)
    assert fec["Debit"].sum() == fec["Credit"].sum()
    assert len(fec) == 2 * len(journal)
    visits = metrics.visits_per_patient(wh, start, end)
    assert (visits["visits"] * visits["patients"]).sum() == totals["consultations_done"]
    assert visits["patients"].sum() == totals["distinct_patients"]
    assert metrics.age_sex(wh, start, end)["consultations"].sum() == totals["consultations_done"]

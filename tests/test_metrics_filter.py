"""The practitioner filter of every metric (docs/metrics.md, "Practitioners").

Two references:
- a hand-made shared cabinet (tests/test_metrics.py's practice, plus a visit of the adult
  to the second practitioner, a patient file never booked): every filtered figure written
  by hand, including the ones that do not add up (a patient new to each practitioner, a
  return to a colleague, a payment of no practitioner);
- the session's synthetic two-practitioner practice: each practitioner's headline equals
  the generator's truth per practitioner, and every metric's additive figures, filtered by
  each practitioner, add up to the whole cabinet's.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from osteo_analytics import ingest, metrics, workspace
from osteo_analytics.errors import Hint, UsageError
from osteo_analytics.warehouse import Warehouse, metric_names, metric_sql, open_warehouse
from tests.conftest import PASSPHRASE, PRACTICE, osteo, osteo_json
from tests.test_metrics import (
    _CONSULTATIONS,
    _INVOICES,
    _PAYMENTS,
    ADULT,
    DEC_1,
    ELDER,
    FEB_28,
    MINOR,
    OLD,
    PATIENTS,
    A,
    B,
    columns,
    headline_document,
    practice_tables,
    records,
    workspace_with,
)

D = dt.date
E = Decimal
ENV = {"OSTEO_PASSPHRASE": PASSPHRASE}

# --- the hand-made shared cabinet --------------------------------------------------------

NEVER = "P-NEVER"  # a patient file created, never booked: it belongs to no practitioner
# The adult, seen by A since December, comes to B in February: new to B, not to the cabinet.
CABINET_CONSULTATIONS = [
    *_CONSULTATIONS,
    ("C-9", ADULT, B, D(2025, 2, 10), dt.time(10), "done", "follow_up", "low_back"),
]
CABINET_INVOICES = [
    *_INVOICES,
    ("25006", "C-9", ADULT, B, D(2025, 2, 10), "60.00", "paid", None, None),
]
CABINET_PAYMENTS = [*_PAYMENTS, ("25006/1", D(2025, 2, 10), "60.00", "cheque")]


def cabinet_tables() -> dict[str, pa.Table]:
    never = pa.table(
        {
            "patient_key": [NEVER],
            "sex": ["F"],
            "birth_year": pa.array([1990], pa.int32()),
            "departement": ["35"],
            "registered_on": [D(2025, 1, 20)],
            "source": ["synthetic"],
        }
    )
    patients = pa.concat_tables([PATIENTS, never.cast(PATIENTS.schema)])
    return practice_tables(CABINET_CONSULTATIONS, CABINET_INVOICES, CABINET_PAYMENTS, patients)


@pytest.fixture(scope="module")
def cabinet_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cabinet") / "ws"
    workspace_with(root, cabinet_tables())
    return root


def _unlocked(root: Path) -> workspace.Unlocked:
    return workspace.Workspace(root).unlock(PASSPHRASE)


@pytest.fixture(scope="module")
def cabinet(cabinet_ws: Path) -> Iterator[Warehouse]:
    with open_warehouse(_unlocked(cabinet_ws)) as wh:
        yield wh


# Each practitioner's headline, Dec 2024 - Feb 2025. A: December as the whole cabinet (the
# adult and the minor, both new); January the adult's follow-up, the minor's cancellation,
# 25001 cancelled by its credit note (nothing facturé) and its 55 refunded (nothing
# encaissé). B: the elder in January (30 of 70 received then, the rest in February); in
# February the elder's emergency (80, unpaid) and the adult, new to B (60, paid by cheque).
# The payment of no known invoice (20, autre) is nobody's.
HEADLINE_A = headline_document(
    ("2024-12-01", "2025-02-28"),
    {  # done, cancelled, no show, new, active, invoiced, received, unpaid, due
        "2024-12": (2, 0, 1, 2, 2, "105.00", "105.00", 0, "0.00"),
        "2025-01": (1, 1, 0, 0, 1, "0.00", "0.00", 0, "0.00"),
        "2025-02": (0, 0, 0, 0, 0, "0.00", "0.00", 0, "0.00"),
    },
    (3, 1, 1, 2, "105.00", "105.00", 0, "0.00", 2),
    {
        "2024-12": {"cb": "55.00", "cheque": "50.00"},
        "totals": {"cb": "55.00", "cheque": "50.00"},
    },
)
HEADLINE_B = headline_document(
    ("2024-12-01", "2025-02-28"),
    {
        "2024-12": (0, 0, 0, 0, 0, "0.00", "0.00", 0, "0.00"),
        "2025-01": (1, 0, 0, 1, 1, "70.00", "30.00", 0, "0.00"),
        "2025-02": (2, 0, 0, 1, 2, "140.00", "100.00", 1, "80.00"),
    },
    (3, 0, 0, 2, "210.00", "130.00", 1, "80.00", 2),
    {
        "2025-01": {"cb": "30.00"},
        "2025-02": {"cheque": "60.00", "virement": "40.00"},
        "totals": {"cb": "30.00", "cheque": "60.00", "virement": "40.00"},
    },
)


@pytest.mark.parametrize(("who", "expected"), [(A, HEADLINE_A), (B, HEADLINE_B)])
def test_headline_of_one_practitioner_by_hand(
    cabinet: Warehouse, who: str, expected: dict[str, Any]
) -> None:
    assert metrics.headline(cabinet, DEC_1, FEB_28, practitioners=who) == expected
    assert metrics.headline(cabinet, DEC_1, FEB_28, practitioners=[who]) == expected


def test_a_patient_is_new_to_each_practitioner_and_once_to_the_cabinet(cabinet: Warehouse) -> None:
    whole = metrics.headline(cabinet, DEC_1, FEB_28)
    assert [m["new_patients"] for m in whole["months"]] == [2, 1, 0]  # the adult: December
    by_b = metrics.new_patients(cabinet, DEC_1, FEB_28, practitioners=B)
    assert list(by_b["new_patients"]) == [0, 1, 1]  # the elder, then the adult
    both = metrics.new_patients(cabinet, DEC_1, FEB_28, practitioners=[A, B])
    assert list(both["new_patients"]) == [2, 1, 0]  # new to the two of them: the cabinet's
    assert whole["totals"]["distinct_patients"] == 3
    together = metrics.headline(cabinet, DEC_1, FEB_28, practitioners=[B, A])
    assert together["months"][:2] == whole["months"][:2]
    # ... but for the payment of no known invoice (20 in February), nobody's
    received = (whole["totals"]["revenue_received"], together["totals"]["revenue_received"])
    assert received == ("255.00", "235.00")


def test_a_patient_file_belongs_to_the_practitioner_of_its_first_appointment(
    cabinet: Warehouse,
) -> None:
    registered = {
        who: list(
            metrics.new_patients_registered(cabinet, DEC_1, FEB_28, practitioners=who)[
                "new_patients"
            ]
        )
        for who in (None, A, B)
    }
    # January: the elder's file (B) and a file never booked (nobody's).
    assert registered == {None: [2, 2, 0], A: [2, 0, 0], B: [0, 1, 0]}


def test_activity_of_one_practitioner_by_hand(cabinet: Warehouse) -> None:
    status = metrics.consultations_by_status(cabinet, DEC_1, FEB_28, practitioners=A)
    assert columns(status, "done cancelled no_show appointments") == [
        (2, 0, 1, 3),
        (1, 1, 0, 2),
        (0, 0, 0, 0),
    ]
    visits = {
        who: records(metrics.visits_per_patient(cabinet, DEC_1, FEB_28, practitioners=who))
        for who in (None, A, B)
    }
    assert visits[None] == [
        {"visits": 1, "patients": 1},  # the minor
        {"visits": 2, "patients": 1},  # the elder
        {"visits": 3, "patients": 1},  # the adult: 2 with A, 1 with B
    ]
    assert visits[A] == visits[B] == [{"visits": 1, "patients": 1}, {"visits": 2, "patients": 1}]
    weekdays = metrics.weekday_hour(cabinet, DEC_1, FEB_28, practitioners=B)
    assert columns(weekdays, "weekday hour consultations") == [(1, 10, 1), (1, 11, 1), (1, 16, 1)]
    grid = records(metrics.age_sex(cabinet, DEC_1, FEB_28, practitioners=B))
    assert {(g["age_band"], g["sex"]): g["consultations"] for g in grid if g["consultations"]} == {
        ("45-59", "F"): 1,
        ("75+", "unknown"): 2,
    }


def test_a_return_is_a_visit_to_the_same_practitioners(cabinet: Warehouse) -> None:
    # Last consultation: 10 February. The adult's January visit to A is followed 35 days
    # later by B: a return to the cabinet, not to A.
    def rate(who: str | None) -> list[tuple[Any, ...]]:
        frame = metrics.return_rate(cabinet, DEC_1, FEB_28, within_days=35, practitioners=who)
        return columns(frame, "visits observed returned")

    assert rate(None) == [(2, 2, 1), (2, 2, 2), (2, 0, 0)]
    assert rate(A) == [(2, 2, 1), (1, 1, 0), (0, 0, 0)]
    assert rate(B) == [(0, 0, 0), (1, 1, 1), (2, 0, 0)]


def test_money_of_one_practitioner_by_hand(cabinet: Warehouse) -> None:
    by_practitioner = metrics.revenue_by_practitioner(cabinet, DEC_1, FEB_28, practitioners=B)
    assert columns(by_practitioner, "practitioner_id amount items") == [(B, E("130.00"), 3)]
    whole = metrics.revenue_by_practitioner(cabinet, DEC_1, FEB_28)
    assert columns(whole, "practitioner_id amount items") == [
        (B, E("130.00"), 3),
        (A, E("105.00"), 4),
        (None, E("20.00"), 1),  # the payment of no known invoice: nobody's
    ]
    methods = metrics.revenue_by_method(cabinet, DEC_1, FEB_28, practitioners=A)
    assert columns(methods, "method amount payments refunds") == [
        ("cb", E("55.00"), 1, 0),
        ("cheque", E("50.00"), 1, 0),
        ("especes", E("0.00"), 1, 1),
        ("virement", E("0.00"), 0, 0),
        ("autre", E("0.00"), 0, 0),
    ]
    unpaid = metrics.unpaid_invoices(cabinet, DEC_1, FEB_28, practitioners=A)
    assert unpaid.empty
    aging = metrics.unpaid_aging(cabinet, DEC_1, FEB_28, practitioners=B)
    assert columns(aging, "bucket invoices due")[0] == ("0-30", 1, E("80.00"))
    cancelled = metrics.cancellations(cabinet, DEC_1, FEB_28, practitioners=B)
    assert cancelled["cancelled_invoices"].sum() == 0
    acts = metrics.revenue_by_act_type(cabinet, DEC_1, FEB_28, basis="facture", practitioners=B)
    assert {r["consultation_type"]: r["amount"] for r in records(acts) if r["amount"]} == {
        "first": E("70.00"),
        "follow_up": E("60.00"),
        "urgent": E("80.00"),
    }


def test_accountant_metrics_of_one_practitioner_by_hand(cabinet: Warehouse) -> None:
    journal = metrics.livre_journal(cabinet, DEC_1, FEB_28, practitioners=B)
    assert columns(journal, "payment_id amount day_total running_total") == [
        ("25002/1", E("30.00"), E("30.00"), E("30.00")),
        ("25002/2", E("40.00"), E("100.00"), E("70.00")),
        ("25006/1", E("60.00"), E("100.00"), E("130.00")),
    ]
    fec = metrics.fec(cabinet, DEC_1, FEB_28, practitioners=B)
    assert list(fec["EcritureNum"].unique()) == ["RE000001", "RE000002", "RE000003"]
    assert fec["Debit"].sum() == fec["Credit"].sum() == E("130.00")
    tax = metrics.tax_2035(cabinet, D(2024, 1, 1), D(2025, 12, 31), practitioners=A)
    assert columns(tax, "year receipts refunds net_receipts payments") == [
        (2024, E("105.00"), E("0.00"), E("105.00"), 2),
        (2025, E("55.00"), E("-55.00"), E("0.00"), 1),
    ]
    bnc = metrics.micro_bnc(cabinet, DEC_1, FEB_28, practitioners=B)
    assert columns(bnc, "received year_to_date") == [
        (E("0.00"), E("0.00")),
        (E("30.00"), E("30.00")),
        (E("100.00"), E("130.00")),
    ]
    # The cabinet numbers in one series: each anomaly is its invoice's practitioner's.
    numbering = {
        who: columns(
            metrics.invoice_numbering(cabinet, practitioners=who), "anomaly invoice_number"
        )
        for who in (None, A, B)
    }
    assert numbering == {
        None: [("backdated", "25001"), ("gap", "25005")],
        A: [("backdated", "25001")],
        B: [("gap", "25005")],
    }
    end_jan = D(2025, 1, 31)
    reconciliation = {
        who: columns(metrics.reconciliation(cabinet, DEC_1, end_jan, practitioners=who), "kind")
        for who in (A, B)
    }
    assert reconciliation == {A: [], B: [("underpaid",)]}
    orphans = metrics.reconciliation(cabinet, DEC_1, FEB_28)
    assert columns(orphans, "kind invoice_number") == [("payment_without_invoice", "23999")]
    assert metrics.reconciliation(cabinet, DEC_1, FEB_28, practitioners=[A, B]).empty


def test_retention_keeps_the_patients_a_practitioner_has_seen(cabinet: Warehouse) -> None:
    due = {
        who: columns(metrics.retention(cabinet, D(2051, 1, 1), practitioners=who), "patient_key")
        for who in (None, A, B)
    }
    assert sorted(due[None]) == sorted([(OLD,), (ADULT,), (MINOR,), (ELDER,), (NEVER,)])
    assert sorted(due[A]) == sorted([(OLD,), (ADULT,), (MINOR,)])
    assert sorted(due[B]) == sorted([(ADULT,), (ELDER,)])
    # The record is the patient's: the adult's last visit (to B) dates it for A too.
    adult = records(metrics.retention(cabinet, D(2051, 1, 1), practitioners=A))
    assert next(r for r in adult if r["patient_key"] == ADULT)["keep_until"] == D(2045, 2, 10)


def test_new_to_a_practitioner_needs_no_load_of_the_earlier_years(cabinet_ws: Path) -> None:
    """A partial load keeps the history per practitioner: the adult, seen by A in 2024, is
    not new to A in January 2025 even when only 2025 is decrypted."""
    jan_1 = D(2025, 1, 1)
    for years in (None, [2025]):
        with open_warehouse(_unlocked(cabinet_ws), years=years) as wh:
            new = {
                who: list(
                    metrics.new_patients(wh, jan_1, FEB_28, practitioners=who)["new_patients"]
                )
                for who in (A, B)
            }
            assert new == {A: [0, 0], B: [1, 1]}, years


def test_unknown_or_empty_filters_are_clear_errors(cabinet: Warehouse) -> None:
    with pytest.raises(UsageError, match="praticien inconnu : « PR-NOBODY »") as raised:
        metrics.headline(cabinet, practitioners=[A, "PR-NOBODY"])
    assert raised.value.hint is Hint.LIST_PRACTITIONERS
    assert ADULT not in str(raised.value) and B not in str(raised.value)
    with pytest.raises(UsageError, match="au moins un"):
        metrics.revenue(cabinet, practitioners=[])
    with pytest.raises(UsageError, match="identifiants"):
        metrics.revenue(cabinet, practitioners=[1])  # type: ignore[list-item]
    with pytest.raises(UsageError, match="identifiants"):
        metrics.revenue(cabinet, practitioners=7)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="praticien inconnu"):
        metrics.run(cabinet, "retention", practitioners="PR-NOBODY")


def test_metric_views_take_the_filter_from_a_variable(cabinet: Warehouse) -> None:
    cabinet.con.execute("SET VARIABLE practitioners = $ids", {"ids": [B]})
    try:
        view = cabinet.query("SELECT * FROM headline")
        new = cabinet.query("SELECT * FROM new_patients")
    finally:
        cabinet.con.execute("SET VARIABLE practitioners = NULL")
    assert view.equals(metrics.run(cabinet, "headline", practitioners=B))
    assert new.equals(metrics.new_patients(cabinet, practitioners=B))
    assert cabinet.query("SELECT * FROM headline").equals(metrics.run(cabinet, "headline"))


def test_every_metric_takes_the_filter() -> None:
    for name in metric_names():
        assert "practitioners" in metric_sql(name).params, name
        assert "practitioners" in metric_sql(name).header["params"], name


# --- osteo metrics --practitioner ----------------------------------------------------------


def test_osteo_metrics_practitioner_json_is_the_library_document(
    cabinet_ws: Path, cabinet: Warehouse
) -> None:
    document = osteo_json(
        "metrics", "--practitioner", B, "--from", "2024-12-01", "--to", "2025-02-28",
        "--format", "json", workspace=cabinet_ws, env=ENV,
    )  # fmt: skip
    assert document == HEADLINE_B
    both = osteo_json(
        "metrics", "--practitioner", A, "--practitioner", B, "--format", "json",
        workspace=cabinet_ws, env=ENV,
    )  # fmt: skip
    assert both == metrics.headline(cabinet, practitioners=[A, B])
    table = osteo(
        "metrics", "--practitioner", B, "--from", "2024-12-01", "--to", "2025-02-28",
        workspace=cabinet_ws, env=ENV,
    )  # fmt: skip
    assert table.returncode == 0, table.stderr
    assert "Praticien : Bruno Remplaçant" in table.stdout


def test_osteo_metrics_unknown_practitioner_is_one_line(cabinet_ws: Path) -> None:
    result = osteo("metrics", "--practitioner", "PR-NOBODY", workspace=cabinet_ws, env=ENV)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith("Erreur : praticien inconnu : « PR-NOBODY »")
    assert "SELECT * FROM practitioners" in lines[0]  # how to find the ids


# --- the synthetic two-practitioner practice ------------------------------------------------


@pytest.fixture(scope="module")
def synthetic(
    practice: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Warehouse, list[str], dict[str, Any]]]:
    """The session practice's LibreOsteo export imported: the warehouse, its practitioner
    ids in the generator's order, and each one's truth by id."""
    from osteo_analytics.synthetic import LIBREOSTEO_METHODS, period_start
    from osteo_analytics.synthetic.model import Practice
    from osteo_analytics.synthetic.people import make_practitioners
    from osteo_analytics.synthetic.truth import practitioner_truths

    unlocked = workspace.init_workspace(
        tmp_path_factory.mktemp("filter-ws") / "ws", PASSPHRASE, work_factor=10
    ).unlocked
    ingest.import_paths(unlocked, [practice / "libreosteo"])
    # The same practice as conftest.PRACTICE's: synthesize's defaults for the rest.
    end = D(2025, 12, 31)
    staff = make_practitioners(2, PRACTICE["seed"])
    model = Practice(
        seed=PRACTICE["seed"],
        start=period_start(end, PRACTICE["years"]),
        end=end,
        practitioners=staff,
        scale=1.0,
        patient_cap=PRACTICE["patients"],
        records=False,
    )
    truths = practitioner_truths(model, LIBREOSTEO_METHODS)
    with open_warehouse(unlocked) as wh:
        ids = dict(
            wh.con.execute("SELECT display_name, practitioner_id FROM practitioners").fetchall()
        )
        order = [ids[p.display_name] for p in staff]
        yield wh, order, dict(zip(order, truths, strict=True))


def test_synthetic_headline_of_each_practitioner_equals_its_truth(synthetic: Any) -> None:
    wh, ids, truths = synthetic
    for who in ids:
        truth = truths[who]
        start, end = D.fromisoformat(truth["from"]), D.fromisoformat(truth["to"])
        assert truth["totals"]["consultations_done"] > 100, who  # each one works
        assert metrics.headline(wh, start, end, practitioners=who) == truth, who


def test_per_practitioner_truths_add_up_to_the_generators_truth(
    synthetic: Any, practice: Path
) -> None:
    """The truth per practitioner is the written one split: additive figures sum to it."""
    _, ids, truths = synthetic
    written = json.loads((practice / "libreosteo" / "ground_truth.json").read_text("utf-8"))
    assert _additive(written) == _sum_additive([_additive(truths[who]) for who in ids])


def test_synthetic_headline_figures_add_up_to_the_cent(synthetic: Any) -> None:
    wh, ids, _ = synthetic
    whole = metrics.headline(wh)
    parts = [metrics.headline(wh, practitioners=who) for who in ids]
    assert _additive(whole) == _sum_additive([_additive(p) for p in parts])
    assert whole["totals"]["revenue_received"] != "0.00"


def _additive(document: dict[str, Any]) -> dict[str, Any]:
    """The additive figures of a headline document: per month and method, money as Decimal."""
    flat: dict[str, Any] = {}
    for month in document["months"]:
        for key, value in month.items():
            if key in ("month", "active_patients"):
                continue
            if key == "received_by_method":
                for method, amount in value.items():
                    flat[f"{month['month']} {method}"] = Decimal(amount)
            else:
                flat[f"{month['month']} {key}"] = (
                    Decimal(value) if isinstance(value, str) else value
                )
    return flat


def _sum_additive(parts: list[dict[str, Any]]) -> dict[str, Any]:
    return {key: sum(part[key] for part in parts) for key in parts[0]}


# Per metric: (key columns, columns that add up over the practitioners). In this practice
# each patient sees one practitioner only (checked below), so even the patient counts add
# up; the hand-made cabinet above shows where they do not.
SUMMED: dict[str, tuple[str, str]] = {
    "active_patients": ("month", "active_patients consultations"),
    "age_sex": ("age_band sex", "consultations patients"),
    "average_fee": ("month", "invoices amount"),
    "cancellations": (
        "month",
        "cancelled_invoices cancelled_amount credit_notes credit_notes_amount"
        " partial_credit_notes partial_credit_notes_amount replacement_invoices"
        " replacement_amount",
    ),
    "consultations_by_status": ("period_start", "done cancelled no_show appointments"),
    "consultations_by_type": ("month", "first follow_up return urgent home other"),
    "consultations_per_working_day": ("month", "consultations"),
    "departement": ("departement", "patients consultations"),
    "headline": (
        "month",
        "consultations_done consultations_cancelled consultations_no_show new_patients"
        " active_patients revenue_invoiced revenue_received received_cb received_cheque"
        " received_especes received_virement received_autre unpaid_invoices unpaid_amount",
    ),
    "micro_bnc": ("month", "received year_to_date"),
    "motif_category": ("motif_category", "consultations patients"),
    "new_patients": ("month", "new_patients"),
    "new_patients_registered": ("month", "new_patients"),
    "return_rate": ("month", "visits observed returned"),
    "revenue": ("period_start", "amount items"),
    "revenue_by_act_type": ("consultation_type", "amount items"),
    "revenue_by_method": ("method", "amount payments refunds"),
    "revenue_yoy": ("month", "amount amount_previous_year change"),
    "tax_2035": ("year", "receipts refunds net_receipts payments cb cheque especes virement autre"),
    "unpaid_aging": ("bucket", "invoices due"),
    "visits_per_patient": ("visits", "patients"),
    "weekday_hour": ("weekday hour", "consultations"),
}
# Metrics whose rows each belong to one practitioner: the practitioners' rows together are
# the cabinet's (compared on these columns: running totals and entry numbers restart).
PARTITIONED: dict[str, str] = {
    "fec": "EcritureDate CompteNum PieceRef Debit Credit",
    "invoice_numbering": "anomaly prefix year invoice_number issued_on related_number missing",
    "livre_journal": "paid_on payment_id invoice_number patient_key amount method",
    "reconciliation": "kind invoice_number issued_on amount received difference",
    "retention": "patient_key birth_year last_visit_on keep_until rule days_overdue",
    "revenue_by_practitioner": "basis practitioner_id display_name amount items",
    "unpaid_invoices": "invoice_number issued_on practitioner_id amount due bucket",
}


def test_every_metric_says_how_it_adds_up() -> None:
    assert set(SUMMED) | set(PARTITIONED) == set(metrics.METRICS)
    assert not set(SUMMED) & set(PARTITIONED)


def test_each_synthetic_patient_sees_one_practitioner(synthetic: Any) -> None:
    wh, _, _ = synthetic
    shared = wh.query(
        "SELECT count(*) AS n FROM (SELECT patient_key FROM practitioner_history"
        " GROUP BY 1 HAVING count(*) > 1)"
    )
    assert shared["n"][0] == 0


def _summed(frame: pd.DataFrame, keys: list[str], sums: list[str]) -> dict[Any, list[Any]]:
    return {tuple(row[k] for k in keys): [row[s] for s in sums] for row in frame.to_dict("records")}


# Options so that a metric has rows to compare: records past their keep period.
OPTIONS: dict[str, dict[str, Any]] = {"retention": {"as_of": D(2060, 1, 1)}}


@pytest.mark.parametrize("name", sorted(metrics.METRICS))
def test_each_practitioner_adds_up_to_the_cabinet(synthetic: Any, name: str) -> None:
    wh, ids, _ = synthetic
    options = OPTIONS.get(name, {})
    whole = metrics.run(wh, name, **options)
    parts = [metrics.run(wh, name, practitioners=who, **options) for who in ids]
    assert all(len(part) for part in parts) or name in PARTITIONED
    if name in PARTITIONED:
        cols = PARTITIONED[name].split()
        assert sorted(columns(whole, " ".join(cols)), key=repr) == sorted(
            (row for part in parts for row in columns(part, " ".join(cols))), key=repr
        )
        return
    keys, sums = (part.split() for part in SUMMED[name])
    expected = _summed(whole, keys, sums)
    added: dict[Any, list[Any]] = {}
    for part in parts:
        for key, values in _summed(part, keys, sums).items():
            added[key] = [
                a + b for a, b in zip(added.get(key, [0] * len(sums)), values, strict=True)
            ]
    assert added == expected


@pytest.mark.parametrize("name", sorted(metrics.METRICS))
def test_every_id_is_the_whole_cabinet(synthetic: Any, name: str) -> None:
    wh, ids, _ = synthetic
    pd.testing.assert_frame_equal(
        metrics.run(wh, name, practitioners=ids), metrics.run(wh, name), check_exact=True
    )

"""The synthetic practice: deterministic, shaped like the real exports, and its truth holds.

The ground truth is checked by recomputing it from the written files with small readers
written here, independently of the generator (that is what proves it).
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import re
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import openpyxl
import pytest

from osteo_analytics.errors import UsageError
from osteo_analytics.synthetic import plan, synthesize, vocab
from osteo_analytics.synthetic.model import Exam, Invoice, Payment
from osteo_analytics.synthetic.truth import TruthBook, partial_credit_note, record_exam
from osteo_analytics.synthetic.xlsx import ReportSheet
from tests.conftest import LIBREOSTEO_SAMPLE, digests
from tests.conftest import PRACTICE as SMALL  # the shared `practice` fixture's parameters

SAMPLE = LIBREOSTEO_SAMPLE
PARIS = ZoneInfo("Europe/Paris")
CODE_TO_METHOD = {"ecard": "cb", "check": "cheque", "cash": "especes"}


def truth_of(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "ground_truth.json").read_text(encoding="utf-8"))


def rows_of(path: Path) -> list[tuple[Any, ...]]:
    workbook = openpyxl.load_workbook(path, read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    workbook.close()
    return rows


def euros(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


# --- determinism and parameters ------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_bytes(practice: Path, tmp_path: Path) -> None:
    synthesize(tmp_path / "again", **SMALL)  # type: ignore[arg-type]
    synthesize(tmp_path / "other", **{**SMALL, "seed": 8})  # type: ignore[arg-type]
    first = digests(practice)
    assert first == digests(tmp_path / "again")
    assert set(first) == set(digests(tmp_path / "other"))
    assert (
        first["libreosteo/examinations.xlsx"]
        != digests(tmp_path / "other")["libreosteo/examinations.xlsx"]
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"years": 0},
        {"practitioners": 0},
        {"scale": 0},
        {"scale": -1.0},
        {"patients": 0},
        {"formats": ("libreosteo", "docx")},
    ],
)
def test_bad_parameters_raise_usage_error(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    with pytest.raises(UsageError) as caught:
        synthesize(tmp_path / "out", **kwargs)
    assert "\n" not in str(caught.value)


def test_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(UsageError, match="pas vide"):
        synthesize(tmp_path)


def test_one_format_only_is_the_same_practice(practice: Path, tmp_path: Path) -> None:
    seen: list[int] = []
    synthesize(tmp_path / "out", formats=("ledger",), progress=seen.append, **SMALL)  # type: ignore[arg-type]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["ground_truth.json", "ledger"]
    assert digests(tmp_path / "out" / "ledger") == digests(practice / "ledger")
    assert seen == sorted(seen) and seen[-1] > 3000


def test_worker_processes_write_the_same_bytes(practice: Path, tmp_path: Path) -> None:
    summary = synthesize(tmp_path / "out", workers=2, **SMALL)  # type: ignore[arg-type]
    assert digests(tmp_path / "out") == digests(practice)
    assert [p.name for p in summary.paths["libreosteo"]] == [
        "patients.csv",
        "patients.xlsx",
        "examinations.csv",
        "examinations.xlsx",
        "invoices.csv",
        "invoices.xlsx",
        "ground_truth.json",
    ]
    assert set(summary.rows["libreosteo"]) == {"patients", "examinations", "invoices"}
    assert summary.rows["ledger"]["receipts"] > 0 and summary.patients > 0


def test_plan_balances_the_tasks_over_the_workers() -> None:
    tasks = ["truth", "libreosteo/truth", "libreosteo/patients"]
    tasks += ["libreosteo/examinations", "libreosteo/invoices", "ledger"]
    assert plan(tasks, 1) == [tasks]
    groups = plan(tasks, 2)
    assert sorted(t for g in groups for t in g) == sorted(tasks) and len(groups) == 2
    assert "libreosteo/examinations" in groups[0] and "libreosteo/invoices" in groups[1]
    assert plan(["truth", "ledger"], 4) == [["truth", "ledger"]]  # not worth a second run


def test_workbooks_split_at_the_row_limit(tmp_path: Path) -> None:
    sheet = ReportSheet(tmp_path / "invoices.xlsx", ["ID", "Numéro"], "is", max_rows=3)
    for i in range(5):
        sheet.write([i, f"2400{i}"])
    paths = sheet.close()
    assert [p.name for p in paths] == ["invoices.xlsx", "invoices-2.xlsx", "invoices-3.xlsx"]
    assert [rows_of(p) for p in paths][1] == [("ID", "Numéro"), (2, "24002"), (3, "24003")]


# --- the LibreOsteo files look like the real ones ----------------------------------------


@pytest.mark.parametrize("name", ["patients.csv", "examinations.csv", "invoices.csv"])
def test_csv_header_encoding_and_line_endings(practice: Path, name: str) -> None:
    ours, real = (practice / "libreosteo" / name).read_bytes(), (SAMPLE / name).read_bytes()
    assert not ours.startswith(b"\xef\xbb\xbf")
    header = ours.split(b"\r\n", 1)[0].decode("utf-8").split(",")
    expected = real.split(b"\r\n", 1)[0].decode("utf-8").split(",")
    if name == "invoices.csv":  # instalments add paiments_list.1.* columns after .0.*
        header = [h for h in header if not h.startswith("paiments_list.1.")]
    assert header == expected
    records = list(csv.reader(ours.decode("utf-8").splitlines(keepends=True)))
    assert ours.endswith(b"\r\n") and ours.count(b"\r\n") == len(records)


def test_csv_values_formats(practice: Path) -> None:
    with open(practice / "libreosteo" / "invoices.csv", newline="", encoding="utf-8") as handle:
        invoices = list(csv.DictReader(handle))
    assert all(re.fullmatch(r"-?\d+\.\d+", row["montant"]) for row in invoices)
    assert {row["type"] for row in invoices} == {"invoice", "creditnote"}
    assert any(row["Remplacée par"] for row in invoices) and any(
        row["Annulée par"] for row in invoices
    )
    dates = [row["date"] for row in invoices]
    assert all(d >= e for d, e in itertools.pairwise(dates))  # newest first
    for stamp in dates:
        when = dt.datetime.fromisoformat(stamp)
        assert when.utcoffset() == when.replace(tzinfo=PARIS).utcoffset()


@pytest.mark.parametrize("name", ["patients.xlsx", "examinations.xlsx", "invoices.xlsx"])
def test_xlsx_headers_cell_types_and_formats(practice: Path, name: str) -> None:
    ours = openpyxl.load_workbook(practice / "libreosteo" / name).active
    real = openpyxl.load_workbook(SAMPLE / name).active
    assert ours.title == real.title == "Report"
    assert [c.value for c in ours[1]] == [c.value for c in real[1]]
    assert "xl/sharedStrings.xml" not in zipfile.ZipFile(practice / "libreosteo" / name).namelist()
    seen: dict[int, tuple[str, str]] = {}
    for row in real.iter_rows(min_row=2):
        for cell in row:
            if cell.value is not None:
                seen.setdefault(cell.column, (cell.data_type, cell.number_format))
    checked = 0
    for row in ours.iter_rows(min_row=2, max_row=400):
        for cell in row:
            if cell.value is not None and cell.column in seen:
                assert (cell.data_type, cell.number_format) == seen[cell.column], cell.coordinate
                checked += 1
    assert checked > 1000


def test_drf_excel_apostrophe_quirk(practice: Path) -> None:
    exams = rows_of(practice / "libreosteo" / "examinations.xlsx")
    conclusions = [r[63] for r in exams[1:] if r[63]]
    assert any(c.startswith("'- Exercices") for c in conclusions)
    assert not any(c.startswith("- ") for c in conclusions)
    mobiles = [r[13] for r in rows_of(practice / "libreosteo" / "patients.xlsx")[1:] if r[13]]
    assert any(m.startswith("'+33 ") for m in mobiles)
    csv_text = (practice / "libreosteo" / "patients.csv").read_text(encoding="utf-8")
    assert ",+33 " in csv_text and ",'+33" not in csv_text


# --- the ground truth is what the files say ------------------------------------------------


def test_libreosteo_truth_recomputed_from_the_files(practice: Path) -> None:
    folder = practice / "libreosteo"
    truth = truth_of(folder)
    months = {m["month"]: m for m in truth["months"]}
    got: dict[str, Counter[str]] = defaultdict(Counter)
    money: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    active: dict[str, set[str]] = defaultdict(set)
    first_seen: set[str] = set()
    for row in rows_of(folder / "examinations.xlsx")[1:]:
        when, status, reason, patient = row[64], row[65], row[66], row[68]
        month = when.strftime("%Y-%m")
        if status == 3 and reason in vocab.REASONS_CANCELLED:
            got[month]["consultations_cancelled"] += 1
        elif status == 3 and reason in vocab.REASONS_NO_SHOW:
            got[month]["consultations_no_show"] += 1
        else:
            got[month]["consultations_done"] += 1
            active[month].add(patient)
            if patient not in first_seen:
                first_seen.add(patient)
                got[month]["new_patients"] += 1
    invoices = rows_of(folder / "invoices.xlsx")[1:]
    by_id = {r[0]: r for r in invoices}
    for r in invoices:
        month, amount, code, status, kind = (
            r[4].strftime("%Y-%m"),
            Decimal(str(r[5])),
            r[7],
            r[32],
            r[35],
        )
        payments = json.loads(r[2]) if r[2] else []
        if kind == "invoice" and status != 3:
            money[month]["revenue_invoiced"] += amount
            due = (
                amount - sum(Decimal(str(p["amount"])) for p in payments)
                if code == "notpaid"
                else 0
            )
            if due > 0:
                got[month]["unpaid_invoices"] += 1
                money[month]["unpaid_amount"] += due
        movements = [
            (p["date"][:7], p["paiment_mode"], Decimal(str(p["amount"]))) for p in payments
        ]
        if code != "notpaid":
            movements.append((month, code, amount))
        if status == 3 and by_id[int(r[38])][35] == "invoice":  # cancelled by a replacement
            movements.append((by_id[int(r[38])][4].strftime("%Y-%m"), code, -amount))
        for on, mode, value in movements:
            money[on]["revenue_received"] += value
            money[on][CODE_TO_METHOD[mode]] += value
    for key, month in months.items():
        for name in (
            "consultations_done",
            "consultations_cancelled",
            "consultations_no_show",
            "new_patients",
            "unpaid_invoices",
        ):
            assert month[name] == got[key][name], (key, name)
        assert month["active_patients"] == len(active[key])
        for name in ("revenue_invoiced", "revenue_received", "unpaid_amount"):
            assert month[name] == euros(money[key][name]), (key, name)
        for method, value in month["received_by_method"].items():
            assert value == euros(money[key][method]), (key, method)
    assert truth["totals"]["distinct_patients"] == len(first_seen)


@dataclass
class LedgerInvoice:
    """One invoice number of a ledger: its key row's day (ISO), patient, practitioner."""

    day: str
    patient: str
    practitioner: str
    net: Decimal
    status: str


def ledger_reading(folder: Path) -> dict[str, Any]:
    """The headline months of a ledger's CSV twins, by the rules of sources/ledger.py.

    Rows sharing a number are one invoice (rows by date, then file order): net > 0 paid,
    net 0 cancelled, only negative rows a credit note, which cancels the patient's latest
    paid invoice of exactly its amount on or before its day. Every other invoice is a visit
    on its first non-negative row's day (one per patient, day and practitioner) and, when
    paid, facturé for its net on that day. Every row is money received on its day.
    """
    labels = {"CB": "cb", "Chèque": "cheque", "Espèces": "especes", "Virement": "virement"}
    groups: dict[str, list[tuple[str, str, str, Decimal]]] = defaultdict(list)
    received: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for path in sorted(folder.glob("recettes-*.csv")):
        with open(path, newline="", encoding="cp1252") as handle:
            reader = csv.reader(handle, delimiter=";")
            assert next(reader) == [
                "Date",
                "N° facture",
                "Patient",
                "Montant",
                "Mode de règlement",
                "Praticien",
            ]
            for day, number, name, amount, method, practitioner in reader:
                iso = f"{day[6:]}-{day[3:5]}-{day[:2]}"
                value = Decimal(amount.replace(",", "."))
                groups[number].append((iso, name, practitioner, value))
                received[iso[:7]]["revenue_received"] += value
                received[iso[:7]][labels[method]] += value
    invoices: list[LedgerInvoice] = []  # in order of first appearance
    for rows in groups.values():
        rows.sort(key=lambda r: r[0])
        net = sum((r[3] for r in rows), Decimal(0))
        opener = next((r for r in rows if r[3] >= 0), None)
        status = "credit_note" if opener is None or net < 0 else "cancelled" if net == 0 else "paid"
        day, patient, practitioner, _ = opener or rows[0]
        invoices.append(LedgerInvoice(day, patient, practitioner, net, status))
    paid = [i for i in invoices if i.status == "paid"]
    for note in sorted((i for i in invoices if i.status == "credit_note"), key=lambda i: i.day):
        found = [
            i
            for i in paid
            if i.status == "paid"
            and (i.patient, i.net) == (note.patient, -note.net)
            and i.day <= note.day
        ]
        if found:
            max(found, key=lambda i: i.day).status = "cancelled"
    visits = sorted(
        {(i.day, i.patient, i.practitioner) for i in invoices if i.status != "credit_note"}
    )
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    active: dict[str, set[str]] = defaultdict(set)
    seen: set[str] = set()
    for day, patient, _ in visits:
        counts[day[:7]]["consultations_done"] += 1
        active[day[:7]].add(patient)
        if patient not in seen:
            seen.add(patient)
            counts[day[:7]]["new_patients"] += 1
    invoiced: dict[str, Decimal] = defaultdict(Decimal)
    for i in invoices:
        if i.status == "paid":
            invoiced[i.day[:7]] += i.net
    months = [
        {
            "month": key,
            "consultations_done": counts[key]["consultations_done"],
            "consultations_cancelled": 0,
            "consultations_no_show": 0,
            "new_patients": counts[key]["new_patients"],
            "active_patients": len(active[key]),
            "revenue_invoiced": euros(invoiced[key]),
            "revenue_received": euros(received[key]["revenue_received"]),
            "received_by_method": {
                m: euros(received[key][m]) for m in ("cb", "cheque", "especes", "virement", "autre")
            },
            "unpaid_invoices": 0,
            "unpaid_amount": "0.00",
        }
        for key in sorted({*counts, *received, *invoiced})
    ]
    return {"months": months, "distinct_patients": len(seen)}


def test_ledger_truth_recomputed_from_the_files(practice: Path) -> None:
    folder = practice / "ledger"
    truth = truth_of(folder)
    reading = ledger_reading(folder)
    active = [
        m for m in truth["months"] if m["consultations_done"] or m["revenue_received"] != "0.00"
    ]
    assert active == reading["months"]
    totals = truth["totals"]
    assert totals["distinct_patients"] == reading["distinct_patients"]
    for name in ("consultations_done", "new_patients", "consultations_cancelled"):
        assert totals[name] == sum(m[name] for m in truth["months"])
    assert "active_patients" not in totals  # a distinct count: metrics.headline() has no total
    assert totals["revenue_invoiced"] == euros(
        sum((Decimal(m["revenue_invoiced"]) for m in truth["months"]), Decimal(0))
    )
    # A shared cabinet's ledger names the practitioner of each receipt.
    assert len({r[5] for p in folder.glob("recettes-*.csv") for r in _csv_rows(p)}) == 2
    # The workbook says the same: French month sheets, a title, a header and a total row.
    book = openpyxl.load_workbook(folder / "recettes-2025.xlsx")
    assert book.sheetnames[7] == "Août 2025"
    sheet = book["Septembre 2025"]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0].startswith("Livre des recettes") and values[1][0] == "Date"
    assert values[1][5] == "Praticien" and values[2][5]
    assert values[-1][0] == "Total Septembre 2025" and values[-1][3].startswith("=SUM(")
    september = next(m for m in truth["months"] if m["month"] == "2025-09")
    received = sum((Decimal(str(r[3])) for r in values[2:-1]), Decimal(0))
    assert euros(received) == september["revenue_received"]
    assert sheet["D3"].number_format == '#,##0.00 "€"' and sheet["A3"].number_format == "dd/mm/yyyy"


def _csv_rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="cp1252") as handle:
        return list(csv.reader(handle, delimiter=";"))[1:]


def test_format_truths_differ_only_where_the_format_cannot_say(practice: Path) -> None:
    true, lo, ledger = (
        truth_of(practice),
        truth_of(practice / "libreosteo"),
        truth_of(practice / "ledger"),
    )
    for t, m in zip(true["months"], lo["months"], strict=True):
        by_method = dict(t["received_by_method"])
        by_method["cb"] = euros(Decimal(by_method["cb"]) + Decimal(by_method.pop("virement")))
        assert m["received_by_method"]["virement"] == "0.00"
        assert {k: v for k, v in m["received_by_method"].items() if k != "virement"} == by_method
        assert {k: v for k, v in t.items() if k != "received_by_method"} == {
            k: v for k, v in m.items() if k != "received_by_method"
        }
    assert true["totals"]["revenue_received"] == ledger["totals"]["revenue_received"]
    assert set(true) == {"from", "to", "months", "totals"} and true["from"] == "2025-01-01"
    assert list(true["totals"]["received_by_method"]) == [
        "cb",
        "cheque",
        "especes",
        "virement",
        "autre",
    ]


# --- realism ------------------------------------------------------------------------------


def test_calendar_seasons_and_cancellations(practice: Path) -> None:
    french_holidays = holidays.country_holidays("FR", years=[2025])
    with open(practice / "libreosteo" / "examinations.csv", newline="", encoding="utf-8") as handle:
        days = [dt.datetime.fromisoformat(r["date"]) for r in csv.DictReader(handle)]
    assert all(d.weekday() < 5 and d.date() not in french_holidays for d in days)
    assert {d.strftime("%H:%M") for d in days} <= {
        "08:15",
        "13:15",
        "09:00",
        "09:45",
        "10:30",
        "11:15",
        "12:00",
        "14:00",
        "14:45",
        "15:30",
        "16:15",
        "17:00",
        "17:45",
        "18:30",
    }
    months = {m["month"]: m for m in truth_of(practice)["months"]}
    assert months["2025-08"]["consultations_done"] < 0.7 * months["2025-09"]["consultations_done"]
    totals = truth_of(practice)["totals"]
    missed = totals["consultations_cancelled"] + totals["consultations_no_show"]
    assert 0.03 <= missed / (missed + totals["consultations_done"]) <= 0.06


def test_patients_fees_and_free_text(practice: Path) -> None:
    patients = rows_of(practice / "libreosteo" / "patients.xlsx")[1:]
    assert len(patients) <= 150
    ages = [(dt.datetime(2025, 6, 30) - p[1]).days / 365.25 for p in patients]
    assert any(a < 2 for a in ages) and any(a < 18 for a in ages) and any(a > 75 for a in ages)
    names = [(p[3], p[5]) for p in patients]
    # namesakes share a name (see test_libreosteo_namesakes), never name and birth date
    identities = {(vocab.fold(f"{p[3]} {p[5]}"), p[1]) for p in patients}
    assert len(identities) == len(names)
    assert any(re.search("[éèëïçôÉ]", a + b) for a, b in names)
    mobiles = " ".join(p[13] or "" for p in patients)
    assert re.search(r"0\d \d\d \d\d", mobiles) and re.search(r"0\d\.\d\d\.", mobiles)
    assert {p[9][:2] for p in patients} & {"20", "97"}
    invoices = rows_of(practice / "libreosteo" / "invoices.xlsx")[1:]
    fees = [r[5] for r in invoices if r[35] == "invoice"]
    assert min(fees) >= 45 and max(fees) <= 90 and len(set(fees)) >= 4
    assert {r[7] for r in invoices} == {"ecard", "check", "cash", "notpaid"}
    exams = rows_of(practice / "libreosteo" / "examinations.xlsx")[1:]
    assert {r[67] for r in exams} == {1, 2, 3, 4}
    assert any(r[52].startswith("Suite : ") for r in exams)
    assert {r[65] for r in exams} >= {1, 2, 3}


def test_libreosteo_namesakes(practice: Path) -> None:
    """Namesakes elsewhere, in the same city, at the same address; a credit note and its fix.

    The pair at one address differs only by birth date, which invoices do not print: their
    sessions never fall on the same day, so each invoice is theirs by its day, and the one
    corrected at 19:33 (no session then) by the credit note of 19:30 just before.
    """
    folder = practice / "libreosteo"
    with open(folder / "patients.csv", newline="", encoding="utf-8") as handle:
        patients = list(csv.DictReader(handle))
    by_name: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for p in patients:
        by_name[(vocab.fold(p["family_name"]), vocab.fold(p["first_name"]))].append(p)
    pairs = [group for group in by_name.values() if len(group) > 1]
    assert len(pairs) == 3 and all(len(pair) == 2 for pair in pairs)  # one per 50 patients
    address = ("address_street", "address_complement", "address_zipcode", "address_city")
    kinds = {}
    for a, b in pairs:
        assert a["birth_date"] != b["birth_date"] and a["original_name"] == b["original_name"]
        if all(a[k] == b[k] for k in address):
            kinds["same address"] = (a, b)
        elif a["address_city"] == b["address_city"]:
            assert a["address_zipcode"] == b["address_zipcode"]
            assert vocab.fold(a["address_street"]) != vocab.fold(b["address_street"])
            kinds["same city"] = (a, b)
        else:
            kinds["elsewhere"] = (a, b)
    assert set(kinds) == {"same address", "same city", "elsewhere"}

    with open(folder / "examinations.csv", newline="", encoding="utf-8") as handle:
        exams = list(csv.DictReader(handle))
    days: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    starts: dict[tuple[str, str], list[dt.datetime]] = defaultdict(list)
    for e in exams:
        who = (e["patient_detail.family_name"], e["patient_detail.first_name"])
        days[(*who, e["patient_detail.birth_date"])].add(e["date"][:10])
        starts[(*who, e["date"][:10])].append(dt.datetime.fromisoformat(e["date"]))
    for a, b in kinds.values():
        seen = [days[(p["family_name"], p["first_name"], p["birth_date"])] for p in (a, b)]
        assert all(seen)  # both come to the practice
    a, b = kinds["same address"]
    days_a, days_b = (days[(p["family_name"], p["first_name"], p["birth_date"])] for p in (a, b))
    assert not days_a & days_b

    with open(folder / "invoices.csv", newline="", encoding="utf-8") as handle:
        invoices = list(csv.reader(handle))
    header = invoices[0]
    family, first = header.index("Nom d'usage du patient"), header.index("Prénom du patient")
    street, kind, date = header.index("Rue"), header.index("type"), header.index("date")
    snapshot = (a["family_name"], a["first_name"], a["address_street"])  # the pair's, shared
    theirs = [r for r in invoices[1:] if (r[family], r[first], r[street]) == snapshot]
    notes = [r for r in theirs if r[kind] == "creditnote"]
    fixed = [
        r
        for r in theirs
        for note in notes
        if r[kind] == "invoice" and r[date][:10] == note[date][:10] and r[date] > note[date]
    ]
    assert fixed, "a credit note followed by a corrective invoice the same evening"
    for r in fixed:
        when = dt.datetime.fromisoformat(r[date])
        closing = [s for s in starts[(r[family], r[first], r[date][:10])] if s < when]
        assert all(when - s > dt.timedelta(minutes=45) for s in closing)  # closes no session
    ledger = {row[2] for p in (practice / "ledger").glob("recettes-*.csv") for row in _csv_rows(p)}
    assert {n for n in ledger if n.endswith(" (2)")}  # a ledger marks the second namesake


@pytest.mark.slow
def test_larger_practice_three_practitioners(tmp_path: Path) -> None:
    summary = synthesize(tmp_path / "out", years=2, practitioners=3, scale=2.0, seed=1)
    truth = truth_of(tmp_path / "out")
    assert summary.consultations["done"] == truth["totals"]["consultations_done"] > 15_000
    assert summary.rows["libreosteo"]["examinations"] == sum(summary.consultations.values())


def test_patient_core_and_card_are_the_full_record_drawn_faster() -> None:
    """The simulation's core and the writers' card draw the same stream as the full record."""
    from osteo_analytics.synthetic.people import PatientFactory, core_of

    factory = PatientFactory(5)
    created = {i: dt.date(2020, 1, 1) + dt.timedelta(days=i % 700) for i in range(3000)}
    factory.register(lambda i: created[i].toordinal())
    for index in [*range(0, 3000, 7), 2_000_003]:
        day = created.get(index, dt.date(2024, 5, 6))
        created[index] = day
        full = factory.get(index, day)
        assert factory.core(index, day) == core_of(full)
        card = factory.card(index)
        assert (card.family_name, card.first_name, card.original_name, card.birth_date) == (
            full.family_name,
            full.first_name,
            full.original_name,
            full.birth_date,
        )
        assert (card.street, card.complement, card.zipcode, card.city) == (
            full.street,
            full.complement,
            full.zipcode,
            full.city,
        )
        assert factory.ledger_names(index) == full.ledger_name


# --- partial credit notes: the truth's rule on a hand-made chain ---------------------------


def partial_credit_exams() -> list[Exam]:
    """January visits, February credit notes: three partial ones and a full cancellation.

    The practice of tests/test_metrics.py's `PARTIAL_*` tables (patient 0 is P-ONE, 1 P-TWO,
    2 P-THREE), so that the truth can be compared with the SQL. The model links a credit
    note through the invoice's `canceled_by`; only a full cancellation cancels (status 3).
    """
    t, d = dt.datetime, dt.date

    def bill(
        number: str, issued: dt.datetime, cents: int, *money: Payment, status: int = 2
    ) -> Invoice:
        kind = "creditnote" if cents < 0 else "invoice"
        return Invoice(int(number), number, issued, cents, kind, status, "cb", 0, money=[*money])

    def note(
        invoice: Invoice, number: str, issued: dt.datetime, cents: int, *money: Payment
    ) -> list[Invoice]:
        invoice.canceled_by = bill(number, issued, cents, *money)
        return [invoice, invoice.canceled_by]

    one = bill("25001", t(2025, 1, 10, 9, 45), 6000, Payment(d(2025, 1, 10), "cb", 6000))
    two = bill("25002", t(2025, 1, 15, 10, 45), 8000, status=1)  # issued unpaid
    three = bill("25003", t(2025, 1, 20, 11, 45), 5000, Payment(d(2025, 1, 20), "cheque", 5000))
    three.status = 3
    four = bill(
        "25007",
        t(2025, 2, 17, 9, 45),
        7000,
        Payment(d(2025, 2, 17), "cb", 7000),
        Payment(d(2025, 2, 20), "especes", -1000),  # the partial refund, booked on the invoice
    )

    def feb(day: int) -> dt.datetime:  # credit notes are made at the evening's closing
        return t(2025, 2, day, 19, 30)

    refund_one = Payment(d(2025, 2, 12), "cb", -1500)  # booked on the credit note
    refund_three = Payment(d(2025, 2, 3), "cheque", -5000)
    chains = [  # patient, start, LibreOsteo type, invoices
        (0, t(2025, 1, 10, 9), 1, note(one, "25006", feb(12), -1500, refund_one)),
        (1, t(2025, 1, 15, 10), 2, note(two, "25005", feb(5), -2000)),
        (2, t(2025, 1, 20, 11), 4, note(three, "25004", feb(3), -5000, refund_three)),
        (0, t(2025, 2, 17, 9), 2, note(four, "25008", feb(20), -1000)),
    ]
    return [
        Exam(n, patient, 0, start, kind, "done", 2, "", "", invoices=invoices)
        for n, (patient, start, kind, invoices) in enumerate(chains, start=1)
    ]


def test_truth_partial_credit_note_reduces_the_month_it_is_issued_in() -> None:
    book = TruthBook(dt.date(2025, 1, 1), dt.date(2025, 2, 28))
    for exam in partial_credit_exams():
        record_exam(book, exam)
    truth = book.to_json()
    january, february = truth["months"]
    # January: 60 + 80 (25003 is cancelled); February: 70 - 20 - 15 - 10.
    assert (january["revenue_invoiced"], february["revenue_invoiced"]) == ("140.00", "25.00")
    # 25002 owes 80 - 20 credited; 25001 and 25007 are settled net of credits and refunds.
    assert (january["unpaid_invoices"], january["unpaid_amount"]) == (1, "60.00")
    assert (february["unpaid_invoices"], february["unpaid_amount"]) == (0, "0.00")
    assert truth["totals"]["revenue_invoiced"] == "165.00"
    assert truth["totals"]["revenue_received"] == "105.00"


def test_truth_full_cancellation_removes_the_invoice_and_its_credit_note() -> None:
    exams = partial_credit_exams()
    cancelled = exams[2].invoices[0]
    assert partial_credit_note(cancelled) is None  # status 3: a full cancellation
    book = TruthBook(dt.date(2025, 1, 1), dt.date(2025, 2, 28))
    record_exam(book, exams[2])
    truth = book.to_json()
    assert [m["revenue_invoiced"] for m in truth["months"]] == ["0.00", "0.00"]
    assert [m["revenue_received"] for m in truth["months"]] == ["50.00", "-50.00"]
    # A credit note as large as an invoice that stands is not partial: it takes nothing off.
    standing = exams[0].invoices[0]
    assert partial_credit_note(standing) is exams[0].invoices[1]
    standing.canceled_by.amount = -standing.amount  # type: ignore[union-attr]
    assert partial_credit_note(standing) is None

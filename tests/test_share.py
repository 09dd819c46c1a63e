"""Accountant bundles: `osteo keys new --role accountant`, `osteo share`, opening a bundle.

Everything runs for real: the `osteo` command line in a subprocess, the `age` and `tar`
programs to open a bundle as an accountant without this software, DuckDB to read it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import subprocess
import tarfile
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from osteo_analytics import snapshots, vault, workspace
from osteo_analytics.errors import DecryptionError, IntegrityError
from osteo_analytics.share import COLUMNS, MANIFEST, open_bundle, read_bundle, share_domain
from tests.conftest import (
    FAST,
    PASSPHRASE,
    osteo,
    osteo_json,
    osteo_ok,
    served_workspace,
)
from tests.test_no_plaintext import fold, pii_values

PASS = {"OSTEO_PASSPHRASE": PASSPHRASE}
RECIPIENT = re.compile(r"^\s*(age1[0-9a-z]{58})\s*$", re.M)


@dataclass(frozen=True)
class Shared:
    practice: Path  # the practice's workspace
    accountant: Path  # accountant A's workspace, made by `osteo keys new`
    other: Path  # accountant B's
    year: int
    bundle: Path  # the whole cabinet's year, to A
    bundle_other: Path  # the same, to B
    practitioner: str  # the practitioner of the one-practitioner bundle
    bundle_one: Path  # that practitioner's year, to A
    keys_new: subprocess.CompletedProcess[str]


def _recipient(ws: Path) -> str:
    return vault.parse_recipients((ws / "keys/recipients.txt").read_text())[0]


def _identities(ws: Path) -> list[str]:
    return workspace.Workspace(ws).unlock(PASSPHRASE).identities


@pytest.fixture(scope="session")
def shared(
    tmp_path_factory: pytest.TempPathFactory, blank_workspace: Path, practice: Path
) -> Shared:
    folder = tmp_path_factory.mktemp("share")
    ws = served_workspace(blank_workspace, practice, folder / "practice")
    accountant = folder / "accountant"
    made = osteo_ok("--workspace", str(accountant), "keys", "new", "--role", "accountant", env=PASS)
    other = folder / "other"
    workspace.init_workspace(other, PASSPHRASE, work_factor=FAST, role="accountant")
    year = int(json.loads((practice / "libreosteo/ground_truth.json").read_text())["to"][:4])
    bundle, bundle_other, bundle_one = (folder / n for n in ("a.age", "b.age", "one.age"))
    for target, to in ((bundle, accountant), (bundle_other, other)):
        osteo_ok(
            "share", "--to", _recipient(to), "--year", str(year), "--out", str(target),
            workspace=ws, env=PASS,
        )  # fmt: skip
    practitioners = osteo_json(
        "sql", "-c", "FROM practitioners", "--format", "json", workspace=ws, env=PASS
    )
    practitioner = sorted(p["practitioner_id"] for p in practitioners)[0]
    osteo_ok(
        "share", "--to", _recipient(accountant), "--from", f"{year}-01-01",
        "--to", f"{year}-12-31", "--practitioner", practitioner, "--out", str(bundle_one),
        workspace=ws, env=PASS,
    )  # fmt: skip
    return Shared(ws, accountant, other, year, bundle, bundle_other, practitioner, bundle_one, made)


def _untar_with_age(bundle: Path, ws: Path, target: Path) -> dict[str, Path]:
    """What an accountant does without this software: `age -d -i KEY | tar x`."""
    key = target / "key.txt"
    target.mkdir(parents=True, exist_ok=True)
    key.write_text("\n".join(_identities(ws)) + "\n")
    key.chmod(0o600)
    plain = subprocess.run(
        ["age", "-d", "-i", str(key), str(bundle)], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=plain, check=True)
    key.unlink()
    return {p.name: p for p in target.iterdir()}


# --- the accountant's workspace --------------------------------------------------------


def test_keys_new_makes_an_accountant_workspace_and_prints_its_public_key(
    shared: Shared,
) -> None:
    out = shared.keys_new.stdout
    printed = RECIPIENT.findall(out)
    assert printed == [_recipient(shared.accountant)]
    assert "CODE DE SECOURS" in out
    assert workspace.Workspace(shared.accountant).role == "accountant"
    assert workspace.Workspace(shared.practice).role == "practitioner"
    again = osteo(
        "--workspace", str(shared.accountant), "keys", "new", "--role", "accountant", env=PASS
    )
    assert again.returncode == 2
    assert again.stderr.count("\n") == 1 and "déjà un espace de travail" in again.stderr
    audit = osteo_ok("--workspace", str(shared.accountant), "audit", "verify", env=PASS)
    assert audit.returncode == 0


def test_an_accountant_workspace_serves_nothing_without_a_bundle(shared: Shared) -> None:
    result = osteo("--workspace", str(shared.accountant), "serve", "--port", "8999", env=PASS)
    assert result.returncode == 2
    assert result.stderr.strip().endswith("donnez le lot reçu du cabinet avec --bundle FICHIER")


# --- what a bundle holds ---------------------------------------------------------------


def test_a_bundle_opens_with_age_and_tar_and_holds_only_the_allowed_columns(
    shared: Shared, tmp_path: Path
) -> None:
    files = _untar_with_age(shared.bundle, shared.accountant, tmp_path / "x")
    assert sorted(files) == sorted([MANIFEST, *(f"{n}.parquet" for n in COLUMNS)])
    manifest = json.loads(files[MANIFEST].read_text())
    assert manifest["period"] == {"from": f"{shared.year}-01-01", "to": f"{shared.year}-12-31"}
    con = duckdb.connect()
    for name, columns in COLUMNS.items():
        relation = con.read_parquet(str(files[f"{name}.parquet"]))
        assert tuple(relation.columns) == columns
        assert len(relation.fetchall()) == manifest["datasets"][name]["rows"] > 0


def test_no_identifying_or_clinical_value_of_the_input_is_in_a_bundle(
    shared: Shared, practice: Path, tmp_path: Path
) -> None:
    secrets = pii_values(practice / "libreosteo")
    assert len(secrets) > 300  # the scan has something to find
    unlocked = workspace.Workspace(shared.practice).unlock(PASSPHRASE)
    tables = snapshots.read_snapshot(unlocked.workspace.snapshots_dir, unlocked.identities)
    # The practice's own pseudonyms must not travel either: a bundle joins nothing.
    practice_keys = set(tables["patients"].column("patient_key").to_pylist())
    consultation_ids = set(tables["consultations"].column("consultation_id").to_pylist())
    files = _untar_with_age(shared.bundle, shared.accountant, tmp_path / "x")
    con = duckdb.connect()
    stored: list[str] = []
    for name in COLUMNS:
        relation = con.read_parquet(str(files[f"{name}.parquet"]))
        for column, kind in zip(relation.columns, relation.dtypes, strict=True):
            if str(kind) == "VARCHAR" and (name, column) != ("practitioners", "display_name"):
                stored += [v for (v,) in relation.select(column).distinct().fetchall() if v]
    assert len(stored) > 1000
    blob = "\n".join(fold(s) for s in stored)
    assert sorted(s for s in secrets if fold(s) in blob) == []
    assert practice_keys and not practice_keys & set(stored)
    assert consultation_ids and not consultation_ids & set(stored)


def test_the_accountant_key_opens_no_practice_snapshot(shared: Shared, tmp_path: Path) -> None:
    identities = _identities(shared.accountant)
    files = sorted((shared.practice / "snapshots").rglob("*.age"))
    assert len(files) > 3
    for path in files:
        with pytest.raises(DecryptionError):
            vault.decrypt(path.read_bytes(), identities)
    key = tmp_path / "key.txt"
    key.write_text(identities[0] + "\n")
    refused = subprocess.run(["age", "-d", "-i", str(key), str(files[0])], capture_output=True)
    assert refused.returncode != 0 and refused.stdout == b""


def test_the_practice_can_open_what_it_shared_but_another_accountant_cannot(
    shared: Shared,
) -> None:
    with open_bundle(shared.bundle, _identities(shared.practice)) as bundle:
        assert bundle.manifest.rows["invoices"] > 0
    with pytest.raises(DecryptionError):
        read_bundle(shared.bundle.read_bytes(), _identities(shared.other))


def test_bundles_to_two_accountants_cannot_be_joined_on_patient_key(shared: Shared) -> None:
    with (
        open_bundle(shared.bundle, _identities(shared.accountant)) as a,
        open_bundle(shared.bundle_other, _identities(shared.other)) as b,
    ):
        query = "SELECT DISTINCT patient_key FROM invoices WHERE patient_key IS NOT NULL"
        keys_a = {r[0] for r in a.warehouse.con.execute(query).fetchall()}
        keys_b = {r[0] for r in b.warehouse.con.execute(query).fetchall()}
        invoices = "SELECT invoice_number FROM invoices ORDER BY 1"
        same_rows = a.warehouse.con.execute(invoices).fetchall()
        assert same_rows == b.warehouse.con.execute(invoices).fetchall()
    assert len(keys_a) > 50 and len(keys_b) == len(keys_a)
    assert keys_a.isdisjoint(keys_b)
    # Each is the practice pseudonym re-keyed in the accountant's own domain.
    assert share_domain(_recipient(shared.accountant)) != share_domain(_recipient(shared.other))


def test_the_one_practitioner_bundle_holds_their_invoices_only(shared: Shared) -> None:
    with open_bundle(shared.bundle_one, _identities(shared.accountant)) as bundle:
        con = bundle.warehouse.con
        named = {
            r[0] for r in con.execute("SELECT DISTINCT practitioner_id FROM invoices").fetchall()
        }
        people = {r[0] for r in con.execute("SELECT practitioner_id FROM practitioners").fetchall()}
        orphans = con.execute(
            "SELECT count(*) FROM payments WHERE invoice_number NOT IN"
            " (SELECT invoice_number FROM invoices)"
        ).fetchall()[0]
    assert named == people == {shared.practitioner}
    assert orphans == (0,)


@pytest.mark.parametrize("one", [False, True], ids=["cabinet", "practitioner"])
def test_a_bundle_receipts_equal_osteo_metrics_to_the_cent(shared: Shared, one: bool) -> None:
    year = shared.year
    who = ["--practitioner", shared.practitioner] if one else []
    expected = osteo_json(
        "metrics", "--from", f"{year}-01-01", "--to", f"{year}-12-31", *who,
        "--format", "json", workspace=shared.practice, env=PASS,
    )["totals"]  # fmt: skip
    path = shared.bundle_one if one else shared.bundle
    with open_bundle(path, _identities(shared.accountant)) as bundle:
        wh = bundle.warehouse
        assert wh.span == (dt.date(year, 1, 1), dt.date(year, 12, 31))
        received = wh.con.execute(
            "SELECT sum(amount) FROM payments WHERE year(paid_on) = $y", {"y": year}
        ).fetchall()[0]
        tax = wh.metric("tax_2035")
    assert received is not None
    assert f"{received[0]:.2f}" == expected["revenue_received"]
    assert f"{tax['net_receipts'].iloc[0]:.2f}" == expected["revenue_received"]
    assert tax["net_receipts"].iloc[0] == Decimal(expected["revenue_received"])


def test_a_share_is_in_the_audit_log_by_counts_only(shared: Shared) -> None:
    lines = (shared.practice / "audit.log").read_text().splitlines()
    entries = [json.loads(line) for line in lines if '"action":"share"' in line]
    assert len(entries) == 3
    counts = entries[0]["counts"]
    with open_bundle(shared.bundle, _identities(shared.accountant)) as bundle:
        assert {k: counts[k] for k in COLUMNS} == dict(bundle.manifest.rows)
    assert counts["period_from"] == shared.year * 10000 + 101
    osteo_ok("audit", "verify", workspace=shared.practice, env=PASS)


# --- refusals --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to", "age1nope", "--year", "2025"], "destinataire age mal formé"),
        (["--year", "2025", "--to", "2025-12-31"], "--to age1… : donnez une et une seule clé"),
        (["--to", "{r}", "--year", "2025", "--from", "2025-01-01"], "--year ou --from/--to"),
        (["--to", "{r}", "--to", "31/12/2025", "--from", "2025-01-01"], "ni une clé age1…"),
        (["--to", "{r}", "--from", "2025-02-01", "--to", "2025-01-01"], "--from est après --to"),
        (["--to", "{r}"], "période : --year AAAA"),
        (["--to", "{r}", "--year", "2025", "--practitioner", "PR-NOBODY"], "praticien inconnu"),
        (["--to", "{r}", "--year", "2025", "--out", "/nonexistent/x.age"], "n'existe pas"),
    ],
)
def test_bad_share_requests_get_one_line_and_write_nothing(
    shared: Shared, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "lot.age"
    filled = [a.replace("{r}", _recipient(shared.accountant)) for a in args]
    result = osteo("share", "--out", str(out), *filled, workspace=shared.practice, env=PASS)
    assert result.returncode in (1, 2), result.stderr
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_serving_a_damaged_or_foreign_bundle_is_one_line(shared: Shared, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.age"
    data = bytearray(shared.bundle.read_bytes())
    data[len(data) // 2] ^= 0x01
    damaged.write_bytes(bytes(data))
    for bundle, ws in ((damaged, shared.accountant), (shared.bundle, shared.other)):
        result = osteo("serve", "--bundle", str(bundle), "--port", "8998", workspace=ws, env=PASS)
        assert result.returncode == 1, result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    result = osteo(
        "serve", "--bundle", str(shared.bundle), "--app", "revenue", workspace=shared.accountant,
        env=PASS,
    )  # fmt: skip
    assert result.returncode == 2 and "--app accountant" in result.stderr


def _forged(members: dict[str, bytes], recipient: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return vault.encrypt(buffer.getvalue(), [recipient])


def test_opening_refuses_a_bundle_with_a_column_or_file_outside_the_allow_list(
    shared: Shared,
) -> None:
    identities = _identities(shared.accountant)
    manifest, tables = read_bundle(shared.bundle.read_bytes(), identities)
    recipient = _recipient(shared.accountant)
    members = {MANIFEST: manifest.to_json()} | {
        f"{n}.parquet": snapshots.parquet_bytes(t) for n, t in tables.items()
    }
    assert read_bundle(_forged(members, recipient), identities)[0] == manifest  # the control
    extra = dict(members, **{"notes.txt": b"motif"})
    with pytest.raises(IntegrityError, match="élément inattendu"):
        read_bundle(_forged(extra, recipient), identities)
    invoices = tables["invoices"].append_column(
        "motif", pa.array(["lombalgie"] * tables["invoices"].num_rows)
    )
    data = snapshots.parquet_bytes(invoices)
    digests = dict(manifest.sha256, invoices=hashlib.sha256(data).hexdigest())
    widened = dict(
        members,
        **{MANIFEST: replace(manifest, sha256=digests).to_json(), "invoices.parquet": data},
    )
    with pytest.raises(IntegrityError, match=r"invoices\.parquet : colonnes"):
        read_bundle(_forged(widened, recipient), identities)

"""Accountant bundles: the finance-only, re-pseudonymized share of one period.

`create_share()` writes ONE age file, encrypted to the accountant's recipient (and to the
practice's own, so the practice can check what it sent). Inside, a plain POSIX tar:

```
manifest.json          format, version, period, practitioner, share id, row counts, sha256
practitioners.parquet  practitioner_id, display_name, role
invoices.parquet       invoice_number, patient_key, practitioner_id, issued_on, amount,
                       status, replaces_invoice_number, cancels_invoice_number, source
payments.parquet       payment_id, invoice_number, paid_on, amount, method, source
```

Only these columns ever leave (an allow-list, not a deny-list): no patient attribute but
the key, no consultation, no motif, no clinical column. The patient key is re-keyed in the
accountant's own pseudonym domain (`share:<accountant key id>`): two accountants' bundles
cannot be joined on it, nor can a bundle be joined with the practice's snapshots; the same
accountant sees the same pseudonym for a patient from one year's bundle to the next.

What a bundle holds for a period [from, to] and, optionally, one practitioner:
- the payments (and refunds) dated in the period: the receipts, the BNC tax basis; with a
  practitioner, those of their invoices (a payment naming no known invoice cannot be
  attributed: it is left out and counted in the manifest);
- the invoices issued in the period, the invoices those payments settle (issued earlier),
  and the invoices a credit note or a replacement of the bundle names (one step), so
  chains read whole;
- the payments dated before the end of the period of those invoices (an invoice's balance);
- the practitioners the invoices name.

Recovery without this software: `age -d -i KEY bundle.age | tar x`, then any Parquet
reader. `open_bundle()` does the same in memory and returns the same hardened `Warehouse`
as the practice's (patients and consultations empty; the default period is the bundle's).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import secrets as _random
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from osteo_analytics import snapshots, vault
from osteo_analytics.atomic import atomic_write
from osteo_analytics.contracts.model import load_contracts
from osteo_analytics.errors import IntegrityError, UsageError
from osteo_analytics.keys import key_id
from osteo_analytics.pseudonymize.primitives import derive_key, repseudonymize_array
from osteo_analytics.settings import SETTINGS, load_settings
from osteo_analytics.warehouse import Warehouse, load_warehouse, open_warehouse
from osteo_analytics.workspace import Unlocked

FORMAT = "osteo-analytics accountant bundle"
VERSION = 1
MANIFEST = "manifest.json"
ENV_BUNDLE = "OSTEO_BUNDLE"  # the bundle's path (no secret) for the accountant app's kernel
# What a bundle may hold, column by column: anything else is refused when opening.
COLUMNS: Mapping[str, tuple[str, ...]] = {
    "practitioners": ("practitioner_id", "display_name", "role"),
    "invoices": (
        "invoice_number",
        "patient_key",
        "practitioner_id",
        "issued_on",
        "amount",
        "status",
        "replaces_invoice_number",
        "cancels_invoice_number",
        "source",
    ),
    "payments": ("payment_id", "invoice_number", "paid_on", "amount", "method", "source"),
}
_MAX_BUNDLE = 2 << 30  # 2 GiB of plaintext: far beyond a practice's twenty years


def share_domain(recipient: str) -> str:
    """The pseudonym domain of an accountant: `share:<key id>` (`keys.key_id`)."""
    return f"share:{key_id(vault.parse_recipient(recipient))}"


@dataclass(frozen=True)
class BundleManifest:
    """What `manifest.json` says of a bundle."""

    share_id: str
    created_at: str
    date_from: dt.date
    date_to: dt.date
    practitioner: str | None
    recipient_key_id: str
    rows: Mapping[str, int]
    sha256: Mapping[str, str]
    payments_unattributed: int

    def to_json(self) -> bytes:
        data = {
            "format": FORMAT,
            "version": VERSION,
            "share_id": self.share_id,
            "created_at": self.created_at,
            "period": {"from": self.date_from.isoformat(), "to": self.date_to.isoformat()},
            "practitioner": self.practitioner,
            "recipient_key_id": self.recipient_key_id,
            "datasets": {
                name: {"file": f"{name}.parquet", "rows": self.rows[name], "sha256": digest}
                for name, digest in self.sha256.items()
            },
            "payments_unattributed": self.payments_unattributed,
        }
        return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes) -> BundleManifest:
        try:
            doc = json.loads(data)
            if doc.get("format") != FORMAT:
                raise ValueError("format")
            if doc.get("version") != VERSION:
                raise UsageError(
                    "lot écrit par une version plus récente d'osteo-analytics : mettez-le à jour"
                )
            datasets = doc["datasets"]
            if set(datasets) != set(COLUMNS):
                raise ValueError("datasets")
            return cls(
                share_id=str(doc["share_id"]),
                created_at=str(doc["created_at"]),
                date_from=dt.date.fromisoformat(doc["period"]["from"]),
                date_to=dt.date.fromisoformat(doc["period"]["to"]),
                practitioner=doc["practitioner"],
                recipient_key_id=str(doc["recipient_key_id"]),
                rows={name: int(datasets[name]["rows"]) for name in COLUMNS},
                sha256={name: str(datasets[name]["sha256"]) for name in COLUMNS},
                payments_unattributed=int(doc.get("payments_unattributed", 0)),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise IntegrityError("le manifeste du lot est illisible ou incomplet") from None


@dataclass(frozen=True)
class ShareResult:
    path: Path
    manifest: BundleManifest


@dataclass
class Bundle:
    """An opened bundle: its manifest and the warehouse over it (close it when done)."""

    manifest: BundleManifest
    warehouse: Warehouse

    def close(self) -> None:
        self.warehouse.close()

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- writing ---------------------------------------------------------------------------

_SELECT = {
    # Payments of the period; with a practitioner, only those of their invoices.
    "period_payments": """
        SELECT p.* FROM payments AS p
        LEFT JOIN invoices AS i USING (invoice_number)
        WHERE p.paid_on BETWEEN $date_from AND $date_to
          AND ($practitioner IS NULL OR i.practitioner_id = $practitioner)
    """,
    "unattributed": """
        SELECT count(*) FROM payments AS p
        WHERE p.paid_on BETWEEN $date_from AND $date_to AND $practitioner IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM invoices AS i WHERE i.invoice_number = p.invoice_number)
    """,
}
_INVOICES = """
    WITH direct AS (
        SELECT invoice_number FROM invoices
        WHERE issued_on BETWEEN $date_from AND $date_to
          AND ($practitioner IS NULL OR practitioner_id = $practitioner)
        UNION
        SELECT invoice_number FROM period_payments WHERE invoice_number IS NOT NULL
    ),
    linked AS (  -- one step along credit notes and replacements, both ways
        SELECT invoice_number FROM direct
        UNION
        SELECT i.cancels_invoice_number FROM invoices AS i JOIN direct USING (invoice_number)
        UNION
        SELECT i.replaces_invoice_number FROM invoices AS i JOIN direct USING (invoice_number)
        UNION
        SELECT i.invoice_number FROM invoices AS i
        WHERE i.cancels_invoice_number IN (SELECT invoice_number FROM direct)
           OR i.replaces_invoice_number IN (SELECT invoice_number FROM direct)
    )
    SELECT DISTINCT i.* FROM invoices AS i
    WHERE i.invoice_number IN (SELECT invoice_number FROM linked)
      AND ($practitioner IS NULL OR i.practitioner_id = $practitioner)
"""
_PAYMENTS = """
    SELECT * FROM period_payments
    UNION
    SELECT p.* FROM payments AS p
    WHERE p.paid_on <= $date_to
      AND p.invoice_number IN (SELECT invoice_number FROM shared_invoices)
"""


def create_share(
    unlocked: Unlocked,
    *,
    recipient: str,
    date_from: dt.date,
    date_to: dt.date,
    out: Path,
    practitioner: str | None = None,
    now: dt.datetime | None = None,
) -> ShareResult:
    """Write the bundle of [date_from, date_to] (one practitioner's, or the cabinet's) to
    `out`, encrypted to `recipient` and to the practice; recorded in the audit log."""
    recipient = vault.parse_recipient(recipient)
    if date_from > date_to:
        raise UsageError("période vide : la date de début est après la date de fin")
    created = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    params = {"date_from": date_from, "date_to": date_to, "practitioner": practitioner}
    with open_warehouse(unlocked) as wh:
        if practitioner is not None:
            wh.practitioner_filter(practitioner)  # UsageError for an unknown id
        con = wh.con
        period_payments = wh.arrow(_SELECT["period_payments"], params)
        unattributed = int(wh.arrow(_SELECT["unattributed"], params).column(0)[0].as_py())
        con.register("period_payments", period_payments)
        invoices = wh.arrow(_INVOICES, params)
        con.register("shared_invoices", invoices)
        payments = wh.arrow(_PAYMENTS, {"date_to": date_to})
        practitioners = wh.arrow(
            "SELECT * FROM practitioners WHERE practitioner_id IN"
            " (SELECT practitioner_id FROM shared_invoices)"
            " OR practitioner_id = $practitioner ORDER BY practitioner_id",
            {"practitioner": practitioner},
        )
        con.unregister("period_payments")
        con.unregister("shared_invoices")
        snapshot = wh.snapshot
    domain_key = derive_key(unlocked.secrets.pseudonym_key, share_domain(recipient))
    invoices = invoices.set_column(
        invoices.schema.get_field_index("patient_key"),
        "patient_key",
        repseudonymize_array(domain_key, invoices.column("patient_key")),
    )
    tables = {
        "practitioners": practitioners,
        "invoices": invoices.sort_by([("issued_on", "ascending"), ("invoice_number", "ascending")]),
        "payments": payments.sort_by([("paid_on", "ascending"), ("payment_id", "ascending")]),
    }
    files: dict[str, bytes] = {}
    for name, table in tables.items():
        files[name] = snapshots.parquet_bytes(table.select(list(COLUMNS[name])))
    manifest = BundleManifest(
        share_id=_random.token_hex(8),
        created_at=created.isoformat(),
        date_from=date_from,
        date_to=date_to,
        practitioner=practitioner,
        recipient_key_id=key_id(recipient),
        rows={name: tables[name].num_rows for name in COLUMNS},
        sha256={name: hashlib.sha256(files[name]).hexdigest() for name in COLUMNS},
        payments_unattributed=unattributed,
    )
    archive = _tar({MANIFEST: manifest.to_json()} | {f"{n}.parquet": d for n, d in files.items()})
    practice = unlocked.recipients()
    atomic_write(out, vault.encrypt(archive, list(dict.fromkeys([recipient, *practice]))))
    unlocked.audit().append(
        "share",
        actor="practitioner",
        snapshot=snapshot,
        counts={
            **{name: manifest.rows[name] for name in COLUMNS},
            "payments_unattributed": unattributed,
            "period_from": int(date_from.strftime("%Y%m%d")),
            "period_to": int(date_to.strftime("%Y%m%d")),
        },
        now=created,
    )
    return ShareResult(out, manifest)


def _tar(members: Mapping[str, bytes]) -> bytes:
    """A POSIX (ustar) tar of `members`, in order, with fixed metadata (no user names)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o600
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


# --- reading ---------------------------------------------------------------------------


def read_bundle(
    data: bytes, identities: Sequence[str]
) -> tuple[BundleManifest, dict[str, pa.Table]]:
    """Decrypt and check a bundle in memory: its manifest and its three tables."""
    plain = vault.decrypt(data, identities)
    members: dict[str, bytes] = {}
    expected = {MANIFEST} | {f"{name}.parquet" for name in COLUMNS}
    try:
        with tarfile.open(fileobj=io.BytesIO(plain), mode="r:") as tar:
            for info in tar:
                if not info.isfile() or info.name not in expected or info.name in members:
                    raise IntegrityError("le lot contient un élément inattendu")
                if info.size > _MAX_BUNDLE:
                    raise IntegrityError("le lot contient un élément trop grand")
                handle = tar.extractfile(info)
                assert handle is not None
                members[info.name] = handle.read()
    except tarfile.TarError:
        raise IntegrityError("le lot est endommagé (archive illisible)") from None
    if set(members) != expected:
        raise IntegrityError("le lot est incomplet")
    manifest = BundleManifest.from_json(members[MANIFEST])
    tables: dict[str, pa.Table] = {}
    for name, columns in COLUMNS.items():
        data_file = members[f"{name}.parquet"]
        if hashlib.sha256(data_file).hexdigest() != manifest.sha256[name]:
            raise IntegrityError(f"{name}.parquet : ne correspond pas au manifeste du lot")
        try:
            table = pq.read_table(io.BytesIO(data_file))
        except (pa.ArrowException, OSError):
            raise IntegrityError(f"{name}.parquet : fichier Parquet illisible") from None
        if tuple(table.column_names) != columns or table.num_rows != manifest.rows[name]:
            raise IntegrityError(f"{name}.parquet : colonnes ou lignes inattendues")
        tables[name] = table
    return manifest, tables


def open_bundle(
    path: Path, identities: Sequence[str], *, settings_root: Path | None = None
) -> Bundle:
    """Decrypt the bundle at `path` in memory and load it into a hardened warehouse.

    Patients and consultations are empty; invoices have no consultation (the column is
    null); the warehouse's default period is the bundle's. `settings_root` is the
    workspace whose config.toml gives the settings (thresholds, time zone).
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{Path(path).name} : lot illisible ({exc.strerror})") from None
    manifest, tables = read_bundle(data, identities)
    contracts = load_contracts()
    full: dict[str, pa.Table] = {}
    for dataset in snapshots.DATASETS:
        schema = contracts[dataset].arrow_schema()
        table = tables.get(dataset)
        if table is None:
            full[dataset] = schema.empty_table()
            continue
        columns = [
            table.column(f.name).cast(f.type)
            if f.name in table.column_names
            else pa.nulls(table.num_rows, f.type)
            for f in schema
        ]
        full[dataset] = pa.Table.from_arrays(columns, schema=schema)
    settings: dict[str, Any] = (
        load_settings(settings_root)
        if settings_root is not None
        else {s.name: s.default for s in SETTINGS}
    )
    warehouse = load_warehouse(
        full,
        name=f"lot-{manifest.share_id}",
        settings=settings,
        span=(manifest.date_from, manifest.date_to),
    )
    return Bundle(manifest, warehouse)

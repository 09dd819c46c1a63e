"""Stage 1 → stage 2: source tables with identity in clear → canonical pseudonymized tables.

This is the only place where the identity columns of a `SourceBatch` are read, and what
it returns holds none of them (docs/datasets.md). Provenance (`source_row`) is kept for
quarantine reports; `provenance=False` strips it (and `source_file`, which can be a
patient's name for Word files) before anything is stored.

Invoice numbers a source did not give (`number_basis` set) are computed here, where the
keyed patient key exists: `pseudonymize.generated_number` over the source, the basis, the
patient key and the practitioner id. Every reference follows the provisional number it
replaces: payments' `invoice_number` and `payment_id`, `replaces_`/`cancels_invoice_number`.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa
import pyarrow.compute as pc

from osteo_analytics.contracts.model import load_contracts
from osteo_analytics.pseudonymize import primitives as ps
from osteo_analytics.sources.base import SourceBatch

PROVENANCE = ("source_file", "source_row")


def stored_columns(dataset: str) -> list[str]:
    """Columns a dataset keeps after pseudonymization, in contract order."""
    return load_contracts()[dataset].snapshot_columns()


def _practitioner_ids(key: bytes, names: pa.ChunkedArray | pa.Array) -> pa.Array:
    cache: dict[str, str] = {}
    out = []
    for name in names.to_pylist():
        if name not in cache:
            cache[name] = ps.practitioner_id(key, name)
        out.append(cache[name])
    return pa.array(out, pa.string())


def _patient_keys(key: bytes, table: pa.Table, prefix: str) -> pa.Array:
    return ps.patient_keys(
        key,
        table.column(f"{prefix}family_name"),
        table.column(f"{prefix}first_name"),
        table.column(f"{prefix}birth_date"),
    )


def _consultation_ids(
    key: bytes, patient_keys: pa.Array, table: pa.Table, practitioner_ids: pa.Array
) -> pa.Array:
    rows = zip(
        patient_keys.to_pylist(),
        table.column("consulted_on").to_pylist(),
        table.column("start_time").to_pylist(),
        practitioner_ids.to_pylist(),
        strict=True,
    )
    return pa.array(
        [
            ps.consultation_id(key, pk, day, start, pr) if pk is not None else None
            for pk, day, start, pr in rows
        ],
        pa.string(),
    )


def _generated_numbers(key: bytes, invoices: pa.Table) -> dict[str, str]:
    """Provisional number → final number, for the invoices whose number was generated.

    `invoices` holds the stage-1 columns plus `patient_key` and `practitioner_id`. A row
    whose patient cannot be keyed keeps its provisional number: the contract check
    quarantines it for the missing key.
    """
    generated = invoices.filter(pc.is_valid(invoices.column("number_basis")))
    rows = zip(
        *(
            generated.column(c).to_pylist()
            for c in (
                "invoice_number",
                "number_basis",
                "source",
                "issued_on",
                "patient_key",
                "practitioner_id",
            )
        ),
        strict=True,
    )
    keyed = [
        (number, (number.partition("-")[0], day, (source, patient, practitioner, basis)))
        for number, basis, source, day, patient, practitioner in rows
        if patient is not None
    ]
    finals = ps.generated_numbers(key, (row for _, row in keyed))
    return {number: final for (number, _), final in zip(keyed, finals, strict=True)}


def _renumber(
    table: pa.Table, column: str, final: Mapping[str, str], *, suffix: bool = False
) -> pa.Table:
    """Replace provisional numbers in `column` (`suffix`: also `<number>/<n>` values)."""
    values = table.column(column).to_pylist()
    out = []
    for value in values:
        if value is not None and suffix:
            head, slash, tail = value.rpartition("/")
            if slash and head in final:
                value = f"{final[head]}/{tail}"
        out.append(final.get(value, value) if value is not None else None)
    index = table.schema.get_field_index(column)
    return table.set_column(index, table.schema.field(index), pa.array(out, pa.string()))


def _select(table: pa.Table, dataset: str, provenance: bool) -> pa.Table:
    columns = stored_columns(dataset)
    if provenance:
        columns += [c for c in PROVENANCE if c in table.column_names]
    return table.select(columns)


def pseudonymize_batch(
    batch: SourceBatch, key: bytes, *, provenance: bool = True
) -> dict[str, pa.Table]:
    """Turn a source batch into the five canonical tables, keyed with `key` (a derived key).

    Rows whose identity cannot be keyed get a null key; the contract check quarantines
    them with the not_null rule and their source row number.
    """
    practitioners = batch.practitioners
    practitioners = practitioners.append_column(
        "practitioner_id", _practitioner_ids(key, practitioners.column("display_name"))
    )

    patients = batch.patients
    patients = patients.append_column("patient_key", _patient_keys(key, patients, ""))
    patients = patients.append_column("birth_year", ps.birth_years(patients.column("birth_date")))
    patients = patients.append_column("departement", ps.departements(patients.column("postcode")))

    consultations = batch.consultations
    c_patients = _patient_keys(key, consultations, "patient_")
    c_practitioners = _practitioner_ids(key, consultations.column("practitioner_name"))
    c_ids = _consultation_ids(key, c_patients, consultations, c_practitioners)
    consultations = (
        consultations.append_column("patient_key", c_patients)
        .append_column("practitioner_id", c_practitioners)
        .append_column("consultation_id", c_ids)
    )

    invoices = batch.invoices
    ref_to_id: Mapping[str, str | None] = dict(
        zip(
            batch.consultations.column("consultation_ref").to_pylist(),
            c_ids.to_pylist(),
            strict=True,
        )
    )
    refs = invoices.column("consultation_ref").to_pylist()
    invoices = (
        invoices.append_column("patient_key", _patient_keys(key, invoices, "patient_"))
        .append_column(
            "practitioner_id", _practitioner_ids(key, invoices.column("practitioner_name"))
        )
        .append_column(
            "consultation_id",
            pa.array([ref_to_id.get(r) if r is not None else None for r in refs], pa.string()),
        )
    )

    payments = batch.payments
    final = _generated_numbers(key, invoices)
    if final:
        for column in ("invoice_number", "replaces_invoice_number", "cancels_invoice_number"):
            invoices = _renumber(invoices, column, final)
        payments = _renumber(payments, "invoice_number", final)
        payments = _renumber(payments, "payment_id", final, suffix=True)

    tables = {
        "practitioners": practitioners,
        "patients": patients,
        "consultations": consultations,
        "invoices": invoices,
        "payments": payments,
    }
    return {name: _select(table, name, provenance) for name, table in tables.items()}


def strip_provenance(tables: Mapping[str, pa.Table]) -> dict[str, pa.Table]:
    """Drop the provenance columns before storing (file names can hold patient names)."""
    return {
        name: table.drop_columns([c for c in PROVENANCE if c in table.column_names])
        for name, table in tables.items()
    }


__all__ = ["pseudonymize_batch", "stored_columns", "strip_provenance"]

-- Shared definitions of the metric files (not a metric: files starting with `_` are not).
-- The warehouse creates them once, after the canonical views and before the metric views,
-- while the connection is still unlocked (docs/metrics.md, "Shared definitions"). Each rule
-- is written here once: no metric file has its own calendar, period test, visit,
-- encaissé or facturé rule (tests/test_metric_sql.py fails when one does).
--
-- Periods are days, both bounds included. A NULL bound is the whole history on that side:
-- in_period leaves it open, and a calendar or an "as of" day takes the loaded data's span
-- (data_span), the same default as Warehouse.defaults().
--
-- Practitioners: every macro over consultations, invoices or payments takes a last,
-- optional `practitioners := ...` (VARCHAR[] of practitioner_id; NULL, the default, is the
-- whole cabinet) and keeps the rows for_practitioners says belong to the selection.

-- === periods ===========================================================================

-- data_span: the first day of the first month and the last day of the last month holding a
-- consultation, invoice or payment (Warehouse.span, the default period; NULLs when empty).
-- A one-row table, computed once: the loaded data never changes.
CREATE TABLE data_span AS
WITH days AS (
    SELECT consulted_on AS day FROM consultations
    UNION ALL SELECT issued_on FROM invoices
    UNION ALL SELECT paid_on FROM payments
)
SELECT CAST(date_trunc('month', min(day)) AS DATE) AS first_day,
       CAST(last_day(max(day)) AS DATE) AS last_day
FROM days;

-- period_begin(date_from), period_end(date_to): a bound as a day, NULL meaning the span's
-- (for calendars and "as of" days; a filter takes in_period, which DuckDB folds).
CREATE MACRO period_begin(date_from) AS
    coalesce(CAST(date_from AS DATE), (SELECT first_day FROM data_span));

CREATE MACRO period_end(date_to) AS
    coalesce(CAST(date_to AS DATE), (SELECT last_day FROM data_span));

-- in_period(d, date_from, date_to): day d is in [date_from, date_to]; a NULL bound is open
-- (bounds are constants once bound, so DuckDB folds this into a range filter on the scan).
-- A NULL day is in no period.
CREATE MACRO in_period(d, date_from, date_to) AS
    d BETWEEN coalesce(CAST(date_from AS DATE), DATE '-infinity')
          AND coalesce(CAST(date_to AS DATE), DATE 'infinity');

-- period_of(grain, d): the first day of the day, week (ISO: Monday), month or year of d.
CREATE MACRO period_of(grain, d) AS CAST(date_trunc(grain, CAST(d AS DATE)) AS DATE);

-- period_calendar(grain, date_from, date_to): one row per day, week, month or year meeting
-- [date_from, date_to], so that empty periods show as zeros: period_start, its first day
-- (the first period may begin before date_from: the week or month holding it).
CREATE MACRO period_calendar(grain, date_from, date_to) AS TABLE
SELECT CAST(unnest(generate_series(
    CAST(period_of(grain, period_begin(date_from)) AS TIMESTAMP),
    CAST(period_end(date_to) AS TIMESTAMP),
    CASE grain
        WHEN 'day' THEN INTERVAL 1 DAY
        WHEN 'week' THEN INTERVAL 7 DAY
        WHEN 'month' THEN INTERVAL 1 MONTH
        ELSE INTERVAL 1 YEAR
    END
)) AS DATE) AS period_start;

-- === practitioners =====================================================================

-- all_practitioners(practitioners): whether a practitioner filter is the whole cabinet
-- (NULL). for_practitioners(practitioner_id, practitioners): whether a row of that
-- practitioner belongs to the selection: always when the filter is NULL, else when the
-- list holds its id (a row of no practitioner, such as a payment whose invoice is unknown,
-- then belongs to none). Both are constants once bound: DuckDB folds a NULL filter away
-- and a one-id filter into an equality on the scan.
CREATE MACRO all_practitioners(practitioners) AS CAST(practitioners AS VARCHAR[]) IS NULL;

CREATE MACRO for_practitioners(practitioner_id, practitioners) AS
    all_practitioners(practitioners)
    OR list_contains(CAST(practitioners AS VARCHAR[]), practitioner_id);

-- euros(x): an amount as the metrics return it: DECIMAL(18, 2), zero when there is none.
CREATE MACRO euros(x) AS CAST(coalesce(x, 0) AS DECIMAL(18, 2));

-- The per-period figures below aggregate first, then join the calendar: a period without
-- rows has every figure zero (`coalesce(COLUMNS(x.* EXCLUDE (period_start)), 0)`).

-- === activity: consultations by consulted_on ===========================================

-- appointments(date_from, date_to): the consultations of the period, any status, of the
-- practitioners (a consultation belongs to its practitioner); is_visit marks a visit, a
-- done consultation: what every activity figure counts (cancelled and missed appointments
-- are not visits). visits(date_from, date_to): the visits only.
CREATE MACRO appointments(date_from, date_to, practitioners := NULL) AS TABLE
SELECT *, status = 'done' AS is_visit
FROM consultations
WHERE in_period(consulted_on, date_from, date_to)
  AND for_practitioners(practitioner_id, practitioners);

CREATE MACRO visits(date_from, date_to, practitioners := NULL) AS TABLE
SELECT * FROM appointments(date_from, date_to, practitioners := practitioners) WHERE is_visit;

-- appointments_by_period(grain, date_from, date_to): per calendar period, appointments done
-- (visits), cancelled, no_show and all of them.
CREATE MACRO appointments_by_period(grain, date_from, date_to, practitioners := NULL) AS TABLE
SELECT c.period_start, coalesce(COLUMNS(a.* EXCLUDE (period_start)), 0)
FROM period_calendar(grain, date_from, date_to) AS c
LEFT JOIN (
    SELECT period_of(grain, consulted_on) AS period_start,
           count(*) FILTER (WHERE is_visit) AS done,
           count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
           count(*) FILTER (WHERE status = 'no_show') AS no_show,
           count(*) AS appointments
    FROM appointments(date_from, date_to, practitioners := practitioners)
    GROUP BY 1
) AS a ON a.period_start = c.period_start;

-- visitors_by_period(grain, date_from, date_to): per calendar period, the distinct patients
-- visited and their visits (a distinct count costs more: apart from appointments_by_period,
-- so that the plain counts do not pay for it).
CREATE MACRO visitors_by_period(grain, date_from, date_to, practitioners := NULL) AS TABLE
SELECT c.period_start, coalesce(COLUMNS(v.* EXCLUDE (period_start)), 0)
FROM period_calendar(grain, date_from, date_to) AS c
LEFT JOIN (
    SELECT period_of(grain, consulted_on) AS period_start,
           count(DISTINCT patient_key) AS patients,
           count(*) AS visits
    FROM visits(date_from, date_to, practitioners := practitioners)
    GROUP BY 1
) AS v ON v.period_start = c.period_start;

-- new_patients_by_period(grain, date_from, date_to): per calendar period, first_visits =
-- patients whose first visit over the whole history with the practitioners falls in it
-- (practitioner_history, complete even when only some years are loaded: a patient who saw
-- a colleague before is new to a practitioner; for the whole cabinet, patient_history's
-- first visit), and registered = patient files created in it (patients.registered_on,
-- LibreOsteo's count) by the practitioners: a file belongs to the practitioner of the
-- patient's first appointment, any status (the smaller practitioner_id when two share that
-- day); a file never booked belongs to none.
CREATE MACRO new_patients_by_period(grain, date_from, date_to, practitioners := NULL) AS TABLE
SELECT c.period_start, coalesce(COLUMNS(n.* EXCLUDE (period_start)), 0)
FROM period_calendar(grain, date_from, date_to) AS c
LEFT JOIN (
    SELECT period_of(grain, day) AS period_start,
           count(*) FILTER (WHERE event = 'first_visit') AS first_visits,
           count(*) FILTER (WHERE event = 'registered') AS registered
    FROM (
        -- the whole cabinet reads the per-patient history and files, as they are
        SELECT first_done_on AS day, 'first_visit' AS event FROM patient_history
        WHERE all_practitioners(practitioners)
        UNION ALL
        SELECT registered_on, 'registered' FROM patients
        WHERE all_practitioners(practitioners)
        UNION ALL
        SELECT min(first_done_on), 'first_visit' FROM practitioner_history
        WHERE NOT all_practitioners(practitioners)
          AND for_practitioners(practitioner_id, practitioners)
        GROUP BY patient_key
        UNION ALL
        SELECT p.registered_on, 'registered'
        FROM patients AS p
        JOIN patient_history AS h USING (patient_key)
        WHERE NOT all_practitioners(practitioners)
          AND for_practitioners(h.first_practitioner_id, practitioners)
    )
    WHERE in_period(day, date_from, date_to)
    GROUP BY 1
) AS n ON n.period_start = c.period_start;

-- === facturé: invoices by issued_on ====================================================

-- live_invoices: what counts as facturé, one row per document, dated by issued_on.
--   kind 'invoice'              an invoice that stands (status issued or paid), at its
--                               amount; replacement invoices are such invoices;
--   kind 'partial_credit_note'  a credit note (negative amount) whose
--                               cancels_invoice_number is an invoice that stands and whose
--                               absolute amount is less than that invoice's: it reduces
--                               facturé on its own issue day.
-- Every other document is left out: cancelled invoices, the credit notes of a full
-- cancellation (their invoice is cancelled), and credit notes that reduce no standing
-- invoice (unlinked, linked to an unknown invoice, or not smaller than it).
-- base_invoice_number is the invoice a row belongs to (itself, or the invoice a partial
-- credit note reduces); a partial credit note takes that invoice's patient, practitioner
-- and consultation, so facturé per practitioner or per act type nets out per invoice.
-- store.credited_invoices holds the invoices credit notes name when the warehouse loaded
-- only some years and the invoice is in another one (warehouse.py); it is empty otherwise.
CREATE VIEW live_invoices AS
SELECT
    invoice_number,
    invoice_number AS base_invoice_number,
    'invoice' AS kind,
    issued_on,
    amount,
    status,
    patient_key,
    practitioner_id,
    consultation_id,
    replaces_invoice_number
FROM invoices
WHERE status IN ('issued', 'paid')
UNION ALL
SELECT
    cn.invoice_number,
    i.invoice_number,
    'partial_credit_note',
    cn.issued_on,
    cn.amount,
    cn.status,
    i.patient_key,
    i.practitioner_id,
    i.consultation_id,
    CAST(NULL AS VARCHAR)
FROM invoices AS cn
JOIN (
    SELECT * FROM invoices
    UNION ALL
    SELECT * FROM store.credited_invoices
) AS i ON i.invoice_number = cn.cancels_invoice_number
WHERE cn.status = 'credit_note'
  AND i.status IN ('issued', 'paid')
  AND cn.amount < 0
  AND -cn.amount < i.amount;

-- invoice_balances(as_of): each invoice that stands, as it is on day `as_of` (NULL: today,
-- every document and payment loaded):
--   credited   what its partial credit notes issued on or before as_of took off (>= 0);
--   net_amount amount - credited;
--   received   payments up to as_of booked on it or on its partial credit notes (a credit
--              note's refund is often booked under the credit note's own number);
--   due        net_amount - received (negative when more was received than is owed).
CREATE MACRO invoice_balances(as_of) AS TABLE
WITH credited AS (
    SELECT base_invoice_number AS invoice_number, -sum(amount) AS credited
    FROM live_invoices
    WHERE kind = 'partial_credit_note' AND in_period(issued_on, NULL, as_of)
    GROUP BY 1
),
received AS (
    SELECT l.base_invoice_number AS invoice_number, sum(p.amount) AS received
    FROM payments AS p
    JOIN live_invoices AS l ON l.invoice_number = p.invoice_number
    WHERE in_period(p.paid_on, NULL, as_of)
    GROUP BY 1
)
SELECT
    l.invoice_number,
    l.issued_on,
    l.status,
    l.patient_key,
    l.practitioner_id,
    l.amount,
    coalesce(c.credited, 0) AS credited,
    l.amount - coalesce(c.credited, 0) AS net_amount,
    coalesce(r.received, 0) AS received,
    l.amount - coalesce(c.credited, 0) - coalesce(r.received, 0) AS due
FROM live_invoices AS l
LEFT JOIN credited AS c ON c.invoice_number = l.invoice_number
LEFT JOIN received AS r ON r.invoice_number = l.invoice_number
WHERE l.kind = 'invoice';

-- invoiced_by_period(grain, date_from, date_to): per calendar period, facturé (amount:
-- live_invoices, partial credit notes negative) and the invoices that stand (items; a
-- partial credit note lowers the amount, it is not an invoice), of the practitioners (an
-- invoice belongs to its issuing practitioner, a partial credit note to its invoice's).
CREATE MACRO invoiced_by_period(grain, date_from, date_to, practitioners := NULL) AS TABLE
SELECT c.period_start, coalesce(COLUMNS(i.* EXCLUDE (period_start)), 0)
FROM period_calendar(grain, date_from, date_to) AS c
LEFT JOIN (
    SELECT period_of(grain, issued_on) AS period_start,
           euros(sum(amount)) AS amount,
           count(*) FILTER (WHERE kind = 'invoice') AS items
    FROM live_invoices
    WHERE in_period(issued_on, date_from, date_to)
      AND for_practitioners(practitioner_id, practitioners)
    GROUP BY 1
) AS i ON i.period_start = c.period_start;

-- unpaid(date_from, date_to): the invoices that stand issued in the period by the
-- practitioners and still owing something at the end of it (invoice_balances on date_to:
-- due > 0, after partial payments and partial credit notes), with age_days, the days from
-- issue to date_to, and bucket, its aging bucket: '0-30', '31-60', '61-90' or '>90' days.
CREATE MACRO unpaid(date_from, date_to, practitioners := NULL) AS TABLE
SELECT *,
       period_end(date_to) - issued_on AS age_days,
       CASE
           WHEN period_end(date_to) - issued_on <= 30 THEN '0-30'
           WHEN period_end(date_to) - issued_on <= 60 THEN '31-60'
           WHEN period_end(date_to) - issued_on <= 90 THEN '61-90'
           ELSE '>90'
       END AS bucket
FROM invoice_balances(date_to)
WHERE in_period(issued_on, date_from, date_to) AND due > 0
  AND for_practitioners(practitioner_id, practitioners);

-- === encaissé: payments by paid_on =====================================================

-- receipts: what counts as encaissé (the BNC tax basis), one row per payment dated by
-- paid_on, refunds negative, every means of payment, with the invoice it settles: its
-- issue day, patient, practitioner and consultation (NULL when the invoice is unknown).
-- Invoice numbers are unique (the contract); grouping on them says so to DuckDB, which
-- then skips the join in a query that reads no invoice column (period totals).
CREATE VIEW receipts AS
SELECT
    p.payment_id,
    p.paid_on,
    p.amount,
    p.method,
    p.invoice_number,
    i.issued_on,
    i.patient_key,
    i.practitioner_id,
    i.consultation_id
FROM payments AS p
LEFT JOIN (
    SELECT invoice_number,
           any_value(issued_on) AS issued_on,
           any_value(patient_key) AS patient_key,
           any_value(practitioner_id) AS practitioner_id,
           any_value(consultation_id) AS consultation_id
    FROM invoices
    GROUP BY invoice_number
) AS i USING (invoice_number);

-- receipts_by_period(grain, date_from, date_to): per calendar period, net encaissé
-- (amount) and its payments (items, refunds included); receipts and refunds apart
-- (receipt_count = the positive payments); the net amount per means of payment. A payment
-- belongs to the practitioner of its invoice (to none when the invoice is unknown).
CREATE MACRO receipts_by_period(grain, date_from, date_to, practitioners := NULL) AS TABLE
SELECT c.period_start, coalesce(COLUMNS(r.* EXCLUDE (period_start)), 0)
FROM period_calendar(grain, date_from, date_to) AS c
LEFT JOIN (
    SELECT period_of(grain, paid_on) AS period_start,
           euros(sum(amount)) AS amount,
           count(*) AS items,
           euros(sum(amount) FILTER (WHERE amount > 0)) AS receipts,
           euros(sum(amount) FILTER (WHERE amount < 0)) AS refunds,
           count(*) FILTER (WHERE amount > 0) AS receipt_count,
           euros(sum(amount) FILTER (WHERE method = 'cb')) AS cb,
           euros(sum(amount) FILTER (WHERE method = 'cheque')) AS cheque,
           euros(sum(amount) FILTER (WHERE method = 'especes')) AS especes,
           euros(sum(amount) FILTER (WHERE method = 'virement')) AS virement,
           euros(sum(amount) FILTER (WHERE method = 'autre')) AS autre
    FROM receipts
    WHERE in_period(paid_on, date_from, date_to)
      AND for_practitioners(practitioner_id, practitioners)
    GROUP BY 1
) AS r ON r.period_start = c.period_start;

-- === either basis, one per call ========================================================

-- revenue_items(basis, date_from, date_to): the money of the period on one basis, never
-- both: 'encaisse' = receipts by paid_on; 'facture' = live_invoices by issued_on. day,
-- amount, item (whether it counts as an item: every payment, refunds included, and every
-- invoice that stands, not a partial credit note, which only lowers the amount), and the
-- practitioner and consultation it belongs to; only the practitioners' money.
CREATE MACRO revenue_items(basis, date_from, date_to, practitioners := NULL) AS TABLE
SELECT paid_on AS day, amount, TRUE AS item, practitioner_id, consultation_id
FROM receipts
WHERE basis = 'encaisse' AND in_period(paid_on, date_from, date_to)
  AND for_practitioners(practitioner_id, practitioners)
UNION ALL
SELECT issued_on, amount, kind = 'invoice', practitioner_id, consultation_id
FROM live_invoices
WHERE basis = 'facture' AND in_period(issued_on, date_from, date_to)
  AND for_practitioners(practitioner_id, practitioners);

-- revenue_by_period(basis, grain, date_from, date_to): per calendar period, the amount and
-- the items of one basis: receipts_by_period or invoiced_by_period.
CREATE MACRO revenue_by_period(basis, grain, date_from, date_to, practitioners := NULL) AS TABLE
SELECT period_start, amount, items
FROM receipts_by_period(grain, date_from, date_to, practitioners := practitioners)
WHERE basis = 'encaisse'
UNION ALL
SELECT period_start, amount, items
FROM invoiced_by_period(grain, date_from, date_to, practitioners := practitioners)
WHERE basis = 'facture';

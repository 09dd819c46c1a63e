-- Shared definitions of the metric files (not a metric: files starting with `_` are not).
-- The warehouse creates them once, after the canonical views and before the metric views,
-- while the connection is still unlocked (docs/metrics.md, "The facturé basis").
--
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

-- invoice_balances(as_of): each invoice that stands, as it is on day `as_of`:
--   credited   what its partial credit notes issued on or before as_of took off (>= 0);
--   net_amount amount - credited;
--   received   payments up to as_of booked on it or on its partial credit notes (a credit
--              note's refund is often booked under the credit note's own number);
--   due        net_amount - received (negative when more was received than is owed).
CREATE MACRO invoice_balances(as_of) AS TABLE
WITH credited AS (
    SELECT base_invoice_number AS invoice_number, -sum(amount) AS credited
    FROM live_invoices
    WHERE kind = 'partial_credit_note' AND issued_on <= as_of
    GROUP BY 1
),
received AS (
    SELECT l.base_invoice_number AS invoice_number, sum(p.amount) AS received
    FROM payments AS p
    JOIN live_invoices AS l ON l.invoice_number = p.invoice_number
    WHERE p.paid_on <= as_of
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

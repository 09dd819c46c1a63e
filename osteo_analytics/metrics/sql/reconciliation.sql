-- metric: reconciliation
-- title: Rapprochement paiements / factures
-- basis: facture (invoices issued in the period, net of their partial credit notes issued up to $date_to) against encaisse (their payments with paid_on <= $date_to); payments without invoice by paid_on
-- params: date_from, date_to, practitioners
-- columns: kind, invoice_number, issued_on, amount, received, difference
-- One row per discrepancy:
--   overpaid                 an invoice that stands (issued or paid) received more than its
--                            amount net of its partial credit notes (invoice_balances);
--   underpaid                an invoice that stands received less than that net amount
--                            although it is marked paid or part-paid (never-paid ones: see
--                            unpaid_invoices);
--   cancelled_not_refunded   a cancelled invoice whose receipts, net of the refunds booked
--                            on it and on the credit notes that cancel it, are not zero;
--   payment_without_invoice  a payment in the period whose invoice number is unknown.
-- An invoice's discrepancy belongs to its practitioner; a payment without invoice to none
-- (listed for the whole cabinet only).
-- difference = received - amount (what was received too much when positive); for an
-- invoice that stands, amount is its net amount and received includes the refunds booked
-- on its partial credit notes.
WITH received AS (
    SELECT invoice_number, sum(amount) AS received
    FROM receipts
    WHERE in_period(paid_on, NULL, $date_to)
    GROUP BY 1
),
period_invoices AS (
    SELECT i.*, coalesce(r.received, 0) AS received
    FROM invoices AS i
    LEFT JOIN received AS r USING (invoice_number)
    WHERE in_period(i.issued_on, $date_from, $date_to)
      AND for_practitioners(i.practitioner_id, $practitioners)
),
balances AS (
    SELECT invoice_number, issued_on, status, net_amount AS amount, received
    FROM invoice_balances($date_to)
    WHERE in_period(issued_on, $date_from, $date_to)
      AND for_practitioners(practitioner_id, $practitioners)
),
live AS (
    SELECT 'overpaid' AS kind, invoice_number, issued_on, amount, received
    FROM balances
    WHERE received > amount
    UNION ALL
    SELECT 'underpaid', invoice_number, issued_on, amount, received
    FROM balances
    WHERE received < amount
      AND (status = 'paid' OR received > 0)
),
refunded AS (  -- refunds booked on the credit notes that cancel an invoice
    SELECT cn.cancels_invoice_number AS invoice_number, sum(coalesce(r.received, 0)) AS refunds
    FROM invoices AS cn
    LEFT JOIN received AS r USING (invoice_number)
    WHERE cn.status = 'credit_note' AND cn.cancels_invoice_number IS NOT NULL
    GROUP BY 1
),
cancelled AS (
    SELECT 'cancelled_not_refunded' AS kind, i.invoice_number, i.issued_on, i.amount,
           i.received + coalesce(f.refunds, 0) AS received
    FROM period_invoices AS i
    LEFT JOIN refunded AS f USING (invoice_number)
    WHERE i.status = 'cancelled' AND i.received + coalesce(f.refunds, 0) <> 0
),
orphans AS (
    SELECT 'payment_without_invoice' AS kind, r.invoice_number, CAST(NULL AS DATE) AS issued_on,
           CAST(NULL AS DECIMAL(12, 2)) AS amount, sum(r.amount) AS received
    FROM receipts AS r
    ANTI JOIN invoices AS i USING (invoice_number)  -- no such invoice
    WHERE in_period(r.paid_on, $date_from, $date_to)
      AND for_practitioners(r.practitioner_id, $practitioners)
    GROUP BY r.invoice_number
)
SELECT
    kind,
    invoice_number,
    issued_on,
    CAST(amount AS DECIMAL(18, 2)) AS amount,
    CAST(received AS DECIMAL(18, 2)) AS received,
    CAST(received - coalesce(amount, 0) AS DECIMAL(18, 2)) AS difference
FROM (
    SELECT * FROM live
    UNION ALL SELECT * FROM cancelled
    UNION ALL SELECT * FROM orphans
)
ORDER BY kind, issued_on NULLS LAST, invoice_number

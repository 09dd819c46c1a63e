-- metric: cancellations
-- title: Annulations et avoirs par mois
-- basis: facture (invoice documents by issued_on)
-- params: date_from, date_to
-- One row per month: cancelled invoices (status cancelled) and their amount, credit notes
-- (avoirs, status credit_note, negative amounts) and their amount, among them the partial
-- credit notes (live_invoices kind partial_credit_note) and their amount, replacement
-- invoices (replaces_invoice_number set) and their amount. Cancelled invoices and the
-- credit notes of full cancellations are excluded from revenue (facturé); partial credit
-- notes reduce it in their month; replacement invoices count in it.
WITH months AS (
    SELECT CAST(m AS DATE) AS month
    FROM generate_series(
        CAST(date_trunc('month', CAST($date_from AS DATE)) AS TIMESTAMP),
        CAST(CAST($date_to AS DATE) AS TIMESTAMP),
        INTERVAL 1 MONTH
    ) AS t(m)
),
monthly AS (
    SELECT CAST(date_trunc('month', issued_on) AS DATE) AS month,
           count(*) FILTER (WHERE status = 'cancelled') AS cancelled_invoices,
           sum(amount) FILTER (WHERE status = 'cancelled') AS cancelled_amount,
           count(*) FILTER (WHERE status = 'credit_note') AS credit_notes,
           sum(amount) FILTER (WHERE status = 'credit_note') AS credit_notes_amount,
           count(*) FILTER (WHERE partial) AS partial_credit_notes,
           sum(amount) FILTER (WHERE partial) AS partial_credit_notes_amount,
           count(*) FILTER (WHERE replaces_invoice_number IS NOT NULL) AS replacement_invoices,
           sum(amount) FILTER (WHERE replaces_invoice_number IS NOT NULL) AS replacement_amount
    FROM (
        SELECT i.issued_on, i.amount, i.status, i.replaces_invoice_number,
               i.invoice_number IN (
                   SELECT invoice_number FROM live_invoices WHERE kind = 'partial_credit_note'
               ) AS partial
        FROM invoices AS i
    )
    WHERE issued_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
    GROUP BY 1
)
SELECT
    m.month,
    coalesce(x.cancelled_invoices, 0) AS cancelled_invoices,
    CAST(coalesce(x.cancelled_amount, 0) AS DECIMAL(18, 2)) AS cancelled_amount,
    coalesce(x.credit_notes, 0) AS credit_notes,
    CAST(coalesce(x.credit_notes_amount, 0) AS DECIMAL(18, 2)) AS credit_notes_amount,
    coalesce(x.partial_credit_notes, 0) AS partial_credit_notes,
    CAST(coalesce(x.partial_credit_notes_amount, 0) AS DECIMAL(18, 2)) AS partial_credit_notes_amount,
    coalesce(x.replacement_invoices, 0) AS replacement_invoices,
    CAST(coalesce(x.replacement_amount, 0) AS DECIMAL(18, 2)) AS replacement_amount
FROM months AS m
LEFT JOIN monthly AS x USING (month)
ORDER BY m.month

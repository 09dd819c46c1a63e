-- metric: cancellations
-- title: Annulations et avoirs par mois
-- basis: facture (invoice documents by issued_on)
-- params: date_from, date_to, practitioners
-- columns: month, cancelled_invoices, cancelled_amount, credit_notes, credit_notes_amount, partial_credit_notes, partial_credit_notes_amount, replacement_invoices, replacement_amount
-- One row per month: cancelled invoices (status cancelled) and their amount, credit notes
-- (avoirs, status credit_note, negative amounts) and their amount, among them the partial
-- credit notes (live_invoices kind partial_credit_note) and their amount, replacement
-- invoices (replaces_invoice_number set) and their amount. Cancelled invoices and the
-- credit notes of full cancellations are excluded from revenue (facturé); partial credit
-- notes reduce it in their month; replacement invoices count in it.
WITH documents AS (
    SELECT issued_on, amount, status,
           replaces_invoice_number IS NOT NULL AS replacement,
           invoice_number IN (
               SELECT invoice_number FROM live_invoices WHERE kind = 'partial_credit_note'
           ) AS partial
    FROM invoices
    WHERE in_period(issued_on, $date_from, $date_to)
      AND for_practitioners(practitioner_id, $practitioners)
)
SELECT
    c.period_start AS month,
    count(d.amount) FILTER (WHERE d.status = 'cancelled') AS cancelled_invoices,
    euros(sum(d.amount) FILTER (WHERE d.status = 'cancelled')) AS cancelled_amount,
    count(d.amount) FILTER (WHERE d.status = 'credit_note') AS credit_notes,
    euros(sum(d.amount) FILTER (WHERE d.status = 'credit_note')) AS credit_notes_amount,
    count(d.amount) FILTER (WHERE d.partial) AS partial_credit_notes,
    euros(sum(d.amount) FILTER (WHERE d.partial)) AS partial_credit_notes_amount,
    count(d.amount) FILTER (WHERE d.replacement) AS replacement_invoices,
    euros(sum(d.amount) FILTER (WHERE d.replacement)) AS replacement_amount
FROM period_calendar('month', $date_from, $date_to) AS c
LEFT JOIN documents AS d ON period_of('month', d.issued_on) = c.period_start
GROUP BY c.period_start
ORDER BY month

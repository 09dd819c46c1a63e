-- metric: unpaid_invoices
-- title: Factures impayées
-- basis: facture (live invoices issued in the period) against encaisse up to $date_to (payments with paid_on <= $date_to)
-- params: date_from, date_to
-- One row per live invoice issued in [$date_from, $date_to] whose payments up to $date_to
-- are less than its amount: what is still due, its age in days on $date_to and its
-- aging bucket (0-30, 31-60, 61-90, >90 days).
WITH settled AS (
    SELECT invoice_number, sum(amount) AS received
    FROM payments
    WHERE paid_on <= CAST($date_to AS DATE)
    GROUP BY 1
)
SELECT
    i.invoice_number,
    i.issued_on,
    i.patient_key,
    i.practitioner_id,
    CAST(i.amount AS DECIMAL(18, 2)) AS amount,
    CAST(coalesce(s.received, 0) AS DECIMAL(18, 2)) AS received,
    CAST(i.amount - coalesce(s.received, 0) AS DECIMAL(18, 2)) AS due,
    CAST($date_to AS DATE) - i.issued_on AS age_days,
    CASE
        WHEN CAST($date_to AS DATE) - i.issued_on <= 30 THEN '0-30'
        WHEN CAST($date_to AS DATE) - i.issued_on <= 60 THEN '31-60'
        WHEN CAST($date_to AS DATE) - i.issued_on <= 90 THEN '61-90'
        ELSE '>90'
    END AS bucket
FROM invoices AS i
LEFT JOIN settled AS s USING (invoice_number)
WHERE i.status IN ('issued', 'paid')
  AND i.issued_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
  AND i.amount > coalesce(s.received, 0)
ORDER BY i.issued_on, i.invoice_number

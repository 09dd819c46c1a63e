-- metric: unpaid_invoices
-- title: Factures impayées
-- basis: facture (invoices that stand, issued in the period, net of their partial credit notes issued up to $date_to) against encaisse up to $date_to (payments with paid_on <= $date_to, on the invoice or its partial credit notes)
-- params: date_from, date_to
-- One row per invoice that stands (live_invoices), issued in [$date_from, $date_to], still
-- owing something on $date_to (invoice_balances): its amount, what partial credit notes
-- took off (credited), what was received, what is still due, its age in days on $date_to
-- and its aging bucket (0-30, 31-60, 61-90, >90 days).
SELECT
    invoice_number,
    issued_on,
    patient_key,
    practitioner_id,
    CAST(amount AS DECIMAL(18, 2)) AS amount,
    CAST(credited AS DECIMAL(18, 2)) AS credited,
    CAST(received AS DECIMAL(18, 2)) AS received,
    CAST(due AS DECIMAL(18, 2)) AS due,
    CAST($date_to AS DATE) - issued_on AS age_days,
    CASE
        WHEN CAST($date_to AS DATE) - issued_on <= 30 THEN '0-30'
        WHEN CAST($date_to AS DATE) - issued_on <= 60 THEN '31-60'
        WHEN CAST($date_to AS DATE) - issued_on <= 90 THEN '61-90'
        ELSE '>90'
    END AS bucket
FROM invoice_balances(CAST($date_to AS DATE))
WHERE issued_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
  AND due > 0
ORDER BY issued_on, invoice_number

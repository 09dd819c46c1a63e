-- metric: unpaid_invoices
-- title: Factures impayées
-- basis: facture (invoices that stand, issued in the period, net of their partial credit notes issued up to $date_to) against encaisse up to $date_to (payments with paid_on <= $date_to, on the invoice or its partial credit notes)
-- params: date_from, date_to, practitioners
-- columns: invoice_number, issued_on, patient_key, practitioner_id, amount, credited, received, due, age_days, bucket
-- One row per invoice that stands (live_invoices), issued in [$date_from, $date_to], still
-- owing something on $date_to (invoice_balances): its amount, what partial credit notes
-- took off (credited), what was received, what is still due, its age in days on $date_to
-- and its aging bucket (0-30, 31-60, 61-90, >90 days).
SELECT
    invoice_number,
    issued_on,
    patient_key,
    practitioner_id,
    euros(amount) AS amount,
    euros(credited) AS credited,
    euros(received) AS received,
    euros(due) AS due,
    age_days,
    bucket
FROM unpaid($date_from, $date_to, practitioners := $practitioners)
ORDER BY issued_on, invoice_number

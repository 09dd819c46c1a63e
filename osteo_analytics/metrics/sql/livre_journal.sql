-- metric: livre_journal
-- title: Livre-journal des recettes
-- basis: encaisse (payments by paid_on, refunds negative)
-- params: date_from, date_to, practitioners
-- columns: paid_on, payment_id, invoice_number, patient_key, amount, method, day_total, running_total
-- One row per receipt or refund in [$date_from, $date_to], in date order: payment id, the
-- invoice number it settles, the patient's pseudonym (null when the invoice is unknown),
-- amount, means of payment, the day's total (same on every row of a day) and the running
-- total of the period.
SELECT
    paid_on,
    payment_id,
    invoice_number,
    patient_key,
    euros(amount) AS amount,
    method,
    euros(sum(amount) OVER (PARTITION BY paid_on)) AS day_total,
    euros(sum(amount) OVER (ORDER BY paid_on, invoice_number, payment_id
                            ROWS UNBOUNDED PRECEDING)) AS running_total
FROM receipts
WHERE in_period(paid_on, $date_from, $date_to)
  AND for_practitioners(practitioner_id, $practitioners)
ORDER BY paid_on, invoice_number, payment_id

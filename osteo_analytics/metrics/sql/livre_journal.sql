-- metric: livre_journal
-- title: Livre-journal des recettes
-- basis: encaisse (payments by paid_on, refunds negative)
-- params: date_from, date_to
-- One row per receipt or refund in [$date_from, $date_to], in date order: payment id, the
-- invoice number it settles, the patient's pseudonym (null when the invoice is unknown),
-- amount, means of payment, the day's total (same on every row of a day) and the running
-- total of the period.
SELECT
    p.paid_on,
    p.payment_id,
    p.invoice_number,
    i.patient_key,
    CAST(p.amount AS DECIMAL(18, 2)) AS amount,
    p.method,
    CAST(sum(p.amount) OVER (PARTITION BY p.paid_on) AS DECIMAL(18, 2)) AS day_total,
    CAST(sum(p.amount) OVER (ORDER BY p.paid_on, p.invoice_number, p.payment_id
                             ROWS UNBOUNDED PRECEDING) AS DECIMAL(18, 2)) AS running_total
FROM payments AS p
LEFT JOIN invoices AS i USING (invoice_number)
WHERE p.paid_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
ORDER BY p.paid_on, p.invoice_number, p.payment_id

-- metric: unpaid_aging
-- title: Ancienneté des impayés
-- basis: facture (live invoices issued in the period) against encaisse up to $date_to
-- params: date_from, date_to
-- One row per aging bucket (0-30, 31-60, 61-90, >90 days between issue and $date_to;
-- always all four): unpaid invoices and the amount still due after partial payments.
WITH buckets(bucket, low, high) AS (
    VALUES ('0-30', 0, 30), ('31-60', 31, 60), ('61-90', 61, 90), ('>90', 91, NULL)
),
settled AS (
    SELECT invoice_number, sum(amount) AS received
    FROM payments
    WHERE paid_on <= CAST($date_to AS DATE)
    GROUP BY 1
),
due AS (
    SELECT CAST($date_to AS DATE) - i.issued_on AS age_days,
           i.amount - coalesce(s.received, 0) AS due
    FROM invoices AS i
    LEFT JOIN settled AS s USING (invoice_number)
    WHERE i.status IN ('issued', 'paid')
      AND i.issued_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
      AND i.amount > coalesce(s.received, 0)
)
SELECT
    b.bucket,
    count(d.due) AS invoices,
    CAST(coalesce(sum(d.due), 0) AS DECIMAL(18, 2)) AS due
FROM buckets AS b
LEFT JOIN due AS d ON d.age_days >= b.low AND (b.high IS NULL OR d.age_days <= b.high)
GROUP BY b.bucket, b.low
ORDER BY b.low

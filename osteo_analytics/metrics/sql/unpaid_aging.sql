-- metric: unpaid_aging
-- title: Ancienneté des impayés
-- basis: facture (invoices that stand, issued in the period, net of their partial credit notes issued up to $date_to) against encaisse up to $date_to
-- params: date_from, date_to
-- One row per aging bucket (0-30, 31-60, 61-90, >90 days between issue and $date_to;
-- always all four): unpaid invoices and the amount still due (invoice_balances: after
-- partial payments and partial credit notes).
WITH buckets(bucket, low, high) AS (
    VALUES ('0-30', 0, 30), ('31-60', 31, 60), ('61-90', 61, 90), ('>90', 91, NULL)
),
due AS (
    SELECT CAST($date_to AS DATE) - issued_on AS age_days, due
    FROM invoice_balances(CAST($date_to AS DATE))
    WHERE issued_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
      AND due > 0
)
SELECT
    b.bucket,
    count(d.due) AS invoices,
    CAST(coalesce(sum(d.due), 0) AS DECIMAL(18, 2)) AS due
FROM buckets AS b
LEFT JOIN due AS d ON d.age_days >= b.low AND (b.high IS NULL OR d.age_days <= b.high)
GROUP BY b.bucket, b.low
ORDER BY b.low

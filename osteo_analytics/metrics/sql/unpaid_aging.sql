-- metric: unpaid_aging
-- title: Ancienneté des impayés
-- basis: facture (invoices that stand, issued in the period, net of their partial credit notes issued up to $date_to) against encaisse up to $date_to
-- params: date_from, date_to, practitioners
-- columns: bucket, invoices, due
-- One row per aging bucket (0-30, 31-60, 61-90, >90 days between issue and $date_to;
-- always all four): unpaid invoices and the amount still due (invoice_balances: after
-- partial payments and partial credit notes).
WITH buckets(bucket, position) AS (
    VALUES ('0-30', 1), ('31-60', 2), ('61-90', 3), ('>90', 4)
)
SELECT b.bucket, count(u.due) AS invoices, euros(sum(u.due)) AS due
FROM buckets AS b
LEFT JOIN unpaid($date_from, $date_to, practitioners := $practitioners) AS u USING (bucket)
GROUP BY b.bucket, b.position
ORDER BY b.position

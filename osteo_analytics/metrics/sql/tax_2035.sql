-- metric: tax_2035
-- title: Totaux annuels pour la déclaration 2035
-- basis: encaisse (payments by paid_on, refunds negative)
-- params: date_from, date_to
-- One row per calendar year of [$date_from, $date_to] (zeros included): receipts
-- (positive payments), refunds (negative), net receipts (recettes encaissées, the 2035
-- line AA basis), the number of receipts and the net amount per means of payment.
WITH years AS (
    SELECT y AS year
    FROM range(year(CAST($date_from AS DATE)), year(CAST($date_to AS DATE)) + 1) AS t(y)
),
yearly AS (
    SELECT year(paid_on) AS year,
           sum(amount) FILTER (WHERE amount > 0) AS receipts,
           sum(amount) FILTER (WHERE amount < 0) AS refunds,
           sum(amount) AS net,
           count(*) FILTER (WHERE amount > 0) AS payments,
           sum(amount) FILTER (WHERE method = 'cb') AS cb,
           sum(amount) FILTER (WHERE method = 'cheque') AS cheque,
           sum(amount) FILTER (WHERE method = 'especes') AS especes,
           sum(amount) FILTER (WHERE method = 'virement') AS virement,
           sum(amount) FILTER (WHERE method = 'autre') AS autre
    FROM payments
    WHERE paid_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
    GROUP BY 1
)
SELECT
    CAST(y.year AS INTEGER) AS year,
    CAST(coalesce(x.receipts, 0) AS DECIMAL(18, 2)) AS receipts,
    CAST(coalesce(x.refunds, 0) AS DECIMAL(18, 2)) AS refunds,
    CAST(coalesce(x.net, 0) AS DECIMAL(18, 2)) AS net_receipts,
    coalesce(x.payments, 0) AS payments,
    CAST(coalesce(x.cb, 0) AS DECIMAL(18, 2)) AS cb,
    CAST(coalesce(x.cheque, 0) AS DECIMAL(18, 2)) AS cheque,
    CAST(coalesce(x.especes, 0) AS DECIMAL(18, 2)) AS especes,
    CAST(coalesce(x.virement, 0) AS DECIMAL(18, 2)) AS virement,
    CAST(coalesce(x.autre, 0) AS DECIMAL(18, 2)) AS autre
FROM years AS y
LEFT JOIN yearly AS x USING (year)
ORDER BY y.year

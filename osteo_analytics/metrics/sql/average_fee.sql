-- metric: average_fee
-- title: Honoraire moyen par mois
-- basis: facture (live_invoices by issued_on: invoices that stand, partial credit notes negative; cancelled invoices and the credit notes of full cancellations excluded)
-- params: date_from, date_to
-- One row per month: invoices that stand issued in the month, the month's facturé (the
-- same amount as revenue on the facture basis: partial credit notes issued in the month
-- are deducted) and the average fee = amount / invoices, rounded half up to the cent in
-- integer cents so that no binary float touches an amount (null when no invoice).
WITH months AS (
    SELECT CAST(m AS DATE) AS month
    FROM generate_series(
        CAST(date_trunc('month', CAST($date_from AS DATE)) AS TIMESTAMP),
        CAST(CAST($date_to AS DATE) AS TIMESTAMP),
        INTERVAL 1 MONTH
    ) AS t(m)
),
monthly AS (
    SELECT CAST(date_trunc('month', issued_on) AS DATE) AS month,
           count(*) FILTER (WHERE kind = 'invoice') AS invoices,
           sum(amount) AS amount,
           CAST(sum(amount) * 100 AS BIGINT) AS cents
    FROM live_invoices
    WHERE issued_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
    GROUP BY 1
),
halves AS (  -- average in cents = floor((2 * cents + invoices) / (2 * invoices))
    SELECT month, invoices, amount,
           2 * cents + invoices AS numerator,
           2 * invoices AS denominator
    FROM monthly
    WHERE invoices > 0
)
SELECT
    m.month,
    coalesce(x.invoices, 0) AS invoices,
    CAST(coalesce(x.amount, 0) AS DECIMAL(18, 2)) AS amount,
    CAST(
        -- floor division, also right for a negative month (partial credit notes only)
        CAST((h.numerator - ((h.numerator % h.denominator) + h.denominator) % h.denominator)
             // h.denominator AS DECIMAL(18, 0))
        * CAST(0.01 AS DECIMAL(3, 2))
        AS DECIMAL(18, 2)
    ) AS average_fee
FROM months AS m
LEFT JOIN monthly AS x USING (month)
LEFT JOIN halves AS h USING (month)
ORDER BY m.month

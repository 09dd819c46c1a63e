-- metric: average_fee
-- title: Honoraire moyen par mois
-- basis: facture (live invoices by issued_on; cancelled invoices and credit notes excluded)
-- params: date_from, date_to
-- One row per month: live invoices, their total and the average fee, rounded half up to
-- the cent in integer cents so that no binary float touches an amount (null when none).
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
           count(*) AS invoices,
           sum(amount) AS amount,
           CAST(sum(amount) * 100 AS BIGINT) AS cents
    FROM invoices
    WHERE status IN ('issued', 'paid')
      AND issued_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
    GROUP BY 1
)
SELECT
    m.month,
    coalesce(x.invoices, 0) AS invoices,
    CAST(coalesce(x.amount, 0) AS DECIMAL(18, 2)) AS amount,
    CAST(
        CAST((2 * x.cents + x.invoices) // (2 * x.invoices) AS DECIMAL(18, 0))
        * CAST(0.01 AS DECIMAL(3, 2))
        AS DECIMAL(18, 2)
    ) AS average_fee
FROM months AS m
LEFT JOIN monthly AS x USING (month)
ORDER BY m.month

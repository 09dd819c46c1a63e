-- metric: revenue_yoy
-- title: Recettes comparées à l'année précédente
-- basis: $basis: encaisse = payments by paid_on; facture = live_invoices by issued_on (partial credit notes negative); the same basis for both years
-- params: date_from, date_to, basis (encaisse|facture)
-- One row per month of [$date_from, $date_to]: the month's amount, the same calendar month
-- one year earlier (needs that year loaded), the difference and the change in percent
-- (null when the earlier month is zero).
WITH months AS (
    SELECT CAST(m AS DATE) AS month
    FROM generate_series(
        CAST(date_trunc('month', CAST($date_from AS DATE)) AS TIMESTAMP),
        CAST(CAST($date_to AS DATE) AS TIMESTAMP),
        INTERVAL 1 MONTH
    ) AS t(m)
),
bounds AS (
    SELECT CAST(date_trunc('month', CAST($date_from AS DATE)) - INTERVAL 1 YEAR AS DATE) AS low,
           CAST($date_to AS DATE) AS high
),
amounts AS (
    SELECT paid_on AS day, amount
    FROM payments, bounds
    WHERE $basis = 'encaisse' AND paid_on BETWEEN low AND high
    UNION ALL
    SELECT issued_on AS day, amount
    FROM live_invoices, bounds
    WHERE $basis = 'facture' AND issued_on BETWEEN low AND high
),
monthly AS (
    SELECT CAST(date_trunc('month', day) AS DATE) AS month, sum(amount) AS amount
    FROM amounts
    GROUP BY 1
)
SELECT
    CAST($basis AS VARCHAR) AS basis,
    m.month,
    CAST(coalesce(cur.amount, 0) AS DECIMAL(18, 2)) AS amount,
    CAST(coalesce(prev.amount, 0) AS DECIMAL(18, 2)) AS amount_previous_year,
    CAST(coalesce(cur.amount, 0) - coalesce(prev.amount, 0) AS DECIMAL(18, 2)) AS change,
    CASE
        WHEN coalesce(prev.amount, 0) <> 0
        THEN CAST(round(100 * (coalesce(cur.amount, 0) - prev.amount) / prev.amount, 1)
                  AS DECIMAL(9, 1))
    END AS change_pct
FROM months AS m
LEFT JOIN monthly AS cur ON cur.month = m.month
LEFT JOIN monthly AS prev ON prev.month = CAST(m.month - INTERVAL 1 YEAR AS DATE)
ORDER BY m.month

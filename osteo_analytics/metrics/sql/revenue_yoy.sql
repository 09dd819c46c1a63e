-- metric: revenue_yoy
-- title: Recettes comparées à l'année précédente
-- basis: $basis: encaisse = payments by paid_on; facture = live_invoices by issued_on (partial credit notes negative); the same basis for both years
-- params: date_from, date_to, basis (encaisse|facture), practitioners
-- columns: basis, month, amount, amount_previous_year, change, change_pct
-- One row per month of [$date_from, $date_to]: the month's amount, the same calendar month
-- one year earlier (needs that year loaded), the difference and the change in percent
-- (null when the earlier month is zero).
WITH monthly AS (  -- from one year before the first month: each month meets its own a year on
    SELECT period_start AS month, amount
    FROM revenue_by_period(
        $basis, 'month', period_of('month', $date_from) - INTERVAL 1 YEAR, $date_to, practitioners := $practitioners
    )
)
SELECT
    CAST($basis AS VARCHAR) AS basis,
    cur.month,
    cur.amount,
    euros(prev.amount) AS amount_previous_year,
    CAST(cur.amount - euros(prev.amount) AS DECIMAL(18, 2)) AS change,
    CASE
        WHEN prev.amount <> 0
        THEN CAST(round(100 * (cur.amount - prev.amount) / prev.amount, 1) AS DECIMAL(9, 1))
    END AS change_pct
FROM monthly AS cur
-- a NULL date_from (the whole history) has no month before the first: zero
LEFT JOIN monthly AS prev ON prev.month = CAST(cur.month - INTERVAL 1 YEAR AS DATE)
WHERE in_period(cur.month, period_of('month', $date_from), NULL)
ORDER BY cur.month

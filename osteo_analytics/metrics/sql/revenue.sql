-- metric: revenue
-- title: Recettes par période
-- basis: $basis: encaisse = payments by paid_on (refunds negative); facture = live_invoices by issued_on (invoices that stand, partial credit notes negative); one basis per call, stated in the basis column
-- params: date_from, date_to, grain (day|week|month|year), basis (encaisse|facture)
-- One row per period of [$date_from, $date_to] (weeks start on Monday), empty periods
-- included with zeros. items = number of payments (refunds included) or of invoices that
-- stand (a partial credit note lowers the amount; it is not an item).
WITH periods AS (
    SELECT CAST(p AS DATE) AS period_start
    FROM generate_series(
        CAST(date_trunc($grain, CAST($date_from AS DATE)) AS TIMESTAMP),
        CAST(CAST($date_to AS DATE) AS TIMESTAMP),
        CASE $grain
            WHEN 'day' THEN INTERVAL 1 DAY
            WHEN 'week' THEN INTERVAL 7 DAY
            WHEN 'month' THEN INTERVAL 1 MONTH
            ELSE INTERVAL 1 YEAR
        END
    ) AS t(p)
),
amounts AS (
    SELECT paid_on AS day, amount, TRUE AS item
    FROM payments
    WHERE $basis = 'encaisse'
      AND paid_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
    UNION ALL
    SELECT issued_on AS day, amount, kind = 'invoice' AS item
    FROM live_invoices
    WHERE $basis = 'facture'
      AND issued_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
),
totals AS (
    SELECT CAST(date_trunc($grain, day) AS DATE) AS period_start,
           sum(amount) AS amount,
           count(*) FILTER (WHERE item) AS items
    FROM amounts
    GROUP BY 1
)
SELECT
    CAST($basis AS VARCHAR) AS basis,
    p.period_start,
    CAST(coalesce(t.amount, 0) AS DECIMAL(18, 2)) AS amount,
    coalesce(t.items, 0) AS items
FROM periods AS p
LEFT JOIN totals AS t USING (period_start)
ORDER BY p.period_start

-- metric: micro_bnc
-- title: Suivi du seuil micro-BNC
-- basis: encaisse (payments by paid_on, refunds negative: the micro-BNC threshold applies to receipts)
-- params: date_from, date_to, threshold_years (INTEGER[]), threshold_amounts (VARCHAR[] of exact decimals), both from the micro_bnc_threshold setting
-- One row per month of [$date_from, $date_to]: net receipts of the month, year-to-date
-- receipts (from 1 January, even before $date_from), the year's threshold (null when the
-- setting has none for that year), what remains below it and whether it is exceeded.
WITH months AS (
    SELECT CAST(m AS DATE) AS month
    FROM generate_series(
        CAST(date_trunc('month', CAST($date_from AS DATE)) AS TIMESTAMP),
        CAST(CAST($date_to AS DATE) AS TIMESTAMP),
        INTERVAL 1 MONTH
    ) AS t(m)
),
thresholds AS (
    SELECT CAST(unnest(CAST($threshold_years AS INTEGER[])) AS INTEGER) AS year,
           CAST(unnest(CAST($threshold_amounts AS VARCHAR[])) AS DECIMAL(18, 2)) AS threshold
),
monthly AS (
    SELECT CAST(date_trunc('month', paid_on) AS DATE) AS month, sum(amount) AS received
    FROM payments
    WHERE paid_on BETWEEN CAST(date_trunc('year', CAST($date_from AS DATE)) AS DATE)
                      AND CAST($date_to AS DATE)
    GROUP BY 1
),
all_months AS (  -- from 1 January of the first year, so that year-to-date is complete
    SELECT CAST(m AS DATE) AS month
    FROM generate_series(
        CAST(date_trunc('year', CAST($date_from AS DATE)) AS TIMESTAMP),
        CAST(CAST($date_to AS DATE) AS TIMESTAMP),
        INTERVAL 1 MONTH
    ) AS t(m)
),
running AS (
    SELECT a.month,
           coalesce(x.received, 0) AS received,
           sum(coalesce(x.received, 0)) OVER (
               PARTITION BY year(a.month) ORDER BY a.month ROWS UNBOUNDED PRECEDING
           ) AS year_to_date
    FROM all_months AS a
    LEFT JOIN monthly AS x USING (month)
)
SELECT
    m.month,
    CAST(r.received AS DECIMAL(18, 2)) AS received,
    CAST(r.year_to_date AS DECIMAL(18, 2)) AS year_to_date,
    t.threshold,
    CAST(t.threshold - r.year_to_date AS DECIMAL(18, 2)) AS remaining,
    r.year_to_date > t.threshold AS exceeded
FROM months AS m
JOIN running AS r USING (month)
LEFT JOIN thresholds AS t ON t.year = year(m.month)
ORDER BY m.month

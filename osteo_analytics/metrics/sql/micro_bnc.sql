-- metric: micro_bnc
-- title: Suivi du seuil micro-BNC
-- basis: encaisse (payments by paid_on, refunds negative: the micro-BNC threshold applies to receipts)
-- params: date_from, date_to, practitioners, threshold_years (INTEGER[]), threshold_amounts (VARCHAR[] of exact decimals), both from the micro_bnc_threshold setting
-- columns: month, received, year_to_date, threshold, remaining, exceeded
-- One row per month of [$date_from, $date_to]: net receipts of the month, year-to-date
-- receipts (from 1 January, even before $date_from), the year's threshold (null when the
-- setting has none for that year), what remains below it and whether it is exceeded.
WITH thresholds AS (
    SELECT CAST(unnest(CAST($threshold_years AS INTEGER[])) AS INTEGER) AS year,
           CAST(unnest(CAST($threshold_amounts AS VARCHAR[])) AS DECIMAL(18, 2)) AS threshold
),
running AS (  -- from 1 January of the first year, so that year-to-date is complete
    SELECT period_start AS month,
           amount AS received,
           sum(amount) OVER (
               PARTITION BY year(period_start) ORDER BY period_start ROWS UNBOUNDED PRECEDING
           ) AS year_to_date
    FROM receipts_by_period('month', period_of('year', $date_from), $date_to, practitioners := $practitioners)
)
SELECT
    r.month,
    r.received,
    CAST(r.year_to_date AS DECIMAL(18, 2)) AS year_to_date,
    t.threshold,
    CAST(t.threshold - r.year_to_date AS DECIMAL(18, 2)) AS remaining,
    r.year_to_date > t.threshold AS exceeded
FROM running AS r
LEFT JOIN thresholds AS t ON t.year = year(r.month)
WHERE in_period(r.month, period_of('month', $date_from), NULL)
ORDER BY r.month

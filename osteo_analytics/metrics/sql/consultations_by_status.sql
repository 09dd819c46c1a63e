-- metric: consultations_by_status
-- title: Consultations réalisées, annulées, non honorées
-- basis: activity (consultations by consulted_on)
-- params: date_from, date_to, grain (day|week|month|year)
-- One row per period (weeks start on Monday), empty periods included: appointments done,
-- cancelled and missed (no_show), and all of them.
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
counts AS (
    SELECT CAST(date_trunc($grain, consulted_on) AS DATE) AS period_start,
           count(*) FILTER (WHERE status = 'done') AS done,
           count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
           count(*) FILTER (WHERE status = 'no_show') AS no_show,
           count(*) AS appointments
    FROM consultations
    WHERE consulted_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
    GROUP BY 1
)
SELECT
    p.period_start,
    coalesce(c.done, 0) AS done,
    coalesce(c.cancelled, 0) AS cancelled,
    coalesce(c.no_show, 0) AS no_show,
    coalesce(c.appointments, 0) AS appointments
FROM periods AS p
LEFT JOIN counts AS c USING (period_start)
ORDER BY p.period_start

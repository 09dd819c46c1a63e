-- metric: consultations_per_working_day
-- title: Consultations par jour ouvré
-- basis: activity (done consultations by consulted_on)
-- params: date_from, date_to, working_days (DATE[] computed in Python: Monday-Friday minus French public holidays)
-- One row per month: done consultations, working days (jours ouvrés of $working_days in
-- the month and the period), consultations per working day, days with at least one done
-- consultation and consultations per day actually worked (Saturdays included).
WITH months AS (
    SELECT CAST(m AS DATE) AS month
    FROM generate_series(
        CAST(date_trunc('month', CAST($date_from AS DATE)) AS TIMESTAMP),
        CAST(CAST($date_to AS DATE) AS TIMESTAMP),
        INTERVAL 1 MONTH
    ) AS t(m)
),
calendar AS (
    SELECT CAST(date_trunc('month', day) AS DATE) AS month, count(*) AS working_days
    FROM (SELECT unnest(CAST($working_days AS DATE[])) AS day)
    WHERE day BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
    GROUP BY 1
),
monthly AS (
    SELECT CAST(date_trunc('month', consulted_on) AS DATE) AS month,
           count(*) AS consultations,
           count(DISTINCT consulted_on) AS days_worked
    FROM consultations
    WHERE status = 'done'
      AND consulted_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
    GROUP BY 1
)
SELECT
    m.month,
    coalesce(x.consultations, 0) AS consultations,
    coalesce(k.working_days, 0) AS working_days,
    CASE WHEN k.working_days > 0
         THEN CAST(round(coalesce(x.consultations, 0) / k.working_days, 2) AS DECIMAL(9, 2))
    END AS per_working_day,
    coalesce(x.days_worked, 0) AS days_worked,
    CASE WHEN x.days_worked > 0
         THEN CAST(round(x.consultations / x.days_worked, 2) AS DECIMAL(9, 2))
    END AS per_day_worked
FROM months AS m
LEFT JOIN calendar AS k USING (month)
LEFT JOIN monthly AS x USING (month)
ORDER BY m.month

-- metric: consultations_per_working_day
-- title: Consultations par jour ouvré
-- basis: activity (done consultations by consulted_on)
-- params: date_from, date_to, practitioners, working_days (DATE[] computed in Python: Monday-Friday minus French public holidays)
-- columns: month, consultations, working_days, per_working_day, days_worked, per_day_worked
-- One row per month: done consultations, working days (jours ouvrés of $working_days in
-- the month and the period), consultations per working day, days with at least one done
-- consultation and consultations per day actually worked (Saturdays included).
WITH jours_ouvres AS (
    SELECT period_of('month', day) AS period_start, count(*) AS working_days
    FROM (SELECT unnest(CAST($working_days AS DATE[])) AS day)
    WHERE in_period(day, $date_from, $date_to)
    GROUP BY 1
),
worked AS (
    SELECT period_of('month', consulted_on) AS period_start,
           count(*) AS consultations,
           count(DISTINCT consulted_on) AS days_worked
    FROM visits($date_from, $date_to, practitioners := $practitioners)
    GROUP BY 1
),
monthly AS (
    SELECT c.period_start AS month,
           coalesce(w.consultations, 0) AS consultations,
           coalesce(j.working_days, 0) AS working_days,
           coalesce(w.days_worked, 0) AS days_worked
    FROM period_calendar('month', $date_from, $date_to) AS c
    LEFT JOIN jours_ouvres AS j ON j.period_start = c.period_start
    LEFT JOIN worked AS w ON w.period_start = c.period_start
)
SELECT
    month,
    consultations,
    working_days,
    CASE WHEN working_days > 0
         THEN CAST(round(consultations / working_days, 2) AS DECIMAL(9, 2))
    END AS per_working_day,
    days_worked,
    CASE WHEN days_worked > 0
         THEN CAST(round(consultations / days_worked, 2) AS DECIMAL(9, 2))
    END AS per_day_worked
FROM monthly
ORDER BY month

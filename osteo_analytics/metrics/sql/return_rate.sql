-- metric: return_rate
-- title: Taux de retour des patients
-- basis: activity (done consultations by consulted_on)
-- params: date_from, date_to, within_days
-- Per month of the visit: a done consultation "returns" when the same patient has another
-- done consultation on a later day within $within_days days (default 90). Only visits
-- whose whole window is observed (visit day + $within_days <= the last consultation day
-- in the data) enter the rate: observed = those visits, returned = those of them followed
-- by a return, return_rate_pct = returned / observed. The following visit may fall after
-- $date_to (it must be loaded: open the warehouse on the following year too).
WITH months AS (
    SELECT CAST(m AS DATE) AS month
    FROM generate_series(
        CAST(date_trunc('month', CAST($date_from AS DATE)) AS TIMESTAMP),
        CAST(CAST($date_to AS DATE) AS TIMESTAMP),
        INTERVAL 1 MONTH
    ) AS t(m)
),
visit_days AS (  -- one row per patient and day: a second visit the same day is no return
    SELECT DISTINCT patient_key, consulted_on
    FROM consultations
    WHERE status = 'done'
),
next_visits AS (
    SELECT patient_key, consulted_on,
           lead(consulted_on) OVER (PARTITION BY patient_key ORDER BY consulted_on) AS next_on
    FROM visit_days
),
visits AS (
    SELECT c.consulted_on, n.next_on
    FROM consultations AS c
    JOIN next_visits AS n USING (patient_key, consulted_on)
    WHERE c.status = 'done'
      AND c.consulted_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
),
monthly AS (
    SELECT CAST(date_trunc('month', consulted_on) AS DATE) AS month,
           count(*) AS visits,
           count(*) FILTER (WHERE observable) AS observed,
           count(*) FILTER (WHERE observable AND next_on - consulted_on <= $within_days) AS returned
    FROM (
        SELECT consulted_on, next_on,
               consulted_on + CAST($within_days AS INTEGER)
                   <= (SELECT max(consulted_on) FROM consultations) AS observable
        FROM visits
    )
    GROUP BY 1
)
SELECT
    m.month,
    coalesce(x.visits, 0) AS visits,
    coalesce(x.observed, 0) AS observed,
    coalesce(x.returned, 0) AS returned,
    CASE WHEN x.observed > 0
         THEN CAST(round(100.0 * x.returned / x.observed, 1) AS DECIMAL(9, 1))
    END AS return_rate_pct
FROM months AS m
LEFT JOIN monthly AS x USING (month)
ORDER BY m.month

-- metric: return_rate
-- title: Taux de retour des patients
-- basis: activity (done consultations by consulted_on)
-- params: date_from, date_to, within_days, practitioners
-- columns: month, visits, observed, returned, return_rate_pct
-- Per month of the visit: a done consultation "returns" when the same patient has another
-- done consultation on a later day within $within_days days (default 90). Only visits
-- whose whole window is observed (visit day + $within_days <= the last consultation day
-- in the data) enter the rate: observed = those visits, returned = those of them followed
-- by a return, return_rate_pct = returned / observed. The following visit may fall after
-- $date_to (it must be loaded: open the warehouse on the following year too).
WITH next_visits AS (  -- per patient and day (a second visit the same day is no return)
    SELECT patient_key, consulted_on,
           lead(consulted_on) OVER (PARTITION BY patient_key ORDER BY consulted_on) AS next_on
    FROM (SELECT DISTINCT patient_key, consulted_on FROM visits(NULL, NULL, practitioners := $practitioners))
),
windows AS (  -- each visit of the period, its next visit, whether its window is observed
    SELECT v.consulted_on, n.next_on,
           v.consulted_on + CAST($within_days AS INTEGER)
               <= (SELECT max(consulted_on) FROM consultations) AS observable
    FROM visits($date_from, $date_to, practitioners := $practitioners) AS v
    JOIN next_visits AS n USING (patient_key, consulted_on)
),
monthly AS (
    SELECT c.period_start AS month,
           count(w.consulted_on) AS visits,
           count(w.consulted_on) FILTER (WHERE w.observable) AS observed,
           count(w.consulted_on) FILTER (
               WHERE w.observable AND w.next_on - w.consulted_on <= $within_days
           ) AS returned
    FROM period_calendar('month', $date_from, $date_to) AS c
    LEFT JOIN windows AS w ON period_of('month', w.consulted_on) = c.period_start
    GROUP BY c.period_start
)
SELECT
    month,
    visits,
    observed,
    returned,
    CASE WHEN observed > 0
         THEN CAST(round(100.0 * returned / observed, 1) AS DECIMAL(9, 1))
    END AS return_rate_pct
FROM monthly
ORDER BY month

-- metric: new_patients
-- title: Nouveaux patients par mois (première consultation)
-- basis: activity (first done consultation of each patient over the whole history)
-- params: date_from, date_to
-- One row per month: patients whose first done consultation falls in the month. The
-- history covers every year of the snapshot even when the warehouse loaded only some.
WITH months AS (
    SELECT CAST(m AS DATE) AS month
    FROM generate_series(
        CAST(date_trunc('month', CAST($date_from AS DATE)) AS TIMESTAMP),
        CAST(CAST($date_to AS DATE) AS TIMESTAMP),
        INTERVAL 1 MONTH
    ) AS t(m)
),
monthly AS (
    SELECT CAST(date_trunc('month', first_done_on) AS DATE) AS month, count(*) AS new_patients
    FROM patient_history
    WHERE first_done_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
    GROUP BY 1
)
SELECT m.month, coalesce(x.new_patients, 0) AS new_patients
FROM months AS m
LEFT JOIN monthly AS x USING (month)
ORDER BY m.month

-- metric: active_patients
-- title: Patients vus par mois
-- basis: activity (done consultations by consulted_on)
-- params: date_from, date_to
-- One row per month: distinct patients with at least one done consultation in the month,
-- and their done consultations.
WITH months AS (
    SELECT CAST(m AS DATE) AS month
    FROM generate_series(
        CAST(date_trunc('month', CAST($date_from AS DATE)) AS TIMESTAMP),
        CAST(CAST($date_to AS DATE) AS TIMESTAMP),
        INTERVAL 1 MONTH
    ) AS t(m)
),
monthly AS (
    SELECT CAST(date_trunc('month', consulted_on) AS DATE) AS month,
           count(DISTINCT patient_key) AS active_patients,
           count(*) AS consultations
    FROM consultations
    WHERE status = 'done'
      AND consulted_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
    GROUP BY 1
)
SELECT m.month,
       coalesce(x.active_patients, 0) AS active_patients,
       coalesce(x.consultations, 0) AS consultations
FROM months AS m
LEFT JOIN monthly AS x USING (month)
ORDER BY m.month

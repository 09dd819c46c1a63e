-- metric: new_patients_registered
-- title: Nouveaux dossiers patients par mois (date de création, comme LibreOsteo)
-- basis: activity (patients.registered_on, the day the patient file was created)
-- params: date_from, date_to
-- One row per month: patient files created in the month. LibreOsteo's own count; it
-- includes patients never seen and is empty for sources without a creation date.
WITH months AS (
    SELECT CAST(m AS DATE) AS month
    FROM generate_series(
        CAST(date_trunc('month', CAST($date_from AS DATE)) AS TIMESTAMP),
        CAST(CAST($date_to AS DATE) AS TIMESTAMP),
        INTERVAL 1 MONTH
    ) AS t(m)
),
monthly AS (
    SELECT CAST(date_trunc('month', registered_on) AS DATE) AS month, count(*) AS new_patients
    FROM patients
    WHERE registered_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
    GROUP BY 1
)
SELECT m.month, coalesce(x.new_patients, 0) AS new_patients
FROM months AS m
LEFT JOIN monthly AS x USING (month)
ORDER BY m.month

-- metric: visits_per_patient
-- title: Nombre de consultations par patient
-- basis: activity (done consultations by consulted_on)
-- params: date_from, date_to, practitioners
-- columns: visits, patients
-- Distribution over patients seen in [$date_from, $date_to]: one row per number of done
-- consultations in the period (1, 2, 3...) with the number of patients who had exactly
-- that many. Mean visits per patient = sum(visits * patients) / sum(patients).
WITH per_patient AS (
    SELECT patient_key, count(*) AS visits
    FROM visits($date_from, $date_to, practitioners := $practitioners)
    GROUP BY 1
)
SELECT visits, count(*) AS patients
FROM per_patient
GROUP BY visits
ORDER BY visits

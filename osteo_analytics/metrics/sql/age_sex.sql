-- metric: age_sex
-- title: Consultations par tranche d'âge et sexe
-- basis: activity (done consultations by consulted_on)
-- params: date_from, date_to, practitioners
-- columns: age_band, sex, consultations, patients
-- Full grid of age band x sex (F, M, unknown), zeros included. Age at the consultation =
-- its year minus birth_year (only the birth year is kept, so this is the age reached
-- during that year); bands 0-2, 3-11, 12-17, 18-29, 30-44, 45-59, 60-74, 75+, unknown.
-- consultations = done consultations; patients = distinct patients in that cell.
WITH bands(age_band, low, high, position) AS (
    VALUES ('0-2', 0, 2, 1), ('3-11', 3, 11, 2), ('12-17', 12, 17, 3), ('18-29', 18, 29, 4),
           ('30-44', 30, 44, 5), ('45-59', 45, 59, 6), ('60-74', 60, 74, 7),
           ('75+', 75, 999, 8), ('unknown', NULL, NULL, 9)
),
sexes(sex, position) AS (VALUES ('F', 1), ('M', 2), ('unknown', 3)),
aged AS (
    SELECT v.patient_key,
           year(v.consulted_on) - p.birth_year AS age,
           coalesce(p.sex, 'unknown') AS sex
    FROM visits($date_from, $date_to, practitioners := $practitioners) AS v
    LEFT JOIN patients AS p USING (patient_key)
),
banded AS (
    SELECT coalesce(b.age_band, 'unknown') AS age_band, v.sex, v.patient_key
    FROM aged AS v
    LEFT JOIN bands AS b ON v.age BETWEEN b.low AND b.high
),
cells AS (
    SELECT age_band, sex, count(*) AS consultations, count(DISTINCT patient_key) AS patients
    FROM banded
    GROUP BY 1, 2
)
SELECT b.age_band, s.sex,
       coalesce(c.consultations, 0) AS consultations,
       coalesce(c.patients, 0) AS patients
FROM bands AS b
CROSS JOIN sexes AS s
LEFT JOIN cells AS c ON c.age_band = b.age_band AND c.sex = s.sex
ORDER BY b.position, s.position

-- metric: departement
-- title: Patients par département
-- basis: activity (done consultations by consulted_on)
-- params: date_from, date_to, practitioners
-- columns: departement, patients, consultations
-- One row per département of residence (unknown when not recorded) of the patients seen
-- in the period: distinct patients and their done consultations, most patients first.
SELECT
    coalesce(p.departement, 'unknown') AS departement,
    count(DISTINCT c.patient_key) AS patients,
    count(*) AS consultations
FROM visits($date_from, $date_to, practitioners := $practitioners) AS c
LEFT JOIN patients AS p USING (patient_key)
GROUP BY 1
ORDER BY patients DESC, departement

-- metric: new_patients_registered
-- title: Nouveaux dossiers patients par mois (date de création, comme LibreOsteo)
-- basis: activity (patients.registered_on, the day the patient file was created)
-- params: date_from, date_to, practitioners
-- columns: month, new_patients
-- One row per month: patient files created in the month (new_patients_by_period).
-- LibreOsteo's own count; it includes patients never seen and is empty for sources without
-- a creation date.
SELECT period_start AS month, registered AS new_patients
FROM new_patients_by_period('month', $date_from, $date_to, practitioners := $practitioners)
ORDER BY month

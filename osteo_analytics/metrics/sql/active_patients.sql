-- metric: active_patients
-- title: Patients vus par mois
-- basis: activity (done consultations by consulted_on)
-- params: date_from, date_to, practitioners
-- columns: month, active_patients, consultations
-- One row per month: distinct patients with at least one done consultation in the month,
-- and their done consultations (visitors_by_period).
SELECT period_start AS month, patients AS active_patients, visits AS consultations
FROM visitors_by_period('month', $date_from, $date_to, practitioners := $practitioners)
ORDER BY month

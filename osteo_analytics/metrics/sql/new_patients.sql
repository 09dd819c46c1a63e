-- metric: new_patients
-- title: Nouveaux patients par mois (première consultation)
-- basis: activity (first done consultation of each patient over the whole history)
-- params: date_from, date_to, practitioners
-- columns: month, new_patients
-- One row per month: patients whose first done consultation falls in the month. The
-- history covers every year of the snapshot even when the warehouse loaded only some
-- (new_patients_by_period).
SELECT period_start AS month, first_visits AS new_patients
FROM new_patients_by_period('month', $date_from, $date_to, practitioners := $practitioners)
ORDER BY month

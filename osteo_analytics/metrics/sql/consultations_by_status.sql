-- metric: consultations_by_status
-- title: Consultations réalisées, annulées, non honorées
-- basis: activity (consultations by consulted_on)
-- params: date_from, date_to, grain (day|week|month|year), practitioners
-- columns: period_start, done, cancelled, no_show, appointments
-- One row per period (weeks start on Monday), empty periods included: appointments done,
-- cancelled and missed (no_show), and all of them (appointments_by_period).
SELECT period_start, done, cancelled, no_show, appointments
FROM appointments_by_period($grain, $date_from, $date_to, practitioners := $practitioners)
ORDER BY period_start

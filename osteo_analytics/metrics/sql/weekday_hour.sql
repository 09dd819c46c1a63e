-- metric: weekday_hour
-- title: Consultations par jour de la semaine et heure
-- basis: activity (done consultations by consulted_on and local start_time)
-- params: date_from, date_to, practitioners
-- columns: weekday, hour, consultations
-- One row per (ISO weekday 1 = Monday .. 7 = Sunday, hour of the local start time) with
-- done consultations; consultations without a start time (ledgers) have a null hour.
SELECT
    isodow(consulted_on) AS weekday,
    hour(start_time) AS hour,
    count(*) AS consultations
FROM visits($date_from, $date_to, practitioners := $practitioners)
GROUP BY 1, 2
ORDER BY 1, 2 NULLS LAST

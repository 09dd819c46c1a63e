-- metric: consultations_by_type
-- title: Consultations par type (premières, suivis, retours, urgences...)
-- basis: activity (done consultations by consulted_on)
-- params: date_from, date_to, practitioners
-- columns: month, first, follow_up, return, urgent, home, other
-- One row per month: done consultations of each consultation_type (first, follow_up,
-- return, urgent, home, other). Returns and emergencies are the `return` and `urgent`
-- columns.
WITH monthly AS (
    SELECT period_of('month', consulted_on) AS period_start,
           count(*) FILTER (WHERE consultation_type = 'first') AS first,
           count(*) FILTER (WHERE consultation_type = 'follow_up') AS follow_up,
           count(*) FILTER (WHERE consultation_type = 'return') AS "return",
           count(*) FILTER (WHERE consultation_type = 'urgent') AS urgent,
           count(*) FILTER (WHERE consultation_type = 'home') AS home,
           count(*) FILTER (WHERE consultation_type = 'other') AS other
    FROM visits($date_from, $date_to, practitioners := $practitioners)
    GROUP BY 1
)
SELECT c.period_start AS month, coalesce(COLUMNS(m.* EXCLUDE (period_start)), 0)
FROM period_calendar('month', $date_from, $date_to) AS c
LEFT JOIN monthly AS m ON m.period_start = c.period_start
ORDER BY month

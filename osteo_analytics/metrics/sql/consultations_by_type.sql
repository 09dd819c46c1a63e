-- metric: consultations_by_type
-- title: Consultations par type (premières, suivis, retours, urgences...)
-- basis: activity (done consultations by consulted_on)
-- params: date_from, date_to
-- One row per month: done consultations of each consultation_type (first, follow_up,
-- return, urgent, home, other). Returns and emergencies are the `return` and `urgent`
-- columns.
WITH months AS (
    SELECT CAST(m AS DATE) AS month
    FROM generate_series(
        CAST(date_trunc('month', CAST($date_from AS DATE)) AS TIMESTAMP),
        CAST(CAST($date_to AS DATE) AS TIMESTAMP),
        INTERVAL 1 MONTH
    ) AS t(m)
),
monthly AS (
    SELECT CAST(date_trunc('month', consulted_on) AS DATE) AS month,
           count(*) FILTER (WHERE consultation_type = 'first') AS first,
           count(*) FILTER (WHERE consultation_type = 'follow_up') AS follow_up,
           count(*) FILTER (WHERE consultation_type = 'return') AS "return",
           count(*) FILTER (WHERE consultation_type = 'urgent') AS urgent,
           count(*) FILTER (WHERE consultation_type = 'home') AS home,
           count(*) FILTER (WHERE consultation_type = 'other') AS other
    FROM consultations
    WHERE status = 'done'
      AND consulted_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
    GROUP BY 1
)
SELECT
    m.month,
    coalesce(x.first, 0) AS first,
    coalesce(x.follow_up, 0) AS follow_up,
    coalesce(x."return", 0) AS "return",
    coalesce(x.urgent, 0) AS urgent,
    coalesce(x.home, 0) AS home,
    coalesce(x.other, 0) AS other
FROM months AS m
LEFT JOIN monthly AS x USING (month)
ORDER BY m.month

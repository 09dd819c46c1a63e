-- metric: motif_category
-- title: Consultations par motif
-- basis: activity (done consultations by consulted_on)
-- params: date_from, date_to
-- One row per motif category present (docs/datasets.md codes; unknown when no reason was
-- recorded): done consultations and distinct patients, most frequent first.
SELECT
    coalesce(motif_category, 'unknown') AS motif_category,
    count(*) AS consultations,
    count(DISTINCT patient_key) AS patients
FROM consultations
WHERE status = 'done'
  AND consulted_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
GROUP BY 1
ORDER BY consultations DESC, motif_category

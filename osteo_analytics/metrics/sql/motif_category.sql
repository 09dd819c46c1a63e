-- metric: motif_category
-- title: Consultations par motif
-- basis: activity (done consultations by consulted_on)
-- params: date_from, date_to, practitioners
-- columns: motif_category, consultations, patients
-- One row per motif category present (docs/datasets.md codes; unknown when no reason was
-- recorded): done consultations and distinct patients, most frequent first.
SELECT
    coalesce(motif_category, 'unknown') AS motif_category,
    count(*) AS consultations,
    count(DISTINCT patient_key) AS patients
FROM visits($date_from, $date_to, practitioners := $practitioners)
GROUP BY 1
ORDER BY consultations DESC, motif_category

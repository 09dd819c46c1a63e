-- metric: retention
-- title: Dossiers dont la durée de conservation est échue
-- basis: records (consultations over the whole history, patients.birth_year)
-- params: as_of, retention_years, minor_age, practitioners
-- columns: patient_key, birth_year, last_visit_on, keep_until, rule, days_overdue
-- One row per patient whose record may be destroyed on $as_of (default: today). Last
-- visit = last done consultation, else last appointment of any status, else the day the
-- file was created; patients with none of these are not listed (nothing to date from).
-- keep_until = the later of last visit + $retention_years years (setting retention_years,
-- 20) and 31 December of birth_year + $minor_age (setting retention_minor_age, 28: the
-- 28th birthday of a patient seen as a minor; only the birth year is known, so the end of
-- that year). For an adult at the last visit the first date is always the later one.
-- rule says which date applies. The record is the patient's, whoever saw them: dates are
-- the cabinet's; $practitioners keeps the patients with at least one appointment (any
-- status) with one of them (practitioner_history); files never booked belong to none.
WITH patients_dated AS (
    SELECT p.patient_key, p.birth_year,
           coalesce(h.last_done_on, h.last_consulted_on, p.registered_on) AS last_visit_on
    FROM patients AS p
    LEFT JOIN patient_history AS h USING (patient_key)
    WHERE all_practitioners($practitioners) OR p.patient_key IN (
        SELECT patient_key FROM practitioner_history
        WHERE NOT all_practitioners($practitioners)  -- nothing to scan for the cabinet
          AND for_practitioners(practitioner_id, $practitioners)
    )
),
limits AS (
    SELECT patient_key, birth_year, last_visit_on,
           CAST(last_visit_on + to_years(CAST($retention_years AS INTEGER)) AS DATE) AS after_visit,
           make_date(birth_year + CAST($minor_age AS INTEGER), 12, 31) AS minor_limit
    FROM patients_dated
    WHERE last_visit_on IS NOT NULL
)
SELECT
    patient_key,
    birth_year,
    last_visit_on,
    greatest(after_visit, minor_limit) AS keep_until,
    CASE WHEN minor_limit > after_visit THEN 'minor_age' ELSE 'after_last_visit' END AS rule,
    CAST($as_of AS DATE) - greatest(after_visit, minor_limit) AS days_overdue
FROM limits
WHERE greatest(after_visit, minor_limit) < CAST($as_of AS DATE)
ORDER BY keep_until, patient_key

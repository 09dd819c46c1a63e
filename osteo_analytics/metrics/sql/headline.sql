-- metric: headline
-- title: Chiffres clés par mois
-- basis: both, in separate columns: revenue_invoiced = facturé (live_invoices by issued_on: invoices that stand, partial credit notes negative in their own month); revenue_received and received_* = encaissé (payments by paid_on, refunds negative); unpaid_* = invoices that stand issued in the month still due on $date_to (invoice_balances)
-- params: date_from, date_to, practitioners
-- columns: month, consultations_done, consultations_cancelled, consultations_no_show, new_patients, active_patients, revenue_invoiced, revenue_received, received_cb, received_cheque, received_especes, received_virement, received_autre, unpaid_invoices, unpaid_amount, distinct_patients
-- One row per month of [$date_from, $date_to], months without activity included with zeros.
-- Consultations count by consulted_on and status. new_patients: patients whose first done
-- consultation (over the whole history) falls in the month. active_patients: distinct
-- patients with a done consultation in the month. distinct_patients (same on every row):
-- distinct patients with a done consultation in the whole period.
WITH unpaid_by_month AS (  -- what each invoice still owed at the end of the period
    SELECT period_of('month', issued_on) AS period_start, count(*) AS invoices, sum(due) AS due
    FROM unpaid($date_from, $date_to, practitioners := $practitioners)
    GROUP BY 1
)
SELECT
    a.period_start AS month,
    a.done AS consultations_done,
    a.cancelled AS consultations_cancelled,
    a.no_show AS consultations_no_show,
    n.first_visits AS new_patients,
    v.patients AS active_patients,
    f.amount AS revenue_invoiced,
    r.amount AS revenue_received,
    r.cb AS received_cb,
    r.cheque AS received_cheque,
    r.especes AS received_especes,
    r.virement AS received_virement,
    r.autre AS received_autre,
    coalesce(u.invoices, 0) AS unpaid_invoices,
    euros(u.due) AS unpaid_amount,
    (
        SELECT count(DISTINCT patient_key) FROM visits($date_from, $date_to, practitioners := $practitioners)
    ) AS distinct_patients
FROM appointments_by_period('month', $date_from, $date_to, practitioners := $practitioners) AS a
JOIN visitors_by_period('month', $date_from, $date_to, practitioners := $practitioners) AS v USING (period_start)
JOIN new_patients_by_period('month', $date_from, $date_to, practitioners := $practitioners) AS n USING (period_start)
JOIN invoiced_by_period('month', $date_from, $date_to, practitioners := $practitioners) AS f USING (period_start)
JOIN receipts_by_period('month', $date_from, $date_to, practitioners := $practitioners) AS r USING (period_start)
LEFT JOIN unpaid_by_month AS u USING (period_start)
ORDER BY month

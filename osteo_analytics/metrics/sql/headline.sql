-- metric: headline
-- title: Chiffres clés par mois
-- basis: both, in separate columns: revenue_invoiced = facturé (live_invoices by issued_on: invoices that stand, partial credit notes negative in their own month); revenue_received and received_* = encaissé (payments by paid_on, refunds negative); unpaid_* = invoices that stand issued in the month still due on $date_to (invoice_balances)
-- params: date_from, date_to
-- One row per month of [$date_from, $date_to], months without activity included with zeros.
-- Consultations count by consulted_on and status. new_patients: patients whose first done
-- consultation (over the whole history) falls in the month. active_patients: distinct
-- patients with a done consultation in the month. distinct_patients (same on every row):
-- distinct patients with a done consultation in the whole period.
WITH months AS (
    SELECT CAST(m AS DATE) AS month
    FROM generate_series(
        CAST(date_trunc('month', CAST($date_from AS DATE)) AS TIMESTAMP),
        CAST(CAST($date_to AS DATE) AS TIMESTAMP),
        INTERVAL 1 MONTH
    ) AS t(m)
),
visits AS (
    SELECT CAST(date_trunc('month', consulted_on) AS DATE) AS month,
           count(*) FILTER (WHERE status = 'done') AS consultations_done,
           count(*) FILTER (WHERE status = 'cancelled') AS consultations_cancelled,
           count(*) FILTER (WHERE status = 'no_show') AS consultations_no_show,
           count(DISTINCT patient_key) FILTER (WHERE status = 'done') AS active_patients
    FROM consultations
    WHERE consulted_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
    GROUP BY 1
),
newcomers AS (
    SELECT CAST(date_trunc('month', first_done_on) AS DATE) AS month, count(*) AS new_patients
    FROM patient_history
    WHERE first_done_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
    GROUP BY 1
),
invoiced AS (
    SELECT CAST(date_trunc('month', issued_on) AS DATE) AS month, sum(amount) AS amount
    FROM live_invoices
    WHERE issued_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
    GROUP BY 1
),
received AS (
    SELECT CAST(date_trunc('month', paid_on) AS DATE) AS month,
           sum(amount) AS amount,
           sum(amount) FILTER (WHERE method = 'cb') AS cb,
           sum(amount) FILTER (WHERE method = 'cheque') AS cheque,
           sum(amount) FILTER (WHERE method = 'especes') AS especes,
           sum(amount) FILTER (WHERE method = 'virement') AS virement,
           sum(amount) FILTER (WHERE method = 'autre') AS autre
    FROM payments
    WHERE paid_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
    GROUP BY 1
),
unpaid AS (  -- what each invoice still owed at the end of the period
    SELECT CAST(date_trunc('month', issued_on) AS DATE) AS month,
           count(*) AS invoices,
           sum(due) AS amount
    FROM invoice_balances(CAST($date_to AS DATE))
    WHERE issued_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
      AND due > 0
    GROUP BY 1
)
SELECT
    m.month,
    coalesce(v.consultations_done, 0) AS consultations_done,
    coalesce(v.consultations_cancelled, 0) AS consultations_cancelled,
    coalesce(v.consultations_no_show, 0) AS consultations_no_show,
    coalesce(n.new_patients, 0) AS new_patients,
    coalesce(v.active_patients, 0) AS active_patients,
    CAST(coalesce(i.amount, 0) AS DECIMAL(18, 2)) AS revenue_invoiced,
    CAST(coalesce(r.amount, 0) AS DECIMAL(18, 2)) AS revenue_received,
    CAST(coalesce(r.cb, 0) AS DECIMAL(18, 2)) AS received_cb,
    CAST(coalesce(r.cheque, 0) AS DECIMAL(18, 2)) AS received_cheque,
    CAST(coalesce(r.especes, 0) AS DECIMAL(18, 2)) AS received_especes,
    CAST(coalesce(r.virement, 0) AS DECIMAL(18, 2)) AS received_virement,
    CAST(coalesce(r.autre, 0) AS DECIMAL(18, 2)) AS received_autre,
    coalesce(u.invoices, 0) AS unpaid_invoices,
    CAST(coalesce(u.amount, 0) AS DECIMAL(18, 2)) AS unpaid_amount,
    (
        SELECT count(DISTINCT patient_key)
        FROM consultations
        WHERE status = 'done'
          AND consulted_on BETWEEN CAST($date_from AS DATE) AND CAST($date_to AS DATE)
    ) AS distinct_patients
FROM months AS m
LEFT JOIN visits AS v USING (month)
LEFT JOIN newcomers AS n USING (month)
LEFT JOIN invoiced AS i USING (month)
LEFT JOIN received AS r USING (month)
LEFT JOIN unpaid AS u USING (month)
ORDER BY m.month

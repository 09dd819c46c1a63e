-- metric: revenue_by_method
-- title: Encaissements par moyen de paiement
-- basis: encaisse (payments by paid_on, refunds negative)
-- params: date_from, date_to, practitioners
-- columns: method, amount, payments, refunds, share_pct
-- One row per means of payment (cb, cheque, especes, virement, autre: always all five),
-- with the net amount, the number of payments and of refunds, and the share of the net
-- total in percent.
WITH methods(method, position) AS (
    VALUES ('cb', 1), ('cheque', 2), ('especes', 3), ('virement', 4), ('autre', 5)
),
totals AS (
    SELECT method,
           sum(amount) AS amount,
           count(*) FILTER (WHERE amount > 0) AS payments,
           count(*) FILTER (WHERE amount < 0) AS refunds
    FROM receipts
    WHERE in_period(paid_on, $date_from, $date_to)
      AND for_practitioners(practitioner_id, $practitioners)
    GROUP BY 1
)
SELECT
    m.method,
    euros(t.amount) AS amount,
    coalesce(t.payments, 0) AS payments,
    coalesce(t.refunds, 0) AS refunds,
    CASE
        WHEN sum(t.amount) OVER () <> 0
        THEN CAST(round(100 * coalesce(t.amount, 0) / sum(t.amount) OVER (), 1) AS DECIMAL(9, 1))
    END AS share_pct
FROM methods AS m
LEFT JOIN totals AS t USING (method)
ORDER BY m.position

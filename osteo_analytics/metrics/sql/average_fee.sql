-- metric: average_fee
-- title: Honoraire moyen par mois
-- basis: facture (live_invoices by issued_on: invoices that stand, partial credit notes negative; cancelled invoices and the credit notes of full cancellations excluded)
-- params: date_from, date_to, practitioners
-- columns: month, invoices, amount, average_fee
-- One row per month: invoices that stand issued in the month, the month's facturé (the
-- same amount as revenue on the facture basis: partial credit notes issued in the month
-- are deducted) and the average fee = amount / invoices, rounded half up to the cent in
-- integer cents so that no binary float touches an amount (null when no invoice).
WITH monthly AS (
    SELECT period_start AS month, items AS invoices, amount,
           CAST(amount * 100 AS BIGINT) AS cents
    FROM invoiced_by_period('month', $date_from, $date_to, practitioners := $practitioners)
),
halves AS (  -- average in cents = floor((2 * cents + invoices) / (2 * invoices))
    SELECT month, 2 * cents + invoices AS numerator, 2 * invoices AS denominator
    FROM monthly
    WHERE invoices > 0
)
SELECT
    m.month,
    m.invoices,
    m.amount,
    CAST(
        -- floor division, also right for a negative month (partial credit notes only)
        CAST((h.numerator - ((h.numerator % h.denominator) + h.denominator) % h.denominator)
             // h.denominator AS DECIMAL(18, 0))
        * CAST(0.01 AS DECIMAL(3, 2))
        AS DECIMAL(18, 2)
    ) AS average_fee
FROM monthly AS m
LEFT JOIN halves AS h USING (month)
ORDER BY m.month

-- metric: tax_2035
-- title: Totaux annuels pour la déclaration 2035
-- basis: encaisse (payments by paid_on, refunds negative)
-- params: date_from, date_to, practitioners
-- columns: year, receipts, refunds, net_receipts, payments, cb, cheque, especes, virement, autre
-- One row per calendar year of [$date_from, $date_to] (zeros included): receipts
-- (positive payments), refunds (negative), net receipts (recettes encaissées, the 2035
-- line AA basis), the number of receipts and the net amount per means of payment.
SELECT
    CAST(year(period_start) AS INTEGER) AS year,
    receipts,
    refunds,
    amount AS net_receipts,
    receipt_count AS payments,
    cb, cheque, especes, virement, autre
FROM receipts_by_period('year', $date_from, $date_to, practitioners := $practitioners)
ORDER BY year

-- metric: revenue
-- title: Recettes par période
-- basis: $basis: encaisse = payments by paid_on (refunds negative); facture = live_invoices by issued_on (invoices that stand, partial credit notes negative); one basis per call, stated in the basis column
-- params: date_from, date_to, grain (day|week|month|year), basis (encaisse|facture), practitioners
-- columns: basis, period_start, amount, items
-- One row per period of [$date_from, $date_to] (weeks start on Monday), empty periods
-- included with zeros. items = number of payments (refunds included) or of invoices that
-- stand (a partial credit note lowers the amount; it is not an item).
SELECT CAST($basis AS VARCHAR) AS basis, period_start, amount, items
FROM revenue_by_period($basis, $grain, $date_from, $date_to, practitioners := $practitioners)
ORDER BY period_start

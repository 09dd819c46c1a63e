-- metric: revenue_by_practitioner
-- title: Recettes par praticien
-- basis: $basis: encaisse = payments by paid_on, attributed to the practitioner of their invoice; facture = live_invoices by issued_on, by issuing practitioner (a partial credit note counts for its invoice's practitioner)
-- params: date_from, date_to, basis (encaisse|facture), practitioners
-- columns: basis, practitioner_id, display_name, amount, items
-- One row per practitioner (zeros included); payments whose invoice is unknown form a
-- row with a null practitioner_id. items = payments (refunds included) or invoices that
-- stand (partial credit notes are not items).
WITH totals AS (
    SELECT practitioner_id, sum(amount) AS amount, count(*) FILTER (WHERE item) AS items
    FROM revenue_items($basis, $date_from, $date_to, practitioners := $practitioners)
    GROUP BY 1
)
SELECT
    CAST($basis AS VARCHAR) AS basis,
    coalesce(pr.practitioner_id, t.practitioner_id) AS practitioner_id,
    pr.display_name,
    euros(t.amount) AS amount,
    coalesce(t.items, 0) AS items
FROM (
    SELECT * FROM practitioners WHERE for_practitioners(practitioner_id, $practitioners)
) AS pr
FULL JOIN totals AS t ON t.practitioner_id = pr.practitioner_id
ORDER BY amount DESC, display_name

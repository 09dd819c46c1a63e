-- metric: revenue_by_act_type
-- title: Recettes par type d'acte
-- basis: $basis: encaisse = payments by paid_on; facture = live_invoices by issued_on (partial credit notes negative, with their invoice's consultation); the act type is the consultation_type of the invoice's consultation
-- params: date_from, date_to, basis (encaisse|facture), practitioners
-- columns: basis, consultation_type, amount, items
-- One row per consultation type (first, follow_up, return, urgent, home, other: always
-- all six) plus `unknown` for money whose invoice has no linked consultation. items =
-- payments (refunds included) or invoices that stand (partial credit notes are not items).
WITH types(consultation_type, position) AS (
    VALUES ('first', 1), ('follow_up', 2), ('return', 3), ('urgent', 4), ('home', 5),
           ('other', 6), ('unknown', 7)
),
totals AS (
    SELECT coalesce(c.consultation_type, 'unknown') AS consultation_type,
           sum(r.amount) AS amount,
           count(*) FILTER (WHERE r.item) AS items
    FROM revenue_items($basis, $date_from, $date_to, practitioners := $practitioners) AS r
    LEFT JOIN consultations AS c USING (consultation_id)
    GROUP BY 1
)
SELECT
    CAST($basis AS VARCHAR) AS basis,
    ty.consultation_type,
    euros(t.amount) AS amount,
    coalesce(t.items, 0) AS items
FROM types AS ty
LEFT JOIN totals AS t USING (consultation_type)
ORDER BY ty.position

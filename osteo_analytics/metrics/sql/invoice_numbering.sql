-- metric: invoice_numbering
-- title: Contrôle de la numérotation des factures
-- basis: facture (every invoice document, cancelled ones and credit notes included, by issued_on)
-- params: date_from, date_to, practitioners
-- columns: anomaly, prefix, year, invoice_number, issued_on, related_number, missing
-- A number is split into a prefix and its trailing digits (`F2024-0012` -> `F2024-`, 12);
-- a series is a prefix within a calendar year of issue (numbering may restart each year).
-- One row per anomaly among the documents issued in [$date_from, $date_to]:
--   gap        numbers missing between two consecutive numbers of a series
--              (missing = how many, related_number = the number before the gap);
--   duplicate  the same prefix and sequence written twice (`0012` and `12`);
--   backdated  a number lower than that of a document issued on an earlier day of the
--              same series (related_number = that earlier-dated, higher number).
-- Numbers without trailing digits are not checked. Series are checked over every
-- practitioner's documents (a cabinet often numbers in one series); each anomaly belongs
-- to the practitioner of its invoice_number and $practitioners keeps theirs.
WITH numbered AS (
    SELECT invoice_number, issued_on, practitioner_id,
           regexp_extract(invoice_number, '^(.*?)([0-9]+)$', 1) AS prefix,
           TRY_CAST(regexp_extract(invoice_number, '^(.*?)([0-9]+)$', 2) AS BIGINT) AS seq,
           year(issued_on) AS year
    FROM invoices
    WHERE in_period(issued_on, $date_from, $date_to)
),
checked AS (
    SELECT * FROM numbered WHERE seq IS NOT NULL
),
ordered AS (
    SELECT *,
           lag(seq) OVER w AS previous_seq,
           lag(invoice_number) OVER w AS previous_number
    FROM checked
    WINDOW w AS (PARTITION BY prefix, year ORDER BY seq, invoice_number)
),
gaps AS (
    SELECT 'gap' AS anomaly, prefix, year, invoice_number, issued_on, practitioner_id,
           previous_number AS related_number, seq - previous_seq - 1 AS missing
    FROM ordered
    WHERE seq - previous_seq > 1
),
duplicates AS (
    SELECT 'duplicate' AS anomaly, prefix, year, invoice_number, issued_on, practitioner_id,
           first_value(invoice_number) OVER (PARTITION BY prefix, seq ORDER BY issued_on,
                                             invoice_number) AS related_number,
           CAST(NULL AS BIGINT) AS missing
    FROM checked
    QUALIFY count(*) OVER (PARTITION BY prefix, seq) > 1
        AND row_number() OVER (PARTITION BY prefix, seq ORDER BY issued_on, invoice_number) > 1
),
daily AS (  -- highest number issued each day of each series
    SELECT prefix, year, issued_on, max(seq) AS day_max,
           arg_max(invoice_number, seq) AS day_max_number
    FROM checked
    GROUP BY 1, 2, 3
),
earlier AS (  -- highest number issued on any strictly earlier day of the series
    SELECT prefix, year, issued_on,
           max(day_max) OVER w AS earlier_max,
           arg_max(day_max_number, day_max) OVER w AS earlier_max_number
    FROM daily
    WINDOW w AS (PARTITION BY prefix, year ORDER BY issued_on
                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
),
backdated AS (
    SELECT 'backdated' AS anomaly, c.prefix, c.year, c.invoice_number, c.issued_on,
           c.practitioner_id, e.earlier_max_number AS related_number, CAST(NULL AS BIGINT) AS missing
    FROM checked AS c
    JOIN earlier AS e USING (prefix, year, issued_on)
    WHERE c.seq < e.earlier_max
)
SELECT anomaly, prefix, year, invoice_number, issued_on, related_number, missing
FROM (SELECT * FROM gaps UNION ALL SELECT * FROM duplicates UNION ALL SELECT * FROM backdated)
WHERE for_practitioners(practitioner_id, $practitioners)
ORDER BY year, prefix, issued_on, invoice_number, anomaly

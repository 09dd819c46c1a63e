-- metric: fec
-- title: Écritures au format FEC (journal des recettes)
-- basis: encaisse (one entry per payment or refund by paid_on: BNC receipts accounting)
-- params: date_from, date_to, practitioners
-- columns: JournalCode, JournalLib, EcritureNum, EcritureDate, CompteNum, CompteLib, CompAuxNum, CompAuxLib, PieceRef, PieceDate, EcritureLib, Debit, Credit, EcritureLet, DateLet, ValidDate, Montantdevise, Idevise
-- The 18 columns of the Fichier des Écritures Comptables (art. A47 A-1 LPF), typed (DATE,
-- DECIMAL): the export command formats them (YYYYMMDD dates, comma decimals, | separator).
-- Account plan: 706000 Honoraires (credit for a receipt, debit for a refund) against
-- 530000 Caisse for cash (especes) or 512000 Banque for every other means (cb, cheque,
-- virement, autre). Journal RE "Recettes"; one entry (EcritureNum RE000001...) of two
-- lines per payment, in date order; PieceRef = the invoice number, PieceDate = its issue
-- date (the payment date when the invoice is unknown). No auxiliary accounts, no
-- lettering, amounts in euros (Montantdevise, Idevise empty).
WITH entries AS (
    SELECT payment_id, invoice_number, paid_on, amount, method, issued_on,
           row_number() OVER (ORDER BY paid_on, invoice_number, payment_id) AS entry
    FROM receipts
    WHERE in_period(paid_on, $date_from, $date_to)
      AND for_practitioners(practitioner_id, $practitioners)
),
lines AS (
    SELECT entry, 1 AS line, paid_on, invoice_number, issued_on, method,
           CASE WHEN method = 'especes' THEN '530000' ELSE '512000' END AS account,
           CASE WHEN method = 'especes' THEN 'Caisse' ELSE 'Banque' END AS account_label,
           greatest(amount, 0) AS debit, greatest(-amount, 0) AS credit
    FROM entries
    UNION ALL
    SELECT entry, 2, paid_on, invoice_number, issued_on, method,
           '706000', 'Honoraires',
           greatest(-amount, 0), greatest(amount, 0)
    FROM entries
)
SELECT
    'RE' AS "JournalCode",
    'Recettes' AS "JournalLib",
    'RE' || lpad(CAST(entry AS VARCHAR), 6, '0') AS "EcritureNum",
    paid_on AS "EcritureDate",
    account AS "CompteNum",
    account_label AS "CompteLib",
    '' AS "CompAuxNum",
    '' AS "CompAuxLib",
    invoice_number AS "PieceRef",
    coalesce(issued_on, paid_on) AS "PieceDate",
    'Honoraires facture ' || invoice_number || ' (' || method || ')' AS "EcritureLib",
    CAST(debit AS DECIMAL(18, 2)) AS "Debit",
    CAST(credit AS DECIMAL(18, 2)) AS "Credit",
    '' AS "EcritureLet",
    CAST(NULL AS DATE) AS "DateLet",
    paid_on AS "ValidDate",
    CAST(NULL AS DECIMAL(18, 2)) AS "Montantdevise",
    '' AS "Idevise"
FROM lines
ORDER BY entry, line

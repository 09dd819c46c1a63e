-- metric: fec
-- title: Écritures au format FEC (journal des recettes)
-- basis: encaisse (one entry per payment or refund by paid_on: BNC receipts accounting)
-- params: date_from, date_to, practitioners
-- columns: JournalCode, JournalLib, EcritureNum, EcritureDate, CompteNum, CompteLib, CompAuxNum, CompAuxLib, PieceRef, PieceDate, EcritureLib, Debit, Credit, EcritureLet, DateLet, ValidDate, Montantdevise, Idevise, DateRglt, ModeRglt, NatOp, IdClient
-- The 22 columns of the Fichier des Écritures Comptables of a BNC keeping a cash-basis
-- accounting (art. A47 A-1 LPF, II; BOI-CF-IOR-60-40-20): the 18 general fields, then
-- DateRglt (settlement date), ModeRglt (means of payment), NatOp (nature of the
-- operation) and IdClient (the client), typed (DATE, DECIMAL). ModeRglt holds the method
-- code (cb, cheque...): the FEC file writes its French label (exports.py, which also
-- formats the rest: AAAAMMJJ dates, comma decimals, tab separator, ISO-8859-15).
-- Account plan: 706000 Honoraires (credit for a receipt, debit for a refund) against
-- 530000 Caisse for cash (especes) or 512000 Banque for every other means (cb, cheque,
-- virement, autre). Journal RE "Recettes"; one entry (EcritureNum RE000001...) of two
-- lines per payment, in date order; PieceRef = the invoice number, PieceDate = its issue
-- date (the payment date when the invoice is unknown). No auxiliary accounts, no
-- lettering, amounts in euros (Montantdevise, Idevise empty). DateRglt = the payment
-- date; NatOp = Honoraires, or Remboursement d'honoraires for a refund; IdClient = the
-- patient's pseudonym (never a name: medical secrecy), empty when the invoice is unknown.
WITH entries AS (
    SELECT payment_id, invoice_number, paid_on, amount, method, issued_on, patient_key,
           row_number() OVER (ORDER BY paid_on, invoice_number, payment_id) AS entry
    FROM receipts
    WHERE in_period(paid_on, $date_from, $date_to)
      AND for_practitioners(practitioner_id, $practitioners)
),
lines AS (
    SELECT entry, 1 AS line, paid_on, invoice_number, issued_on, method, amount, patient_key,
           CASE WHEN method = 'especes' THEN '530000' ELSE '512000' END AS account,
           CASE WHEN method = 'especes' THEN 'Caisse' ELSE 'Banque' END AS account_label,
           greatest(amount, 0) AS debit, greatest(-amount, 0) AS credit
    FROM entries
    UNION ALL
    SELECT entry, 2, paid_on, invoice_number, issued_on, method, amount, patient_key,
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
    '' AS "Idevise",
    paid_on AS "DateRglt",
    method AS "ModeRglt",
    CASE WHEN amount < 0 THEN 'Remboursement d''honoraires' ELSE 'Honoraires' END AS "NatOp",
    coalesce(patient_key, '') AS "IdClient"
FROM lines
ORDER BY entry, line

-- staging.systemic_therapies: one row per drug period. ATC codes retired by the 2021-2022
-- L01 restructure become current through contract.atc_renamed; the delivered code is kept.
-- The columns are typed before the mapping's join, on the scan (DuckDB then works on each
-- compressed column's distinct values); the join only picks the current code.
-- Ids arrive keyed from raw (HMAC of the trimmed id, or NULL): taken as they are.
SELECT
    s.* REPLACE (coalesce(atc.current_code, s.atc_code) AS atc_code)
FROM (
SELECT
    r.therapy_id AS therapy_id,
    r.patient_id AS patient_id,
    lower(oligo_text(r.drug_name)) AS drug_name,
    upper(oligo_text(r.atc_code)) AS atc_code,
    oligo_date(r.start_date, $date_format) AS start_date,
    oligo_date(r.end_date, $date_format) AS end_date,
    oligo_int(r.line_number) AS line_number,
    oligo_code('systemic_therapies', 'stop_reason', r.stop_reason) AS stop_reason,
    oligo_text(r.atc_code) AS atc_code_as_delivered
FROM raw.systemic_therapies AS r
-- Quarantined rows left out (an explicit anti join: DuckDB then types the columns
-- on their compressed values, which a correlated NOT EXISTS would not allow).
ANTI JOIN (SELECT file, row_number FROM ingest.quarantine WHERE table_name = 'systemic_therapies') AS q
    ON q.file = r._file AND q.row_number = r._row_number
) AS s
LEFT JOIN contract.atc_renamed AS atc ON atc.old_code = s.atc_code
ORDER BY therapy_id

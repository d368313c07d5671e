-- staging.mdt_decisions: one row per multidisciplinary team decision (optional table).
-- Ids arrive keyed from raw (HMAC of the trimmed id, or NULL): taken as they are.
SELECT
    r.decision_id AS decision_id,
    r.patient_id AS patient_id,
    oligo_date(r.decision_date, $date_format) AS decision_date,
    oligo_bool(r.all_sites_radically_treatable, $true_values, $false_values)
        AS all_sites_radically_treatable,
    oligo_code('mdt_decisions', 'decision', r.decision) AS decision
FROM raw.mdt_decisions AS r
-- Quarantined rows left out (an explicit anti join: DuckDB then types the columns
-- on their compressed values, which a correlated NOT EXISTS would not allow).
ANTI JOIN (SELECT file, row_number FROM ingest.quarantine WHERE table_name = 'mdt_decisions') AS q
    ON q.file = r._file AND q.row_number = r._row_number
ORDER BY decision_id

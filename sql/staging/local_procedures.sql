-- staging.local_procedures: one row per procedure; literal targets in lower case.
-- Ids arrive keyed from raw (HMAC of the trimmed id, or NULL): taken as they are.
SELECT
    r.procedure_id AS procedure_id,
    r.patient_id AS patient_id,
    CASE
        WHEN list_contains($target_literals, lower(oligo_trim(r.target))) THEN lower(oligo_trim(r.target))
        ELSE oligo_text(r.target)
    END AS target,
    oligo_date(r.procedure_date, $date_format) AS procedure_date,
    oligo_code('local_procedures', 'modality', r.modality) AS modality,
    oligo_code('local_procedures', 'intent', r.intent) AS intent
FROM raw.local_procedures AS r
-- Quarantined rows left out (an explicit anti join: DuckDB then types the columns
-- on their compressed values, which a correlated NOT EXISTS would not allow).
ANTI JOIN (SELECT file, row_number FROM ingest.quarantine WHERE table_name = 'local_procedures') AS q
    ON q.file = r._file AND q.row_number = r._row_number
ORDER BY procedure_id

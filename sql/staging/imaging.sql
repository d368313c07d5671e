-- staging.imaging: one row per imaging exam; codes canonical (iRECIST keeps its case: iCR).
-- Ids arrive keyed from raw (HMAC of the trimmed id, or NULL): taken as they are.
SELECT
    r.exam_id AS exam_id,
    r.patient_id AS patient_id,
    oligo_date(r.exam_date, $date_format) AS exam_date,
    oligo_code('imaging', 'modality', r.modality) AS modality,
    oligo_code('imaging', 'purpose', r.purpose) AS purpose,
    oligo_code('imaging', 'response', r.response) AS response
FROM raw.imaging AS r
-- Quarantined rows left out (an explicit anti join: DuckDB then types the columns
-- on their compressed values, which a correlated NOT EXISTS would not allow).
ANTI JOIN (SELECT file, row_number FROM ingest.quarantine WHERE table_name = 'imaging') AS q
    ON q.file = r._file AND q.row_number = r._row_number
ORDER BY exam_id

-- staging.toxicities: one row per adverse event; CTCAE version 5.0 when absent.
-- Ids arrive keyed from raw (HMAC of the trimmed id, or NULL): taken as they are.
SELECT
    r.toxicity_id AS toxicity_id,
    r.patient_id AS patient_id,
    r.course_id AS course_id,
    oligo_date(r.onset_date, $date_format) AS onset_date,
    oligo_text(r.ctcae_term) AS ctcae_term,
    oligo_int(r.grade) AS grade,
    oligo_code('toxicities', 'attribution', r.attribution) AS attribution,
    coalesce(oligo_text(r.ctcae_version), $default_ctcae_version) AS ctcae_version
FROM raw.toxicities AS r
-- Quarantined rows left out (an explicit anti join: DuckDB then types the columns
-- on their compressed values, which a correlated NOT EXISTS would not allow).
ANTI JOIN (SELECT file, row_number FROM ingest.quarantine WHERE table_name = 'toxicities') AS q
    ON q.file = r._file AND q.row_number = r._row_number
ORDER BY toxicity_id

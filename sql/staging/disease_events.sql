-- staging.disease_events: one row per progression event; confirmed is true when absent.
-- Ids arrive keyed from raw (HMAC of the trimmed id, or NULL): taken as they are.
SELECT
    r.event_id AS event_id,
    r.patient_id AS patient_id,
    oligo_date(r.event_date, $date_format) AS event_date,
    oligo_code('disease_events', 'event_type', r.event_type) AS event_type,
    r.lesion_id AS lesion_id,
    oligo_code('disease_events', 'basis', r.basis) AS basis,
    coalesce(
        oligo_bool(r.confirmed, $true_values, $false_values),
        oligo_bool($default_confirmed, $true_values, $false_values)
    ) AS confirmed
FROM raw.disease_events AS r
-- Quarantined rows left out (an explicit anti join: DuckDB then types the columns
-- on their compressed values, which a correlated NOT EXISTS would not allow).
ANTI JOIN (SELECT file, row_number FROM ingest.quarantine WHERE table_name = 'disease_events') AS q
    ON q.file = r._file AND q.row_number = r._row_number
ORDER BY event_id

-- staging.radiotherapy: one row per course, target and phase; phase 1 and dose reference
-- "prescription" when absent; the literal targets (primary, regional_nodes) in lower case.
-- Ids arrive keyed from raw (HMAC of the trimmed id, or NULL): taken as they are.
SELECT
    r.course_id AS course_id,
    coalesce(oligo_int(r.phase), oligo_int($default_phase)) AS phase,
    r.patient_id AS patient_id,
    CASE
        WHEN list_contains($target_literals, lower(oligo_trim(r.target))) THEN lower(oligo_trim(r.target))
        ELSE oligo_text(r.target)
    END AS target,
    oligo_date(r.start_date, $date_format) AS start_date,
    oligo_date(r.end_date, $date_format) AS end_date,
    oligo_decimal(r.total_dose_gy, $decimal_mark) AS total_dose_gy,
    oligo_int(r.fractions) AS fractions,
    oligo_code('radiotherapy', 'technique', r.technique) AS technique,
    oligo_code('radiotherapy', 'intent', r.intent) AS intent,
    coalesce(
        oligo_code('radiotherapy', 'dose_reference', r.dose_reference), $default_dose_reference
    ) AS dose_reference
FROM raw.radiotherapy AS r
-- Quarantined rows left out (an explicit anti join: DuckDB then types the columns
-- on their compressed values, which a correlated NOT EXISTS would not allow).
ANTI JOIN (SELECT file, row_number FROM ingest.quarantine WHERE table_name = 'radiotherapy') AS q
    ON q.file = r._file AND q.row_number = r._row_number
ORDER BY course_id, target, phase

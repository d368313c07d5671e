-- staging.patients: one row per patient; typed, codes canonical, quarantined rows dropped,
-- flags from ingest.incomplete_patients (a clinical row was quarantined) and
-- ingest.implausible_patients (a cross-record implausibility was flagged).
-- Ids arrive keyed from raw (HMAC of the trimmed id, or NULL): taken as they are.
SELECT
    r.patient_id AS patient_id,
    oligo_code('patients', 'sex', r.sex) AS sex,
    oligo_int(r.birth_year) AS birth_year,
    oligo_text(r.center_id) AS center_id,
    oligo_code('patients', 'smoking_status', r.smoking_status) AS smoking_status,
    oligo_decimal(r.pack_years, $decimal_mark) AS pack_years,
    oligo_code('patients', 'vital_status', r.vital_status) AS vital_status,
    oligo_date(r.death_date, $date_format) AS death_date,
    oligo_date(r.last_contact_date, $date_format) AS last_contact_date,
    EXISTS (
        SELECT 1 FROM ingest.incomplete_patients i WHERE i.patient_id = r.patient_id
    ) AS is_incomplete,
    EXISTS (
        SELECT 1 FROM ingest.implausible_patients i WHERE i.patient_id = r.patient_id
    ) AS has_implausibility
FROM raw.patients AS r
-- Quarantined rows left out (an explicit anti join: DuckDB then types the columns
-- on their compressed values, which a correlated NOT EXISTS would not allow).
ANTI JOIN (SELECT file, row_number FROM ingest.quarantine WHERE table_name = 'patients') AS q
    ON q.file = r._file AND q.row_number = r._row_number
ORDER BY patient_id

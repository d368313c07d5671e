-- staging.primary_tumors: one row per primary lung tumour. Topography with its dot (C34.1);
-- a partial diagnosis date imputed (15th of the month, or 1 July) and flagged; TNM 8 default.
-- Ids arrive keyed from raw (HMAC of the trimmed id, or NULL): taken as they are.
SELECT
    r.tumor_id AS tumor_id,
    r.patient_id AS patient_id,
    oligo_partial_date(r.diagnosis_date, $date_format, $month_format, $year_format)
        AS diagnosis_date,
    oligo_icd10(r.topography_code) AS topography_code,
    upper(oligo_text(r.morphology_code)) AS morphology_code,
    oligo_code('primary_tumors', 'laterality', r.laterality) AS laterality,
    coalesce(oligo_int(r.tnm_edition), oligo_int($default_tnm_edition)) AS tnm_edition,
    oligo_text(r.clinical_t) AS clinical_t,
    oligo_text(r.clinical_n) AS clinical_n,
    oligo_text(r.clinical_m) AS clinical_m,
    upper(oligo_text(r.stage_group)) AS stage_group,
    oligo_int(r.ecog_at_diagnosis) AS ecog_at_diagnosis,
    oligo_code('primary_tumors', 'egfr', r.egfr) AS egfr,
    oligo_code('primary_tumors', 'alk', r.alk) AS alk,
    oligo_code('primary_tumors', 'ros1', r.ros1) AS ros1,
    oligo_code('primary_tumors', 'kras_g12c', r.kras_g12c) AS kras_g12c,
    oligo_code('primary_tumors', 'braf_v600e', r.braf_v600e) AS braf_v600e,
    oligo_code('primary_tumors', 'met_ex14', r.met_ex14) AS met_ex14,
    oligo_code('primary_tumors', 'ret', r.ret) AS ret,
    oligo_decimal(r.pdl1_tps_percent, $decimal_mark) AS pdl1_tps_percent,
    oligo_is_partial_date(r.diagnosis_date, $date_format, $month_format, $year_format)
        AS diagnosis_date_imputed
FROM raw.primary_tumors AS r
-- Quarantined rows left out (an explicit anti join: DuckDB then types the columns
-- on their compressed values, which a correlated NOT EXISTS would not allow).
ANTI JOIN (SELECT file, row_number FROM ingest.quarantine WHERE table_name = 'primary_tumors') AS q
    ON q.file = r._file AND q.row_number = r._row_number
ORDER BY tumor_id

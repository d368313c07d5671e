-- staging.metastases: one row per metastatic lesion. site_code is WHO ICD-10 with its dot;
-- an ICD-10-CM subcode is mapped to its WHO code through contract.icd10cm_sites, which also
-- gives the laterality the CM code carries (site_laterality). Partial detected_date imputed.
-- The columns are typed before the mapping's join, on the scan (DuckDB then works on each
-- compressed column's distinct values); the join only picks the mapped code.
-- Ids arrive keyed from raw (HMAC of the trimmed id, or NULL): taken as they are.
SELECT
    m.* REPLACE (coalesce(cm.who_code, m.site_code) AS site_code),
    oligo_text(cm.site_laterality) AS site_laterality
FROM (
    SELECT
        r.lesion_id AS lesion_id,
        r.patient_id AS patient_id,
        r.tumor_id AS tumor_id,
        oligo_code('metastases', 'organ', r.organ) AS organ,
        oligo_icd10(r.site_code) AS site_code,
        oligo_code('metastases', 'laterality', r.laterality) AS laterality,
        oligo_partial_date(r.detected_date, $date_format, $month_format, $year_format)
            AS detected_date,
        oligo_code('metastases', 'detection_modality', r.detection_modality)
            AS detection_modality,
        oligo_bool(r.biopsy_confirmed, $true_values, $false_values) AS biopsy_confirmed,
        oligo_bool(r.is_diffuse, $true_values, $false_values) AS is_diffuse,
        oligo_date(r.resolved_date, $date_format) AS resolved_date,
        oligo_is_partial_date(r.detected_date, $date_format, $month_format, $year_format)
            AS detected_date_imputed
    FROM raw.metastases AS r
    -- Quarantined rows left out (an explicit anti join: DuckDB then types the columns
    -- on their compressed values, which a correlated NOT EXISTS would not allow).
    ANTI JOIN (SELECT file, row_number FROM ingest.quarantine WHERE table_name = 'metastases') AS q
        ON q.file = r._file AND q.row_number = r._row_number
) AS m
LEFT JOIN contract.icd10cm_sites AS cm ON cm.icd10cm_code = m.site_code
ORDER BY lesion_id

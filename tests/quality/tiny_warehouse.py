"""A clean tiny working warehouse (staging, ops.quarantine, marts) that passes every check.

Three patients: P1 synchronous OMD treated with SRS/SBRT, P2 synchronous OMD who died with a
grade 5 toxicity, P3 metachronous oligorecurrence operated. Every column of the first row of
every table is filled, so a test can break any check by editing that row.
"""

from __future__ import annotations

from datetime import date as d
from pathlib import Path

import duckdb
import polars as pl

from pipelines.contract.staging import staging_schema

BATCH_ID = "b1"

NO = "negative"
STAGING: dict[str, list[dict]] = {
    "patients": [
        dict(patient_id="P1", sex="F", birth_year=1955, center_id="C1", smoking_status="former",
             pack_years=30.0, vital_status="alive", death_date=None,
             last_contact_date=d(2025, 6, 30), is_incomplete=False, has_implausibility=False),
        dict(patient_id="P2", sex="M", birth_year=1950, center_id="C1", smoking_status="current",
             pack_years=40.0, vital_status="dead", death_date=d(2024, 5, 1),
             last_contact_date=d(2024, 5, 1), is_incomplete=False, has_implausibility=False),
        dict(patient_id="P3", sex="F", birth_year=1960, center_id="C2", smoking_status="never",
             pack_years=None, vital_status="alive", death_date=None,
             last_contact_date=d(2025, 6, 30), is_incomplete=False, has_implausibility=False),
    ],
    "primary_tumors": [
        dict(tumor_id="T1", patient_id="P1", diagnosis_date=d(2024, 1, 10), topography_code="C34.1",
             morphology_code="8140/3", laterality="right", tnm_edition=8, clinical_t="cT2a",
             clinical_n="cN2", clinical_m="cM1b", stage_group="IVA", ecog_at_diagnosis=1,
             egfr=NO, alk=NO, ros1=NO, kras_g12c="positive", braf_v600e=NO, met_ex14=NO,
             ret="not_tested", pdl1_tps_percent=60.0, diagnosis_date_imputed=False),
        dict(tumor_id="T2", patient_id="P2", diagnosis_date=d(2023, 3, 1), topography_code="C34.3",
             morphology_code="8070/3", laterality="left", tnm_edition=8, clinical_t="cT3",
             clinical_n="cN1", clinical_m="cM1c", stage_group="IVB", ecog_at_diagnosis=2,
             egfr=NO, alk=NO, ros1=NO, kras_g12c=NO, braf_v600e=NO, met_ex14=NO, ret=NO,
             pdl1_tps_percent=10.0, diagnosis_date_imputed=False),
        dict(tumor_id="T3", patient_id="P3", diagnosis_date=d(2024, 6, 1), topography_code="C341",
             morphology_code="8140/3", laterality="right", tnm_edition=9, clinical_t="cT1c",
             clinical_n="cN0", clinical_m="cM0", stage_group="IA3", ecog_at_diagnosis=0,
             egfr="positive", alk=NO, ros1=NO, kras_g12c=NO, braf_v600e=NO, met_ex14=NO, ret=NO,
             pdl1_tps_percent=0.0, diagnosis_date_imputed=False),
    ],
    "metastases": [
        dict(lesion_id="L1", patient_id="P1", tumor_id="T1", organ="brain", site_code="C79.3",
             laterality="left", detected_date=d(2024, 1, 5), detection_modality="brain_mri",
             biopsy_confirmed=False, is_diffuse=False, resolved_date=d(2024, 9, 1),
             detected_date_imputed=False, site_laterality="left"),
        dict(lesion_id="L2", patient_id="P1", tumor_id="T1", organ="bone", site_code="C79.5",
             laterality="midline", detected_date=d(2024, 1, 12), detection_modality="fdg_pet_ct",
             biopsy_confirmed=True, is_diffuse=False, resolved_date=None,
             detected_date_imputed=False, site_laterality=None),
        dict(lesion_id="L3", patient_id="P2", tumor_id="T2", organ="liver", site_code="C78.7",
             laterality="right", detected_date=d(2023, 3, 5), detection_modality="ct",
             biopsy_confirmed=False, is_diffuse=False, resolved_date=None,
             detected_date_imputed=False, site_laterality=None),
        dict(lesion_id="L4", patient_id="P3", tumor_id="T3", organ="adrenal", site_code="C79.7",
             laterality="left", detected_date=d(2025, 1, 15), detection_modality="fdg_pet_ct",
             biopsy_confirmed=True, is_diffuse=False, resolved_date=None,
             detected_date_imputed=False, site_laterality=None),
    ],
    "imaging": [
        dict(exam_id="E1", patient_id="P1", exam_date=d(2024, 1, 5), modality="brain_mri",
             purpose="staging", response="SD"),
        dict(exam_id="E2", patient_id="P1", exam_date=d(2024, 1, 12), modality="fdg_pet_ct",
             purpose="staging", response=None),
        dict(exam_id="E3", patient_id="P1", exam_date=d(2025, 3, 1), modality="ct",
             purpose="response", response="PD"),
        dict(exam_id="E4", patient_id="P2", exam_date=d(2023, 3, 4), modality="brain_mri",
             purpose="staging", response=None),
        dict(exam_id="E5", patient_id="P2", exam_date=d(2023, 3, 6), modality="fdg_pet_ct",
             purpose="staging", response=None),
        dict(exam_id="E6", patient_id="P3", exam_date=d(2025, 1, 15), modality="fdg_pet_ct",
             purpose="surveillance", response=None),
    ],
    "disease_events": [
        dict(event_id="D1", patient_id="P1", event_date=d(2025, 3, 1),
             event_type="lesion_progression", lesion_id="L2", basis="imaging", confirmed=True),
        dict(event_id="D2", patient_id="P2", event_date=d(2024, 1, 10),
             event_type="primary_progression", lesion_id=None, basis="imaging", confirmed=True),
    ],
    "radiotherapy": [
        dict(course_id="C1", phase=1, patient_id="P1", target="L1", start_date=d(2024, 2, 1),
             end_date=d(2024, 2, 1), total_dose_gy=20.0, fractions=1, technique="srs",
             intent="ablative", dose_reference="prescription"),
        dict(course_id="C2", phase=1, patient_id="P1", target="L2", start_date=d(2024, 2, 10),
             end_date=d(2024, 2, 20), total_dose_gy=30.0, fractions=5, technique="sbrt",
             intent="ablative", dose_reference="prescription"),
        dict(course_id="C3", phase=1, patient_id="P2", target="primary", start_date=d(2023, 4, 1),
             end_date=d(2023, 5, 10), total_dose_gy=60.0, fractions=30, technique="imrt",
             intent="consolidative", dose_reference="prescription"),
        dict(course_id="C3", phase=2, patient_id="P2", target="primary", start_date=d(2023, 5, 11),
             end_date=d(2023, 5, 15), total_dose_gy=10.0, fractions=5, technique="imrt",
             intent="consolidative", dose_reference="prescription"),
    ],
    "local_procedures": [
        dict(procedure_id="S1", patient_id="P3", target="L4", procedure_date=d(2025, 2, 1),
             modality="surgery", intent="ablative"),
        dict(procedure_id="S2", patient_id="P3", target="primary", procedure_date=d(2024, 6, 20),
             modality="surgery", intent="ablative"),
    ],
    "systemic_therapies": [
        dict(therapy_id="X1", patient_id="P1", drug_name="pembrolizumab", atc_code="L01FF02",
             start_date=d(2024, 1, 20), end_date=d(2024, 12, 20), line_number=1,
             stop_reason="completed", atc_code_as_delivered="L01XC18"),
        dict(therapy_id="X2", patient_id="P2", drug_name="carboplatin", atc_code="L01XA02",
             start_date=d(2023, 3, 10), end_date=d(2023, 6, 10), line_number=1,
             stop_reason="toxicity", atc_code_as_delivered="L01XA02"),
        dict(therapy_id="X3", patient_id="P3", drug_name="osimertinib", atc_code="L01EB04",
             start_date=d(2025, 2, 15), end_date=None, line_number=1, stop_reason=None,
             atc_code_as_delivered="L01XE35"),
    ],
    "toxicities": [
        dict(toxicity_id="TX1", patient_id="P1", course_id="C1", onset_date=d(2024, 3, 1),
             ctcae_term="Headache", grade=2, attribution="radiotherapy", ctcae_version="5.0"),
        dict(toxicity_id="TX2", patient_id="P2", course_id="C3", onset_date=d(2023, 5, 1),
             ctcae_term="Esophagitis", grade=5, attribution="radiotherapy", ctcae_version="5.0"),
    ],
    "mdt_decisions": [
        dict(decision_id="M1", patient_id="P1", decision_date=d(2024, 1, 15),
             all_sites_radically_treatable=True, decision="radical_local_therapy"),
        dict(decision_id="M2", patient_id="P2", decision_date=d(2023, 3, 8),
             all_sites_radically_treatable=False, decision="systemic_therapy"),
    ],
}

QUARANTINE_SCHEMA = {
    "batch_id": pl.String, "table_name": pl.String, "file": pl.String, "row_number": pl.Int64,
    "column_name": pl.String, "rule_id": pl.String, "disposition": pl.String,
    "kahn_category": pl.String, "kahn_subcategory": pl.String, "reason": pl.String,
    "record_key": pl.String,
}
# A row of an older batch: it must not count against the batch under test.
QUARANTINE = [
    dict(batch_id="b0", table_name="patients", file="patients.csv", row_number=4,
         column_name="patient_id", rule_id="duplicate_key", disposition="row_quarantine",
         kahn_category="conformance", kahn_subcategory="relational",
         reason="the key is shared by several rows", record_key="P9"),
]

MARTS: dict[str, list[dict]] = {
    "omd_episodes": [
        dict(patient_id="P1", episode_id="EP1", episode_date=d(2024, 1, 5),
             omd_state="synchronous_omd", omd_family="de_novo", n_lesions=2, n_organs=2,
             episode_number=1, parameter_set="default", is_eortc_som_nsclc=True),
        dict(patient_id="P2", episode_id="EP2", episode_date=d(2023, 3, 5),
             omd_state="synchronous_omd", omd_family="de_novo", n_lesions=1, n_organs=1,
             episode_number=1, parameter_set="default", is_eortc_som_nsclc=False),
        dict(patient_id="P3", episode_id="EP3", episode_date=d(2025, 1, 15),
             omd_state="metachronous_oligorecurrence", omd_family="de_novo", n_lesions=1,
             n_organs=1, episode_number=1, parameter_set="default", is_eortc_som_nsclc=None),
    ],
    "disease_assessments": [
        dict(patient_id="P1", assessment_id="A1", assessment_date=d(2024, 1, 5),
             assessment_kind="detection", assessment_state="oligo",
             progression_count_basis="all_active", n_lesions=2),
        dict(patient_id="P1", assessment_id="A2", assessment_date=d(2025, 3, 1),
             assessment_kind="progression", assessment_state="oligo",
             progression_count_basis="progressing", n_lesions=1),
    ],
    "cohort_attrition": [
        dict(step_order=1, step="registry_patients", remaining=3, excluded=0, reason="all"),
        dict(step_order=2, step="excluded_sclc", remaining=3, excluded=0, reason="sclc"),
        dict(step_order=3, step="nsclc", remaining=3, excluded=0, reason="nsclc"),
        dict(step_order=4, step="with_omd_episode", remaining=3, excluded=0, reason="omd"),
    ],
    "local_treatments": [
        dict(patient_id="P1", treatment_id="C1", target="L1", phase=1, start_date=d(2024, 2, 1),
             target_kind="lesion", modality="radiotherapy", fractions=1, bed10_gy=60.0),
        dict(patient_id="P3", treatment_id="S1", target="L4", phase=None,
             start_date=d(2025, 2, 1), target_kind="lesion", modality="surgery", fractions=None,
             bed10_gy=None),
    ],
    "therapy_lines": [
        dict(patient_id="P1", line_number=1, line_start_date=d(2024, 1, 20),
             line_end_date=d(2024, 12, 20)),
        dict(patient_id="P3", line_number=1, line_start_date=d(2025, 2, 15), line_end_date=None),
    ],
    "episode_cohort": [
        dict(episode_id="EP1", patient_id="P1", treatment_strategy="lct_all_sites",
             driver_status="other_driver", pdl1_category=">=50%", sex="F",
             fraction_lesions_treated=1.0, age_at_episode=69),
        dict(episode_id="EP3", patient_id="P3", treatment_strategy="lct_all_sites",
             driver_status="egfr", pdl1_category="<1%", sex="F", fraction_lesions_treated=1.0,
             age_at_episode=65),
    ],
    "episode_outcomes": [
        dict(episode_id="EP1", origin="episode", patient_id="P1", os_days=542, pfs_days=421,
             wsp_days=542, ttnt_days=542, os_event=0, pfs_event=1, wsp_event=0, ttnt_status=0),
        dict(episode_id="EP2", origin="episode", patient_id="P2", os_days=423, pfs_days=311,
             wsp_days=423, ttnt_days=423, os_event=1, pfs_event=1, wsp_event=1, ttnt_status=2),
    ],
    "lesion_outcomes": [
        dict(lesion_id="L1", patient_id="P1", therapy_start_date=d(2024, 2, 1), lf_days=500,
             lf_status=0),
    ],
    "toxicity_summary": [
        dict(course_id="C1", patient_id="P1", max_grade_acute=2, max_grade_late=None),
    ],
    "patient_followup": [
        dict(patient_id="P1", followup_days=542, followup_event=1),
        dict(patient_id="P3", followup_days=166, followup_event=1),
    ],
}


def write_tables(con: duckdb.DuckDBPyConnection, schema: str, tables: dict[str, pl.DataFrame]):
    con.execute(f'create schema if not exists "{schema}"')
    for name, frame in tables.items():
        con.register("_frame", frame.to_arrow())
        con.execute(f'create or replace table "{schema}"."{name}" as select * from _frame')
        con.unregister("_frame")


def staging_frames(rows: dict[str, list[dict]] = STAGING) -> dict[str, pl.DataFrame]:
    return {name: pl.DataFrame(r, schema=staging_schema(name)) for name, r in rows.items()}


def build_clean_warehouse(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        write_tables(con, "staging", staging_frames())
        write_tables(con, "ops", {
            "quarantine": pl.DataFrame(QUARANTINE, schema=QUARANTINE_SCHEMA),
            # the batch's cut-off, for the after-cut-off checks
            "batches": pl.DataFrame({"batch_id": [BATCH_ID], "data_cutoff_date": [d(2026, 10, 31)]}),
        })
        write_tables(con, "marts", {name: pl.DataFrame(r, infer_schema_length=None)
                                    for name, r in MARTS.items()})
    return path

"""Documentation of the treatment marts, for `COMMENT ON TABLE/COLUMN` and the dictionary.

One entry per table: its grain, a description and every column. The column lists are the
derivations' output columns (a test keeps them equal).
"""

from __future__ import annotations

MART_DOCS: dict[str, dict] = {
    "local_treatments": {
        "grain": "one row per treated target, course and phase (radiotherapy) or procedure",
        "description": (
            "Local therapy of metastases, the primary and the regional nodes with its dose "
            "(LQ model: BED = D(1 + d/(alpha/beta)), EQD2 = BED/(1 + 2/(alpha/beta)); "
            "docs/clinical-rules.md section 5). Phases of one course and target sum their BED10."
        ),
        "columns": {
            "patient_id": "registry pseudonym of the patient",
            "treatment_id": "radiotherapy course_id, or procedure_id for surgery and ablation",
            "phase": "radiotherapy phase (1, 2 for a boost, ...); null for a procedure",
            "target": "lesion_id, or primary, or regional_nodes, as delivered",
            "target_kind": "lesion, primary or regional_nodes",
            "lesion_id": "the treated lesion; null for the primary or the regional nodes",
            "organ": "organ of the target (lung for the primary, regional_lymph_node for the "
                     "regional nodes)",
            "modality": "radiotherapy, surgery or thermal_ablation (radiofrequency, microwave, "
                        "cryoablation)",
            "start_date": "first fraction of the phase, or the procedure date",
            "total_dose_gy": "physical dose of the phase, Gy",
            "fractions": "number of fractions of the phase",
            "dose_per_fraction_gy": "total_dose_gy / fractions",
            "bed10_gy": "biologically effective dose of the phase, alpha/beta 10 Gy",
            "eqd2_gy": "equivalent dose in 2-Gy fractions of the phase, alpha/beta 10 Gy",
            "bed3_gy": "biologically effective dose of the phase, alpha/beta 3 Gy (late effects)",
            "course_bed10_gy": "BED10 of all phases of the course on this target, summed",
            "is_sbrt": "SBRT/SRS: technique sbrt or srs, or inferred",
            "is_sbrt_inferred": "technique missing but dose per fraction >= "
                                "{sbrt_min_dose_per_fraction_gy} Gy, <= {sbrt_max_fractions} "
                                "fractions and BED10 >= {sbrt_min_bed10_gy} Gy (project "
                                "convention)",
            "is_radical": "radical local therapy: radiotherapy intent ablative or "
                          "consolidative, or SBRT/SRS not palliative (any phase of the course); "
                          "surgery or ablation not palliative",
            "is_lung_bed10_adequate": "course BED10 >= {lung_bed10_adequate_gy} Gy (lung SBRT adequacy); null "
                                      "unless the target is in the lung",
        },
    },
    "therapy_lines": {
        "grain": "one row per patient and line of systemic therapy",
        "description": (
            "Lines of antineoplastic therapy: as recorded when every drug period of the "
            "patient has a line number, else derived ({line_regimen_window_days}-day regimen "
            "window, new line after a gap > {line_restart_gap_days} days or for a new drug, maintenance is not a new line; "
            "docs/clinical-rules.md section 6). Bone agents and steroids make no line."
        ),
        "columns": {
            "patient_id": "registry pseudonym of the patient",
            "line_number": "1, 2, ... in order of start",
            "line_start_date": "first start of a drug of the line",
            "line_end_date": "last end of a drug of the line; null while a drug is ongoing",
            "drugs": "drug names of the line (lower case, sorted)",
            "drug_classes": "classes of the line's drugs: platinum, anti_pd1_pdl1, "
                            "other_immunotherapy, egfr_alk_inhibitor, other_targeted, "
                            "chemotherapy, other_antineoplastic",
            "has_platinum": "the line contains a platinum drug",
            "has_anti_pd1_pdl1": "the line contains an anti-PD-1 or anti-PD-L1 antibody",
            "has_egfr_alk_inhibitor": "the line contains an EGFR or ALK inhibitor",
            "is_line_derived": "true when the line was derived, false when recorded",
        },
    },
    "episode_cohort": {
        "grain": "one row per OMD episode (every episode of marts.omd_episodes)",
        "description": (
            "The wide analysis table: patient, tumour, episode and treatment columns for "
            "cohort filters and groupings in dashboards and `oligo survival`."
        ),
        "columns": {
            "patient_id": "registry pseudonym of the patient",
            "episode_id": "stable id of the episode (from patient and date)",
            "episode_date": "date of the assessment that opened the episode",
            "episode_number": "1, 2, ... per patient in date order",
            "primary_tumor_id": "the primary tumour the episode's lesions belong to",
            "sex": "F, M, X (other), U (unknown)",
            "age_at_episode": "episode year minus birth year (birth year only is known)",
            "smoking_status": "never, former, current, unknown",
            "center_id": "treating centre",
            "histology_group": "adenocarcinoma, squamous, large_cell, adenosquamous, "
                               "sarcomatoid, nsclc_nos",
            "egfr": "EGFR mutation: positive, negative, not_tested",
            "alk": "ALK rearrangement: positive, negative, not_tested",
            "driver_status": "egfr, alk, other_driver (ROS1, KRAS G12C, BRAF V600E, MET ex14, "
                             "RET), none (no positive, at least one tested), not_tested",
            "pdl1_category": "PD-L1 tumour proportion score: <1%, 1-49%, >=50%, unknown",
            "ecog_at_diagnosis": "ECOG performance status at diagnosis, 0-4",
            "diagnosis_year": "year of diagnosis of the primary",
            "stage_group": "stage group at diagnosis, as recorded",
            "omd_state": "one of the nine ESTRO/EORTC 2020 states or unclassifiable_<reason>",
            "omd_family": "de_novo, repeat, induced; null when unclassifiable",
            "is_synchronous": "synchronous OMD; null when the state is unclassifiable",
            "n_lesions": "lesions counted for the state",
            "n_organs": "organs involved by the counted lesions",
            "has_brain": "a counted lesion in the brain",
            "has_bone": "a counted lesion in bone",
            "has_liver": "a counted lesion in the liver",
            "has_adrenal": "a counted lesion in an adrenal",
            "has_lung": "a counted lesion in the lung",
            "has_distant_lymph_node": "a counted lesion in a distant lymph node",
            "has_pleura": "a counted lesion in the pleura",
            "has_other": "a counted lesion in another organ",
            "is_eortc_som_nsclc": "EORTC-LCG 2019 synchronous oligometastatic NSCLC (null "
                                  "unless synchronous)",
            "is_first_episode": "the patient's first episode (survival analyses use it by "
                                "default)",
            "all_sites_treated": "every counted lesion radically treated from "
                                 "{lct_before_days} days before to {lct_window_days} days "
                                 "after the episode date",
            "fraction_lesions_treated": "counted lesions radically treated in that window / "
                                        "counted lesions",
            "has_sbrt": "a counted lesion treated with SBRT/SRS in the window",
            "has_surgery": "a counted lesion resected in the window",
            "has_thermal_ablation": "a counted lesion ablated in the window",
            "lct_start_date": "first radical therapy of a counted lesion in the window",
            "is_primary_treated": "the primary radically treated in the window",
            "is_regional_nodes_treated": "the regional nodes radically treated in the window",
            "has_immunotherapy_after": "an immune checkpoint inhibitor running at the episode "
                                       "date or started after it",
            "line_number_at_episode": "line of systemic therapy active at the episode date "
                                      "(null when off therapy)",
            "treatment_strategy": "lct_all_sites, lct_partial, systemic_only (a line active "
                                  "at the episode or starting within {lct_window_days} days), none",
            "parameter_set": "clinical parameter set the table was built with ('default' "
                             "for the documented defaults)",
        },
    },
}

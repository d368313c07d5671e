"""Documentation of the episode marts, for `COMMENT ON TABLE/COLUMN` by the publisher.

`MART_DOCS[table]` = {"grain": ..., "description": ..., "columns": {column: description}}.
Sources of the rules: see docs/clinical-rules.md.
"""

from __future__ import annotations

_EORTC = "EORTC-LCG 2019 (Dingemans et al., J Thorac Oncol 2019;14:2109-2119)"
_ESTRO = "ESTRO/EORTC 2020 (Guckenberger et al., Lancet Oncol 2020;21:e18-e28)"

MART_DOCS: dict[str, dict] = {
    "omd_episodes": {
        "grain": "one row per NSCLC patient and oligometastatic episode",
        "description": (
            f"Oligometastatic episodes classified with the {_ESTRO} tree, with the "
            f"{_EORTC} flag on synchronous episodes. Every oligometastatic assessment is one "
            "episode; every decision input is kept as a column."
        ),
        "columns": {
            "patient_id": "registry pseudonym of the patient",
            "episode_id": "stable id: hash of patient_id and episode_date (same in every batch)",
            "episode_date": "date of the oligometastatic assessment (first event of its group)",
            "omd_state": "one of the nine ESTRO/EORTC states, or unclassifiable_<reason>",
            "omd_family": "de_novo, repeat or induced; null when unclassifiable",
            "n_lesions": "counted lesions (all active, or the progressing ones under systemic "
                         "therapy)",
            "n_organs": "organs of the counted lesions (bone, lungs, distant nodes, adrenals "
                        "each one organ; other by 4-character site code)",
            "n_stable_lesions": "lesions of the burden not progressing at this assessment",
            "organs": "organ codes of the counted lesions",
            "is_eortc_som_nsclc": "EORTC-LCG synchronous oligometastatic NSCLC; null unless "
                                  "the episode is synchronous",
            "eortc_failed_criterion": "first EORTC-LCG criterion not met (null if met or not "
                                      "synchronous)",
            "eortc_unverified_criteria": "EORTC-LCG criteria the registry data cannot verify",
            "has_prior_poly": "an earlier polymetastatic or diffuse assessment (-> induced)",
            "has_prior_omd": "an earlier oligometastatic episode (-> repeat)",
            "on_systemic_therapy": "antineoplastic therapy active at the episode date",
            "has_progression": "a new lesion or a lesion progression at this assessment",
            "months_from_diagnosis": "days from the primary's diagnosis / {days_per_month}",
            "diagnosis_date": "diagnosis date of the index primary",
            "primary_tumor_id": "the primary the metastases belong to",
            "episode_number": "1, 2, ... per patient in date order",
            "parameter_set": "clinical parameter set of the run ('default' or changed values)",
        },
    },
    "disease_assessments": {
        "grain": "one row per patient and assessment date",
        "description": (
            "Dates on which the metastatic state is judged: grouped detections and "
            "progressions, and treatment decisions; with counted lesions and the state "
            "(oligo, poly, not_omd_diffuse), including polymetastatic assessments."
        ),
        "columns": {
            "patient_id": "registry pseudonym of the patient",
            "assessment_id": "stable id: hash of patient_id and assessment_date",
            "assessment_date": "first event date of the group, or the therapy start",
            "assessment_kind": "detection, progression, detection_progression or "
                               "treatment_decision",
            "assessment_state": "oligo, poly or not_omd_diffuse",
            "n_lesions": "counted lesions",
            "n_organs": "organs of the counted lesions",
            "n_stable_lesions": "lesions of the burden not progressing at this assessment",
            "progression_count_basis": "all_active, or progressing (progression under "
                                       "systemic therapy: CURB-style oligoprogression)",
            "on_systemic_therapy": "antineoplastic therapy active at the assessment date",
            "has_progression": "a new lesion or a lesion progression in the group",
            "episode_id": "the OMD episode of an oligo assessment; null otherwise",
        },
    },
    "cohort_attrition": {
        "grain": "one row per step of the cohort flow",
        "description": (
            "The cohort flow: each step removes patients for one reason, in order, no "
            "patient twice: from every patient of the registry export, through the opt-outs "
            "removed at ingest and each population exclusion, to NSCLC, metastatic NSCLC, "
            "patients with an OMD episode, with synchronous OMD and with EORTC-LCG "
            "synchronous OMD. remaining = previous remaining - excluded."
        ),
        "columns": {
            "step_order": "order of the step (1 = every patient of the registry export)",
            "step": "step name (excluded_*, review_*, unclassifiable_*: a population "
                    "exclusion; the others: the patients kept by that step)",
            "remaining": "patients remaining after this step",
            "excluded": "patients excluded at this step (0 on the first row)",
            "reason": "why the step's patients were excluded, in words",
        },
    },
}

"""Words for the codes the warehouse stores, one place for every page.

Codes are the contract's and the marts' (docs/data-dictionary.md, docs/marts-interface.md);
the words follow the ESTRO/EORTC OMD classification (Guckenberger et al., Lancet Oncol
2020;21:e18–e28) for the nine states and the data dictionary's own meanings elsewhere. A code
without a label is shown as the code with underscores turned into spaces, never hidden; a
test checks that every code of a generated batch has a label.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

OMD_STATE_LABELS = {
    "synchronous_omd": "Synchronous oligometastatic disease",
    "metachronous_oligorecurrence": "Metachronous oligorecurrence",
    "metachronous_oligoprogression": "Metachronous oligoprogression",
    "repeat_oligorecurrence": "Repeat oligorecurrence",
    "repeat_oligoprogression": "Repeat oligoprogression",
    "repeat_oligopersistence": "Repeat oligopersistence",
    "induced_oligorecurrence": "Induced oligorecurrence",
    "induced_oligoprogression": "Induced oligoprogression",
    "induced_oligopersistence": "Induced oligopersistence",
    "unclassifiable_incomplete_record": "Unclassifiable: incomplete record",
    "unclassifiable_missing_diagnosis_date": "Unclassifiable: diagnosis date missing",
    "unclassifiable_imputed_date": "Unclassifiable: imputed date",
    "unclassifiable_de_novo_metachronous_persistence":
        "Unclassifiable: de novo metachronous persistence",
}
ORGAN_LABELS = {
    "brain": "Brain",
    "bone": "Bone",
    "liver": "Liver",
    "adrenal": "Adrenal",
    "lung": "Lung",
    "distant_lymph_node": "Distant lymph node",
    "regional_lymph_node": "Regional lymph node",
    "pleura": "Pleura",
    "other": "Other organ",
}
CODE_LABELS: dict[str, dict[str, str]] = {
    "omd_state": OMD_STATE_LABELS,
    "omd_family": {"de_novo": "De novo", "repeat": "Repeat", "induced": "Induced"},
    "sex": {"F": "Female", "M": "Male", "X": "Other", "U": "Unknown"},
    "smoking_status": {"never": "Never", "former": "Former", "current": "Current",
                       "unknown": "Unknown"},
    "histology_group": {
        "adenocarcinoma": "Adenocarcinoma", "squamous": "Squamous cell carcinoma",
        "large_cell": "Large cell carcinoma", "adenosquamous": "Adenosquamous carcinoma",
        "sarcomatoid": "Sarcomatoid carcinoma", "nsclc_nos": "NSCLC, not otherwise specified",
    },
    "driver_status": {"egfr": "EGFR mutation", "alk": "ALK rearrangement",
                      "other_driver": "Other driver", "none": "No driver found",
                      "not_tested": "Not tested"},
    "pdl1_category": {"<1%": "PD-L1 <1%", "1-49%": "PD-L1 1–49%", ">=50%": "PD-L1 ≥50%",
                      "unknown": "PD-L1 unknown"},
    "treatment_strategy": {
        "lct_all_sites": "Local therapy of all sites",
        "lct_partial": "Local therapy of some sites",
        "systemic_only": "Systemic therapy only",
        "none": "No treatment recorded",
    },
    "organ": ORGAN_LABELS,
    "modality": {"radiotherapy": "Radiotherapy", "surgery": "Surgery",
                 "thermal_ablation": "Thermal ablation"},
    "technique": {"sbrt": "SBRT", "conventional_rt": "Conventional radiotherapy",
                  "surgery": "Surgery", "thermal_ablation": "Thermal ablation"},
    "attribution": {"radiotherapy": "Radiotherapy", "systemic": "Systemic therapy",
                    "both": "Both", "unrelated": "Unrelated", "unknown": "Unknown"},
    "assessment_state": {"oligo": "Oligometastatic", "poly": "Polymetastatic",
                         "not_omd_diffuse": "Diffuse (not OMD)"},
    "assessment_kind": {"detection": "Detection", "progression": "Progression",
                        "detection_progression": "Detection and progression",
                        "treatment_decision": "Treatment decision"},
    "vital_status": {"alive": "Alive", "dead": "Dead", "unknown": "Unknown"},
}
# Columns whose codes share a vocabulary.
CODE_LABELS["organs"] = ORGAN_LABELS
# The cohort flow's steps (marts.cohort_attrition, docs/clinical-rules.md section 1): each
# box names who remains after the step.
CODE_LABELS["attrition_step"] = {
    "registry_patients": "Patients in the registry export",
    "excluded_opt_out": "Without patients who objected (opt-out)",
    "excluded_no_primary": "With a primary lung tumour recorded",
    "excluded_other_topography": "Primary in the lung (ICD-O-3 C34)",
    "excluded_not_invasive": "Primary malignant and invasive",
    "excluded_sclc": "Not small cell carcinoma",
    "excluded_lcnec_carcinoid": "Not large-cell neuroendocrine carcinoma or carcinoid",
    "excluded_other_histology": "Histology in the NSCLC code set",
    "review_8000_8010": "Not carcinoma NOS (8000, 8010), set aside for review",
    "unclassifiable_ambiguous_primary": "Primary of the metastases known",
    "nsclc": "NSCLC population",
    "metastatic_nsclc": "Metastatic NSCLC (a counted distant metastasis)",
    "with_omd_episode": "With an oligometastatic episode",
    "with_synchronous_omd": "With synchronous oligometastatic disease",
    "with_eortc_synchronous_omd": "Synchronous OMD meeting the EORTC-LCG 2019 definition",
}
BOOLEAN_COLUMN_WORDS = {
    "is_synchronous": ("Synchronous", "Metachronous"),
    "all_sites_treated": ("All sites treated", "Not all sites treated"),
    "is_eortc_som_nsclc": ("EORTC synchronous OMD: yes", "EORTC synchronous OMD: no"),
    "is_lung_bed10_adequate": ("BED10 ≥ 100 Gy", "BED10 < 100 Gy"),
    "is_first_episode": ("First episode", "Later episode"),
}
COLUMN_TITLES = {
    "omd_state": "OMD state", "omd_family": "OMD family", "sex": "Sex",
    "smoking_status": "Smoking", "histology_group": "Histology", "driver_status": "Driver",
    "pdl1_category": "PD-L1", "ecog_at_diagnosis": "ECOG at diagnosis",
    "stage_group": "Stage at diagnosis", "center_id": "Centre", "diagnosis_year":
    "Diagnosis year", "treatment_strategy": "Treatment strategy", "is_synchronous":
    "Synchronous or metachronous", "all_sites_treated": "All sites treated",
    "n_lesions": "Lesions", "n_organs": "Organs involved", "age_at_episode": "Age at episode",
    "organ": "Organ", "technique": "Technique", "bed10_adequacy": "BED10 adequacy",
    "attribution": "Attribution", "is_eortc_som_nsclc": "EORTC synchronous OMD",
    "episode_date": "Episode date", "diagnosis_date": "Diagnosis date",
}
UNKNOWN_WORD = "Unknown"


def fallback(code: str) -> str:
    text = code.replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else code


def label(column: str, code: object) -> str:
    """The words for one code of one column."""
    if code is None:
        return UNKNOWN_WORD
    if isinstance(code, bool) and column in BOOLEAN_COLUMN_WORDS:
        yes, no = BOOLEAN_COLUMN_WORDS[column]
        return yes if code else no
    text = str(code)
    return CODE_LABELS.get(column, {}).get(text, fallback(text) if column in CODE_LABELS
                                           else text)


def labels_for(column: str) -> Mapping[str, str]:
    return CODE_LABELS.get(column, {})


def label_column(expr: pl.Expr, column: str) -> pl.Expr:
    """A text column of codes as words (vectorised; unknown codes as readable text)."""
    mapping = CODE_LABELS.get(column)
    text = expr.cast(pl.String)
    if not mapping:
        return text.fill_null(UNKNOWN_WORD)
    readable = text.str.replace_all("_", " ")
    readable = readable.str.slice(0, 1).str.to_uppercase() + readable.str.slice(1)
    return text.replace_strict(mapping, default=readable, return_dtype=pl.String).fill_null(
        UNKNOWN_WORD
    )


def column_title(column: str) -> str:
    return COLUMN_TITLES.get(column, fallback(column))

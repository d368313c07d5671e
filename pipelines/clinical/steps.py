"""The three clinical steps as pure functions of their input tables, and the columns each
step reads.

Every rule of docs/clinical-rules.md looks at one patient at a time (every join is on the
patient or on a key of the patient's own rows: the registry contract refuses references to
another patient's rows), so each step can run on a partition of the patients and its
outputs are the partitions of its tables. The one aggregate, the cohort flow, is carried
as counts that add up over partitions (`attrition.attrition_table`).

The three steps run one after another on the same partition (`derive_partition`): the
staging columns all three read (`PARTITION_STAGING`) are read once, and a later step gets
the earlier steps' frames, not the tables written from them.

`*_STAGING` and `*_UPSTREAM` list the columns a step reads of each table, and each step is
handed exactly these; a rule that needs another column fails loudly with a missing column,
and `tests/clinical/test_steps.py` checks that every step runs on exactly these columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import polars as pl

from pipelines.clinical.frames import collect, materialise
from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters

Columns = dict[str, tuple[str, ...]]

EPISODE_STAGING: Columns = {
    "patients": ("patient_id", "death_date", "last_contact_date", "is_incomplete"),
    "primary_tumors": ("tumor_id", "patient_id", "diagnosis_date", "topography_code",
                       "morphology_code", "diagnosis_date_imputed"),
    "metastases": ("lesion_id", "patient_id", "tumor_id", "organ", "site_code", "laterality",
                   "site_laterality", "detected_date", "detection_modality",
                   "biopsy_confirmed", "is_diffuse", "resolved_date",
                   "detected_date_imputed"),
    "imaging": ("patient_id", "exam_date", "modality"),
    "disease_events": ("patient_id", "event_date", "event_type", "lesion_id", "confirmed"),
    "radiotherapy": ("course_id", "patient_id", "target", "start_date", "end_date",
                     "total_dose_gy", "fractions", "technique", "intent"),
    "local_procedures": ("patient_id", "target", "procedure_date", "modality", "intent"),
    "systemic_therapies": ("patient_id", "drug_name", "atc_code", "start_date", "end_date"),
    "mdt_decisions": ("patient_id", "decision_date", "all_sites_radically_treatable"),
}
TREATMENT_STAGING: Columns = {
    "patients": ("patient_id", "sex", "birth_year", "center_id", "smoking_status",
                 "death_date", "last_contact_date"),
    "primary_tumors": ("tumor_id", "patient_id", "diagnosis_date", "stage_group",
                       "ecog_at_diagnosis", "egfr", "alk", "ros1", "kras_g12c", "braf_v600e",
                       "met_ex14", "ret", "pdl1_tps_percent"),
    "metastases": ("lesion_id", "patient_id", "organ", "detected_date", "resolved_date"),
    "radiotherapy": ("course_id", "phase", "patient_id", "target", "start_date", "end_date",
                     "total_dose_gy", "fractions", "technique", "intent"),
    "local_procedures": ("procedure_id", "patient_id", "target", "procedure_date", "modality",
                         "intent"),
    "systemic_therapies": ("patient_id", "drug_name", "atc_code", "start_date", "end_date",
                           "line_number"),
}
TREATMENT_UPSTREAM: Columns = {
    "omd_episodes": ("patient_id", "episode_id", "episode_date", "omd_state", "omd_family",
                     "n_lesions", "n_organs", "is_eortc_som_nsclc", "primary_tumor_id",
                     "episode_number"),
    "episode_lesions": ("episode_id", "patient_id", "lesion_id", "organ", "is_counted"),
    "nsclc_population": ("patient_id", "histology_group"),
}
OUTCOME_STAGING: Columns = {
    "patients": ("patient_id", "death_date", "last_contact_date"),
    "metastases": ("lesion_id", "patient_id", "organ", "detected_date", "resolved_date"),
    "imaging": ("patient_id", "exam_date", "modality"),
    "disease_events": ("patient_id", "event_date", "event_type", "lesion_id", "confirmed"),
    "radiotherapy": ("course_id", "patient_id", "start_date", "end_date"),
    "toxicities": ("patient_id", "course_id", "onset_date", "ctcae_term", "grade",
                   "attribution"),
}
OUTCOME_UPSTREAM: Columns = {
    "omd_episodes": ("patient_id", "episode_id", "episode_date"),
    "episode_lesions": ("episode_id", "patient_id", "lesion_id", "is_in_detection_group"),
    "disease_assessments": ("patient_id", "assessment_date", "assessment_state"),
    "episode_lct": ("episode_id", "patient_id", "lct_start_date"),
    "therapy_lines": ("patient_id", "line_number", "line_start_date", "line_end_date"),
    "local_treatments": ("patient_id", "target_kind", "lesion_id", "organ", "start_date",
                         "course_bed10_gy", "is_radical", "is_lung_bed10_adequate"),
}


def union_columns(*steps: Columns) -> Columns:
    """Every table any of the steps reads, with every column any of them reads of it (in
    order of first mention)."""
    union: dict[str, dict[str, None]] = {}
    for step in steps:
        for table, columns in step.items():
            union.setdefault(table, {}).update(dict.fromkeys(columns))
    return {table: tuple(columns) for table, columns in union.items()}


# What a partition's derivation reads of staging: every step's columns, read once.
PARTITION_STAGING: Columns = union_columns(EPISODE_STAGING, TREATMENT_STAGING, OUTCOME_STAGING)


def only(columns: Columns, frames: dict[str, pl.LazyFrame | pl.DataFrame],
         ) -> dict[str, pl.LazyFrame]:
    """The listed tables of `frames` with exactly the listed columns (what a step reads)."""
    return {name: frames[name].lazy().select(cols) for name, cols in columns.items()}


def derive_partition(
    staging: dict[str, pl.LazyFrame], data_cutoff_date: dt.date,
    params: ClinicalParameters = DEFAULT_PARAMETERS,
) -> Iterator[dict[str, pl.DataFrame]]:
    """The three steps on one partition (staging as known at the cut-off, at least the
    columns of `PARTITION_STAGING`): yields the episode tables (with the cohort-flow counts
    under `episodes.ATTRITION_COUNTS`), then the treatment tables, then the outcome tables,
    each collected. Each step reads its listed columns of staging and of the earlier steps'
    frames: the same rows and types the earlier steps' tables hold
    (tests/pipeline/test_patient_partitions.py)."""
    from pipelines.clinical.episodes import derive_patient_episodes

    episodes = collect(derive_patient_episodes(only(EPISODE_STAGING, staging), params))
    yield episodes
    # From here on only what the later steps read is kept: the rest is freed once written.
    staging = kept(union_columns(TREATMENT_STAGING, OUTCOME_STAGING), staging)
    later = union_columns(TREATMENT_UPSTREAM, OUTCOME_UPSTREAM)
    upstream = kept({name: later[name] for name in later if name in episodes}, episodes)
    del episodes
    treatments = collect(derive_treatment_step(
        only(TREATMENT_STAGING, staging), only(TREATMENT_UPSTREAM, upstream), params))
    yield treatments
    staging = kept(OUTCOME_STAGING, staging)
    upstream = kept(OUTCOME_UPSTREAM, upstream | treatments)
    del treatments
    yield collect(derive_outcome_step(
        only(OUTCOME_STAGING, staging), only(OUTCOME_UPSTREAM, upstream), data_cutoff_date,
        params))


def kept(columns: Columns, frames: dict[str, pl.LazyFrame | pl.DataFrame],
         ) -> dict[str, pl.DataFrame]:
    """The listed tables and columns of `frames`, sharing their memory (no copy)."""
    return {name: frames[name].lazy().select(cols).collect()
            for name, cols in columns.items()}


def derive_treatment_step(
    staging: dict[str, pl.LazyFrame], episodes: dict[str, pl.LazyFrame],
    params: ClinicalParameters = DEFAULT_PARAMETERS,
) -> dict[str, pl.LazyFrame]:
    """local_treatments, therapy_lines, episode_lct, episode_cohort (clinical-rules 5, 6)."""
    from pipelines.clinical.cohort import build_episode_cohort
    from pipelines.clinical.lct import derive_episode_lct
    from pipelines.clinical.lines import derive_therapy_lines
    from pipelines.clinical.local_therapy import derive_local_treatments

    local, lines = materialise(derive_local_treatments(staging, params),
                               derive_therapy_lines(staging["systemic_therapies"], params))
    lct, = materialise(derive_episode_lct(episodes["omd_episodes"],
                                          episodes["episode_lesions"], local, params))
    cohort = build_episode_cohort(
        staging, episodes["omd_episodes"], episodes["nsclc_population"],
        episodes["episode_lesions"], lct, lines, params)
    return {"local_treatments": local, "therapy_lines": lines, "episode_lct": lct,
            "episode_cohort": cohort}


def derive_outcome_step(
    staging: dict[str, pl.LazyFrame], upstream: dict[str, pl.LazyFrame],
    data_cutoff_date: dt.date, params: ClinicalParameters = DEFAULT_PARAMETERS,
) -> dict[str, pl.LazyFrame]:
    """episode_outcomes, lesion_outcomes, toxicity_summary, patient_followup (rules 6)."""
    from pipelines.clinical.followup import derive_patient_followup
    from pipelines.clinical.outcomes import derive_episode_outcomes, derive_lesion_outcomes
    from pipelines.clinical.toxicity import derive_toxicity_summary

    u = upstream
    return {
        "episode_outcomes": derive_episode_outcomes(
            staging, u["omd_episodes"], u["episode_lesions"], u["disease_assessments"],
            u["episode_lct"], u["therapy_lines"], data_cutoff_date, params),
        "lesion_outcomes": derive_lesion_outcomes(
            staging, u["local_treatments"], data_cutoff_date, params),
        "toxicity_summary": derive_toxicity_summary(staging, data_cutoff_date, params),
        "patient_followup": derive_patient_followup(
            staging["patients"], u["omd_episodes"], data_cutoff_date),
    }

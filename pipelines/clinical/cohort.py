"""`episode_cohort`: the wide analysis table, one row per OMD episode (every episode).

Everything a cohort filter or a grouping needs: patient, tumour, episode and treatment.
Sources of each rule: docs/clinical-rules.md sections 3 (episodes), 5 (LCT), 6 (lines,
first episode per patient); IASLC/ESMO PD-L1 tumour proportion score cut-offs (< 1 %,
1-49 %, >= 50 %; Reck M et al., N Engl J Med 2016;375:1823-1833); actionable drivers as in
the ESMO metastatic NSCLC guideline (Hendriks LEL et al., Ann Oncol 2023;34:339-357).

Conventions (documented in `docs/treatments.md`):
- `age_at_episode` = episode year - birth year (the contract has the birth year only).
- `driver_status`: the first positive of EGFR, ALK, then any other driver (ROS1, KRAS G12C,
  BRAF V600E, MET exon 14, RET) → `egfr`, `alk`, `other_driver`; no positive but at least one
  marker tested → `none`; nothing tested → `not_tested`.
- organ flags (`has_brain`, ...) come from the episode's counted lesions.
- `has_immunotherapy_after`: an anti-PD-(L)1 or other immunotherapy drug running at the
  episode date or started after it.
- `treatment_strategy`: `lct_all_sites` (every counted lesion radically treated in the LCT
  window), `lct_partial` (some), `systemic_only` (no LCT, but an antineoplastic line active
  at the episode date or starting within `lct_window_days` after it), `none`.
"""

from __future__ import annotations

import polars as pl

from pipelines.clinical.drugs import with_drug_facts
from pipelines.clinical.lines import IMMUNOTHERAPY_CLASSES, line_at
from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters

EPISODE_COHORT_COLUMNS = (
    "patient_id", "episode_id", "episode_date", "episode_number", "primary_tumor_id",
    "sex", "age_at_episode", "smoking_status", "center_id",
    "histology_group", "egfr", "alk", "driver_status", "pdl1_category", "ecog_at_diagnosis",
    "diagnosis_year", "stage_group",
    "omd_state", "omd_family", "is_synchronous", "n_lesions", "n_organs", "has_brain",
    "has_bone", "has_liver", "has_adrenal", "has_lung", "has_distant_lymph_node",
    "has_pleura", "has_other", "is_eortc_som_nsclc", "is_first_episode",
    "all_sites_treated", "fraction_lesions_treated", "has_sbrt", "has_surgery",
    "has_thermal_ablation", "lct_start_date", "is_primary_treated",
    "is_regional_nodes_treated", "has_immunotherapy_after", "line_number_at_episode",
    "treatment_strategy", "parameter_set",
)
ORGAN_FLAGS = {
    "has_brain": "brain", "has_bone": "bone", "has_liver": "liver", "has_adrenal": "adrenal",
    "has_lung": "lung", "has_distant_lymph_node": "distant_lymph_node",
    "has_pleura": "pleura", "has_other": "other",
}
OTHER_DRIVERS = ("ros1", "kras_g12c", "braf_v600e", "met_ex14", "ret")
TESTED = ("positive", "negative")


def first_episode_flags(omd_episodes: pl.LazyFrame) -> pl.LazyFrame:
    """`is_first_episode`: the patient's earliest episode (survival analyses use the first
    episode per patient by default: episodes of one patient are not independent)."""
    return omd_episodes.select(
        "episode_id",
        (pl.col("episode_date") == pl.col("episode_date").min().over("patient_id"))
        .alias("is_first_episode"),
    )


def driver_status() -> pl.Expr:
    markers = ("egfr", "alk", *OTHER_DRIVERS)
    return (
        pl.when(pl.col("egfr") == "positive").then(pl.lit("egfr"))
        .when(pl.col("alk") == "positive").then(pl.lit("alk"))
        .when(pl.any_horizontal(pl.col(m) == "positive" for m in OTHER_DRIVERS).fill_null(False))
        .then(pl.lit("other_driver"))
        .when(pl.any_horizontal(pl.col(m).is_in(TESTED) for m in markers).fill_null(False))
        .then(pl.lit("none"))
        .otherwise(pl.lit("not_tested"))
        .alias("driver_status")
    )


def pdl1_category() -> pl.Expr:
    tps = pl.col("pdl1_tps_percent")
    return (
        pl.when(tps < 1).then(pl.lit("<1%"))
        .when(tps < 50).then(pl.lit("1-49%"))
        .when(tps >= 50).then(pl.lit(">=50%"))
        .otherwise(pl.lit("unknown"))
        .alias("pdl1_category")
    )


def _organ_flags(episode_lesions: pl.LazyFrame) -> pl.LazyFrame:
    counted = episode_lesions.filter(pl.col("is_counted"))
    return counted.group_by("episode_id").agg(
        (pl.col("organ") == organ).any().alias(flag) for flag, organ in ORGAN_FLAGS.items()
    )


def _immunotherapy_after(
    episodes: pl.LazyFrame, systemic_therapies: pl.LazyFrame
) -> pl.LazyFrame:
    immunotherapy = with_drug_facts(systemic_therapies).filter(
        pl.col("drug_class").is_in(IMMUNOTHERAPY_CLASSES).fill_null(False)
    ).select("patient_id", "start_date", "end_date")
    return (
        episodes.join(immunotherapy, on="patient_id")
        .filter(
            (pl.col("start_date") >= pl.col("episode_date"))
            | pl.col("end_date").is_null()
            | (pl.col("end_date") >= pl.col("episode_date"))
        )
        .group_by("episode_id")
        .agg(pl.lit(True).alias("has_immunotherapy_after"))
    )


def _systemic_in_window(
    episodes: pl.LazyFrame, therapy_lines: pl.LazyFrame, params: ClinicalParameters
) -> pl.LazyFrame:
    """Episodes with a line starting within (episode date, + lct_window_days]."""
    episode = pl.col("episode_date")
    return (
        episodes.join(therapy_lines.select("patient_id", "line_start_date"), on="patient_id")
        .filter(
            (pl.col("line_start_date") > episode)
            & (pl.col("line_start_date") <= episode + pl.duration(days=params.lct_window_days))
        )
        .group_by("episode_id")
        .agg(pl.lit(True).alias("_systemic_started"))
    )


def _treatment_strategy() -> pl.Expr:
    return (
        pl.when(pl.col("all_sites_treated").fill_null(False)).then(pl.lit("lct_all_sites"))
        .when(pl.col("n_lesions_treated") > 0).then(pl.lit("lct_partial"))
        .when(pl.col("line_number_at_episode").is_not_null()
              | pl.col("_systemic_started").fill_null(False))
        .then(pl.lit("systemic_only"))
        .otherwise(pl.lit("none"))
        .alias("treatment_strategy")
    )


def build_episode_cohort(
    staging: dict[str, pl.LazyFrame],
    omd_episodes: pl.LazyFrame,
    nsclc_population: pl.LazyFrame,
    episode_lesions: pl.LazyFrame,
    episode_lct: pl.LazyFrame,
    therapy_lines: pl.LazyFrame,
    params: ClinicalParameters = DEFAULT_PARAMETERS,
) -> pl.LazyFrame:
    """One row per episode of `omd_episodes`; every join is on a unique key, left."""
    episodes = omd_episodes.select(
        "patient_id", "episode_id", "episode_date", "episode_number", "primary_tumor_id",
        "omd_state", "omd_family", "n_lesions", "n_organs", "is_eortc_som_nsclc",
    )
    patients = staging["patients"].select(
        "patient_id", "sex", "birth_year", "smoking_status", "center_id"
    )
    tumours = staging["primary_tumors"].select(
        pl.col("tumor_id").alias("primary_tumor_id"), "egfr", "alk", *OTHER_DRIVERS,
        "pdl1_tps_percent", "ecog_at_diagnosis", "stage_group",
        pl.col("diagnosis_date").dt.year().alias("diagnosis_year"),
    )
    histology = nsclc_population.select("patient_id", "histology_group").unique("patient_id")
    lct = episode_lct.drop("patient_id")
    keyed = episodes.select("episode_id", "patient_id", "episode_date")
    state = pl.col("omd_state")
    return (
        line_at(episodes, therapy_lines, "episode_date", params, name="line_number_at_episode")
        .join(patients, on="patient_id", how="left")
        .join(tumours, on="primary_tumor_id", how="left")
        .join(histology, on="patient_id", how="left")
        .join(first_episode_flags(omd_episodes), on="episode_id", how="left")
        .join(_organ_flags(episode_lesions), on="episode_id", how="left")
        .join(lct, on="episode_id", how="left")
        .join(_immunotherapy_after(keyed, staging["systemic_therapies"]), on="episode_id",
              how="left")
        .join(_systemic_in_window(keyed, therapy_lines, params), on="episode_id", how="left")
        .with_columns(
            (pl.col("episode_date").dt.year() - pl.col("birth_year")).alias("age_at_episode"),
            driver_status(),
            pdl1_category(),
            pl.when(state.str.starts_with("unclassifiable"))
            .then(pl.lit(None, dtype=pl.Boolean))
            .otherwise(state == "synchronous_omd")
            .alias("is_synchronous"),
            *(pl.col(flag).fill_null(False) for flag in ORGAN_FLAGS),
            pl.col("has_immunotherapy_after").fill_null(False),
            pl.lit(params.parameter_set).alias("parameter_set"),
        )
        .with_columns(_treatment_strategy())
        .select(EPISODE_COHORT_COLUMNS)
    )

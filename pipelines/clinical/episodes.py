"""Oligometastatic (OMD) episodes and their ESTRO/EORTC 2020 classification; the entry point
`derive_episodes` from staging tables to the episode marts.

Sources: Guckenberger M et al., Characterisation and classification of oligometastatic
disease: an ESTRO and EORTC consensus recommendation. Lancet Oncol 2020;21:e18-e28
(doi:10.1016/S1470-2045(19)30718-1); docs/clinical-rules.md section 3. Every
oligometastatic assessment is one episode, classified in this order:
1. an earlier polymetastatic (or diffuse) assessment -> induced;
2. else an earlier OMD episode -> repeat;
3. else de-novo: episode date no later than `synchronous_months` calendar months after the
   primary's diagnosis (month-end clamped; an earlier date counts too) -> synchronous OMD;
   else metachronous;
4. off active systemic therapy -> ...oligorecurrence;
5. on it: any progression at the assessment -> ...oligoprogression, else ...oligopersistence
   (de-novo metachronous oligopersistence does not exist in the consensus: unclassifiable).
A split that depends on an imputed date is `unclassifiable_imputed_date`; a patient with a
quarantined clinical row is `unclassifiable_incomplete_record` (a dropped lesion must never
make a patient look oligometastatic).
"""

from __future__ import annotations

import polars as pl

from pipelines.clinical.assessments import (
    ASSESSMENT_COLUMNS,
    derive_assessments,
    imputed_date_bounds,
    stable_id,
)
from pipelines.clinical.attrition import attrition_counts, attrition_table
from pipelines.clinical.eortc import flag_eortc_lcg
from pipelines.clinical.frames import materialise
from pipelines.clinical.lesions import counted_lesions, lesion_progressions
from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters
from pipelines.clinical.population import (
    POPULATION_COLUMNS,
    classify_population,
)
from pipelines.clinical.radical import radical_lesion_therapy

OMD_STATES = (
    "synchronous_omd",
    "metachronous_oligorecurrence",
    "metachronous_oligoprogression",
    "repeat_oligorecurrence",
    "repeat_oligoprogression",
    "repeat_oligopersistence",
    "induced_oligorecurrence",
    "induced_oligoprogression",
    "induced_oligopersistence",
)
UNCLASSIFIABLE_STATES = (
    "unclassifiable_incomplete_record",
    "unclassifiable_missing_diagnosis_date",
    "unclassifiable_imputed_date",
    "unclassifiable_de_novo_metachronous_persistence",
    "unclassifiable_unknown_drug",
)
EPISODE_COLUMNS = (
    "patient_id", "episode_id", "episode_date", "omd_state", "omd_family", "n_lesions",
    "n_organs", "n_stable_lesions", "organs", "is_eortc_som_nsclc", "eortc_failed_criterion",
    "eortc_unverified_criteria", "has_prior_poly", "has_prior_omd", "on_systemic_therapy",
    "has_progression", "months_from_diagnosis", "diagnosis_date", "primary_tumor_id",
    "episode_number", "parameter_set",
)
EPISODE_LESION_COLUMNS = ("episode_id", "patient_id", "lesion_id", "organ", "is_counted",
                          "is_in_detection_group")
DISEASE_ASSESSMENT_COLUMNS = (*ASSESSMENT_COLUMNS, "episode_id")


def is_synchronous(episode_date: pl.Expr, diagnosis_date: pl.Expr, months: int) -> pl.Expr:
    """Episode no later than `months` calendar months after diagnosis (Polars clamps month
    ends: 31 August + 6 months = 28/29 February); an episode before diagnosis counts too."""
    return episode_date <= diagnosis_date.dt.offset_by(f"{months}mo")


def classify_episodes(
    episodes: pl.LazyFrame, params: ClinicalParameters = DEFAULT_PARAMETERS
) -> pl.LazyFrame:
    """Add omd_state and omd_family from the decision inputs: has_prior_poly, has_prior_omd,
    on_systemic_therapy, has_progression, episode_date(_low/_high), diagnosis_date(_low/_high),
    is_incomplete (the _low/_high bounds span an imputed date), and optionally
    unknown_drug_decides (an unrecognised drug row decides on_systemic_therapy)."""
    if "unknown_drug_decides" not in episodes.collect_schema().names():
        episodes = episodes.with_columns(pl.lit(False).alias("unknown_drug_decides"))
    m = params.synchronous_months
    synchronous = is_synchronous(pl.col("episode_date"), pl.col("diagnosis_date"), m)
    # The split depends on an imputed date when its extreme true values disagree.
    split_uncertain = is_synchronous(
        pl.col("episode_date_low"), pl.col("diagnosis_date_high"), m
    ) != is_synchronous(pl.col("episode_date_high"), pl.col("diagnosis_date_low"), m)
    family = (
        pl.when(pl.col("has_prior_poly")).then(pl.lit("induced"))
        .when(pl.col("has_prior_omd")).then(pl.lit("repeat"))
        .otherwise(pl.lit("de_novo"))
    )
    therapy_suffix = (
        pl.when(~pl.col("on_systemic_therapy")).then(pl.lit("_oligorecurrence"))
        .when(pl.col("has_progression")).then(pl.lit("_oligoprogression"))
        .otherwise(pl.lit("_oligopersistence"))
    )
    de_novo = pl.col("omd_family") == "de_novo"
    state = (
        pl.when(pl.col("is_incomplete").fill_null(False))
        .then(pl.lit("unclassifiable_incomplete_record"))
        .when(pl.col("unknown_drug_decides").fill_null(False))
        .then(pl.lit("unclassifiable_unknown_drug"))
        .when(de_novo & pl.col("diagnosis_date").is_null())
        .then(pl.lit("unclassifiable_missing_diagnosis_date"))
        .when(de_novo & split_uncertain)
        .then(pl.lit("unclassifiable_imputed_date"))
        .when(de_novo & synchronous)
        .then(pl.lit("synchronous_omd"))
        .when(de_novo & pl.col("on_systemic_therapy") & ~pl.col("has_progression"))
        .then(pl.lit("unclassifiable_de_novo_metachronous_persistence"))
        .when(de_novo)
        .then(pl.lit("metachronous") + therapy_suffix)
        .otherwise(pl.col("omd_family") + therapy_suffix)
    )
    return (
        episodes.with_columns(family.alias("omd_family"))
        .with_columns(state.alias("omd_state"))
        .with_columns(
            pl.when(~pl.col("omd_state").str.starts_with("unclassifiable_"))
            .then(pl.col("omd_family"))
            .alias("omd_family")
        )
    )


def episode_tumours(burden: pl.LazyFrame, primary_tumors: pl.LazyFrame) -> pl.LazyFrame:
    """Per assessment: the tumour, among those its lesions name, with the earliest diagnosis
    (docs/clinical-rules.md section 1: several NSCLC primaries whose lesions all name their
    tumour are classifiable, and the episode dates from the earliest of them)."""
    tumours = primary_tumors.select(
        "tumor_id", pl.col("diagnosis_date").alias("_dx"),
        pl.col("diagnosis_date_imputed").fill_null(False).alias("_dx_imputed"),
    )
    return (
        burden.filter(pl.col("tumor_id").is_not_null())
        .select("patient_id", "assessment_date", "tumor_id").unique()
        .join(tumours, on="tumor_id", how="inner")
        .sort("_dx", "tumor_id", nulls_last=True)
        .group_by("patient_id", "assessment_date")
        .agg(pl.col("tumor_id").first().alias("_tumor_id"), pl.col("_dx").first(),
             pl.col("_dx_imputed").first())
    )


def _episodes_from(assessments: pl.LazyFrame, population: pl.LazyFrame,
                   tumours: pl.LazyFrame, patients: pl.LazyFrame,
                   params: ClinicalParameters) -> pl.LazyFrame:
    dx_low, dx_high = imputed_date_bounds("diagnosis_date", "diagnosis_date_imputed")
    return (
        assessments.filter(pl.col("assessment_state") == "oligo")
        .join(tumours, on=["patient_id", "assessment_date"], how="left")
        .rename({"assessment_date": "episode_date", "assessment_date_low": "episode_date_low",
                 "assessment_date_high": "episode_date_high"})
        .join(population.select("patient_id", "primary_tumor_id", "diagnosis_date",
                                "diagnosis_date_imputed"), on="patient_id", how="left")
        .with_columns(
            pl.coalesce("_tumor_id", "primary_tumor_id").alias("primary_tumor_id"),
            pl.when(pl.col("_tumor_id").is_not_null()).then(pl.col("_dx"))
            .otherwise(pl.col("diagnosis_date")).alias("diagnosis_date"),
            pl.when(pl.col("_tumor_id").is_not_null()).then(pl.col("_dx_imputed"))
            .otherwise(pl.col("diagnosis_date_imputed")).alias("diagnosis_date_imputed"),
        )
        .drop("_tumor_id", "_dx", "_dx_imputed")
        .join(patients.select("patient_id", "is_incomplete"), on="patient_id", how="left")
        .with_columns(
            dx_low.alias("diagnosis_date_low"),
            dx_high.alias("diagnosis_date_high"),
            stable_id("ep", "patient_id", "episode_date").alias("episode_id"),
            ((pl.col("episode_date") - pl.col("diagnosis_date")).dt.total_days()
             / params.days_per_month).alias("months_from_diagnosis"),
            pl.col("episode_date").rank("ordinal").over("patient_id").cast(pl.Int64)
            .alias("episode_number"),
            pl.lit(params.parameter_set).alias("parameter_set"),
        )
    )


def derive_episodes(
    staging: dict[str, pl.LazyFrame], params: ClinicalParameters = DEFAULT_PARAMETERS,
    n_opted_out: int = 0,
) -> dict[str, pl.LazyFrame]:
    """Staging tables -> nsclc_population, disease_assessments, omd_episodes,
    episode_lesions, cohort_attrition (names and columns of docs/marts-interface.md).
    `n_opted_out`: patients removed at ingest because they objected (the attrition's first
    exclusion)."""
    marts = derive_patient_episodes(staging, params)
    counts = marts.pop(ATTRITION_COUNTS)
    return {**marts, "cohort_attrition": attrition_table(counts, n_opted_out)}


ATTRITION_COUNTS = "attrition_counts"


def derive_patient_episodes(
    staging: dict[str, pl.LazyFrame], params: ClinicalParameters = DEFAULT_PARAMETERS,
) -> dict[str, pl.LazyFrame]:
    """The per-patient episode marts of `derive_episodes` (every rule looks at one patient
    at a time, so a partition of the patients gives the partition of each mart) and, under
    `ATTRITION_COUNTS`, the cohort-flow counts of these patients (to be summed over
    partitions by `attrition.attrition_table`)."""
    population, = materialise(classify_population(
        staging["patients"], staging["primary_tumors"], staging["metastases"], params
    ))
    lesions, = materialise(counted_lesions(staging["metastases"], population, params))
    progressions, therapies = materialise(
        lesion_progressions(staging["disease_events"], lesions),
        radical_lesion_therapy(staging["radiotherapy"], staging["local_procedures"], params)
        .join(lesions.select("lesion_id"), on="lesion_id", how="semi"),
    )
    assessments, burden = derive_assessments(
        lesions, progressions, therapies, staging["systemic_therapies"], params
    )
    episodes, = materialise(classify_episodes(
        _episodes_from(assessments, population,
                       episode_tumours(burden, staging["primary_tumors"]),
                       staging["patients"], params),
        params,
    ))
    keys = episodes.select("patient_id", pl.col("episode_date").alias("assessment_date"),
                           "episode_id")
    # Each frame below has several readers: materialised so that each is derived once.
    episode_lesions, = materialise(
        burden.join(keys, on=["patient_id", "assessment_date"], how="inner"))
    organs = episode_lesions.filter(pl.col("is_counted")).group_by("episode_id").agg(
        pl.col("organ").unique().sort().alias("organs")
    )
    episodes, = materialise(episodes.join(organs, on="episode_id", how="left"))
    episodes, = materialise(flag_eortc_lcg(
        episodes, episode_lesions, staging["imaging"], staging["metastases"],
        staging.get("mdt_decisions", _empty_mdt()), params,
    ))
    disease_assessments = assessments.join(
        keys, on=["patient_id", "assessment_date"], how="left"
    ).select(DISEASE_ASSESSMENT_COLUMNS).sort("patient_id", "assessment_date")
    return {
        "nsclc_population": population.select(POPULATION_COLUMNS).sort("patient_id"),
        "disease_assessments": disease_assessments,
        "omd_episodes": episodes.select(EPISODE_COLUMNS).sort("patient_id", "episode_date"),
        "episode_lesions": episode_lesions.select(
            *EPISODE_LESION_COLUMNS[:-1], pl.col("is_new_in_group").alias("is_in_detection_group")
        ).sort("patient_id", "episode_id", "lesion_id"),
        ATTRITION_COUNTS: attrition_counts(population, episodes, lesions),
    }


def _empty_mdt() -> pl.LazyFrame:
    from pipelines.contract.staging import empty_staging_frame

    return empty_staging_frame("mdt_decisions").lazy()

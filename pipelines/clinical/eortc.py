"""The EORTC-LCG definition of synchronous oligometastatic NSCLC, as a flag on every
synchronous episode.

Source: Dingemans AC et al., Definition of synchronous oligometastatic non-small cell lung
cancer - a consensus report. J Thorac Oncol 2019;14:2109-2119
(doi:10.1016/j.jtho.2019.07.025); criteria and order as in docs/clinical-rules.md
section 4. The flag is true or false on every synchronous episode (null otherwise); when
false, the first failing criterion is named. Criteria the registry contract cannot verify are
listed in `eortc_unverified_criteria`; they never make the flag false. "Found at initial
staging" decided only by an imputed date (the episode's or the diagnosis's extreme true
dates disagree) is unverified too, not failed (docs/clinical-rules.md section 3).
"""

from __future__ import annotations

import polars as pl

from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters

SYNCHRONOUS = "synchronous_omd"
# (criterion name, column holding whether it is met), in the consensus' order.
CRITERIA = (
    ("nsclc", "_c_nsclc"),
    ("found_at_initial_staging", "_c_staging"),
    ("max_5_metastases", "_c_lesions"),
    ("max_3_organs", "_c_organs"),
    ("no_diffuse_serosal_disease", "_c_serosal"),
    ("fdg_pet_ct", "_c_pet"),
    ("brain_imaging", "_c_brain"),
    ("all_sites_radically_treatable", "_c_treatable"),
)


def _window(episodes: pl.LazyFrame, params: ClinicalParameters) -> pl.LazyFrame:
    return episodes.select(
        "episode_id",
        "patient_id",
        pl.col("episode_date").dt.offset_by(f"-{params.staging_imaging_before_days}d")
        .alias("_from"),
        pl.col("episode_date").dt.offset_by(f"{params.staging_imaging_after_days}d")
        .alias("_to"),
    )


def staging_imaging(
    episodes: pl.LazyFrame,
    imaging: pl.LazyFrame,
    metastases: pl.LazyFrame,
    params: ClinicalParameters = DEFAULT_PARAMETERS,
) -> pl.LazyFrame:
    """Per episode: has_fdg_pet_ct and has_brain_imaging (brain MRI; brain CT only when
    allow_brain_ct) within [episode date - 60 d, episode date + 30 d]. An exam counts from the
    imaging table or as the recorded detection modality of a lesion. An episode with neither
    kind of exam in its window has no row."""
    brain = ["brain_mri", "brain_ct"] if params.allow_brain_ct else ["brain_mri"]
    # Only these modalities decide the two flags (an episode without any of them gets null
    # flags, read as not met), so the other exams are left out before the join.
    exams = pl.concat([
        imaging.select("patient_id", pl.col("exam_date"), "modality"),
        metastases.select("patient_id", pl.col("detected_date").alias("exam_date"),
                          pl.col("detection_modality").alias("modality")),
    ]).drop_nulls().filter(pl.col("modality").is_in(["fdg_pet_ct", *brain]))
    return (
        _window(episodes, params)
        .join(exams, on="patient_id", how="inner")
        .filter(pl.col("exam_date").is_between(pl.col("_from"), pl.col("_to")))
        .group_by("episode_id")
        .agg(
            (pl.col("modality") == "fdg_pet_ct").any().alias("has_fdg_pet_ct"),
            pl.col("modality").is_in(brain).any().alias("has_brain_imaging"),
        )
    )


def mdt_treatability(
    episodes: pl.LazyFrame,
    mdt_decisions: pl.LazyFrame,
    params: ClinicalParameters = DEFAULT_PARAMETERS,
) -> pl.LazyFrame:
    """Per episode: the latest recorded MDT judgement of radical treatability of all sites
    between episode date - mdt_window_before_days (60) and + mdt_window_after_days (90)."""
    return (
        episodes.select(
            "episode_id", "patient_id",
            pl.col("episode_date").dt.offset_by(f"-{params.mdt_window_before_days}d")
            .alias("_from"),
            pl.col("episode_date").dt.offset_by(f"{params.mdt_window_after_days}d")
            .alias("_to"),
        )
        .join(mdt_decisions.drop_nulls("all_sites_radically_treatable"), on="patient_id",
              how="inner")
        .filter(pl.col("decision_date").is_between(pl.col("_from"), pl.col("_to")))
        .group_by("episode_id")
        .agg(
            pl.col("all_sites_radically_treatable").sort_by("decision_date").last()
            .alias("mdt_all_sites_radically_treatable")
        )
    )


def flag_eortc_lcg(
    episodes: pl.LazyFrame,
    episode_lesions: pl.LazyFrame,
    imaging: pl.LazyFrame,
    metastases: pl.LazyFrame,
    mdt_decisions: pl.LazyFrame,
    params: ClinicalParameters = DEFAULT_PARAMETERS,
) -> pl.LazyFrame:
    """Add is_eortc_som_nsclc, eortc_failed_criterion, eortc_unverified_criteria.

    Needs on episodes: episode_id, patient_id, episode_date, diagnosis_date, omd_state,
    n_lesions, n_organs; on episode_lesions: episode_id, lesion_id, organ, is_counted,
    is_diffuse, biopsy_confirmed."""
    synchronous = episodes.filter(pl.col("omd_state") == SYNCHRONOUS)
    names = synchronous.collect_schema().names()
    bounds = {c: c.rsplit("_", 1)[0] for c in ("episode_date_low", "episode_date_high",
                                                "diagnosis_date_low", "diagnosis_date_high")}
    synchronous = synchronous.with_columns(
        pl.col(plain).alias(c) for c, plain in bounds.items() if c not in names
    )
    window = f"{params.staging_window_after_days}d"
    lesion_facts = episode_lesions.group_by("episode_id").agg(
        pl.col("is_diffuse").any().alias("_any_diffuse"),
        pl.col("organ").filter(pl.col("is_counted")).first().alias("_first_organ"),
        pl.col("biopsy_confirmed").filter(pl.col("is_counted")).first().alias("_first_biopsy"),
    )
    checked = (
        synchronous.join(lesion_facts, on="episode_id", how="left")
        .join(staging_imaging(synchronous, imaging, metastases, params), on="episode_id",
              how="left")
        .join(mdt_treatability(synchronous, mdt_decisions, params), on="episode_id", how="left")
        .with_columns(
            pl.lit(True).alias("_c_nsclc"),  # episodes exist for the NSCLC population only
            # Met unless even the latest true diagnosis date cannot make it met; the cases an
            # imputed date decides are listed as unverified below.
            (pl.col("episode_date_low") <= pl.col("diagnosis_date_high").dt.offset_by(window))
            .fill_null(False).alias("_c_staging"),
            (
                (pl.col("episode_date_low") <= pl.col("diagnosis_date_high").dt.offset_by(window))
                & (pl.col("episode_date_high")
                   > pl.col("diagnosis_date_low").dt.offset_by(window))
            ).fill_null(False).alias("_staging_imputed"),
            pl.col("n_lesions").is_between(1, params.eortc_max_lesions).alias("_c_lesions"),
            (pl.col("n_organs") <= params.eortc_max_organs).alias("_c_organs"),
            (~pl.col("_any_diffuse").fill_null(False)).alias("_c_serosal"),
            pl.col("has_fdg_pet_ct").fill_null(False).alias("_c_pet"),
            pl.col("has_brain_imaging").fill_null(False).alias("_c_brain"),
            # Only an MDT that judged otherwise fails it; no record leaves it unverified.
            pl.col("mdt_all_sites_radically_treatable").fill_null(True).alias("_c_treatable"),
        )
    )
    failed: pl.Expr = pl.lit(None, dtype=pl.String)
    for name, column in reversed(CRITERIA):
        failed = pl.when(~pl.col(column)).then(pl.lit(name)).otherwise(failed)
    solitary = pl.col("n_lesions") == 1
    unverified = pl.concat_list(
        pl.when(pl.col("_staging_imputed"))
        .then(pl.lit(["found_at_initial_staging"])).otherwise(pl.lit([], pl.List(pl.String))),
        pl.when(pl.col("mdt_all_sites_radically_treatable").is_null())
        .then(pl.lit(["all_sites_radically_treatable"])).otherwise(pl.lit([], pl.List(pl.String))),
        pl.when(solitary & ~pl.col("_first_biopsy").fill_null(False))
        .then(pl.lit(["biopsy_of_solitary_metastasis"]))
        .otherwise(pl.lit([], pl.List(pl.String))),
        pl.when(solitary & (pl.col("_first_organ") == "liver"))
        .then(pl.lit(["liver_mri_for_solitary_liver_lesion"]))
        .otherwise(pl.lit([], pl.List(pl.String))),
        pl.when(solitary & (pl.col("_first_organ") == "pleura"))
        .then(pl.lit(["thoracoscopy_for_solitary_pleural_lesion"]))
        .otherwise(pl.lit([], pl.List(pl.String))),
    )
    flags = checked.select(
        "episode_id",
        failed.alias("eortc_failed_criterion"),
        unverified.alias("eortc_unverified_criteria"),
    ).with_columns(pl.col("eortc_failed_criterion").is_null().alias("is_eortc_som_nsclc"))
    return episodes.join(flags, on="episode_id", how="left")

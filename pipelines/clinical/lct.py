"""Local consolidative therapy (LCT) of an OMD episode.

Source: docs/clinical-rules.md section 5 (ESTRO-ASTRO 2020, Lievens et al.: all
sites treatable; EORTC-LCG 2019, Dingemans et al.: all sites radically treated). Trials such
as Gomez et al. (Lancet Oncol 2016;17:1672-1682) and SABR-COMET (Palma et al., Lancet
2019;393:2051-2058) also report local therapy of the primary and the regional nodes, so both
are flagged.

A counted lesion of the episode is *treated* when it received radical local therapy
(`local_treatments.is_radical`) starting within
[episode_date - lct_before_days, episode_date + lct_window_days], both edges included.
`all_sites_treated` means every counted lesion was treated. The LCT start is the first such
treatment of a counted lesion (metastasis-directed therapy); therapy of the primary or of
the regional nodes is reported in its own flags and does not start LCT.

Output grain: one row per episode (every episode of `omd_episodes`).
"""

from __future__ import annotations

import polars as pl

from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters

EPISODE_LCT_COLUMNS = (
    "episode_id", "patient_id", "n_counted_lesions", "n_lesions_treated",
    "all_sites_treated", "fraction_lesions_treated", "lct_modalities", "lct_start_date",
    "has_sbrt", "has_surgery", "has_thermal_ablation", "is_primary_treated",
    "is_regional_nodes_treated",
)


def in_lct_window(date_col: str, params: ClinicalParameters) -> pl.Expr:
    """The therapy date lies in [episode date - lct_before_days, + lct_window_days]."""
    episode = pl.col("episode_date")
    return pl.col(date_col).is_between(
        episode - pl.duration(days=params.lct_before_days),
        episode + pl.duration(days=params.lct_window_days),
        closed="both",
    )


def _lesion_therapy(
    episode_lesions: pl.LazyFrame,
    episodes: pl.LazyFrame,
    radical: pl.LazyFrame,
    params: ClinicalParameters,
) -> pl.LazyFrame:
    """Per episode: counted lesions, how many were treated in the window, and how."""
    counted = episode_lesions.filter(pl.col("is_counted")).select("episode_id", "lesion_id")
    treated = (
        counted.join(episodes, on="episode_id", how="inner")
        .join(
            radical.filter(pl.col("target_kind") == "lesion").drop("patient_id"),
            on="lesion_id",
            how="inner",
        )
        .filter(in_lct_window("start_date", params))
    )
    per_episode_treated = treated.group_by("episode_id").agg(
        pl.col("lesion_id").n_unique().alias("n_lesions_treated"),
        pl.col("modality").unique().sort().alias("lct_modalities"),
        pl.col("start_date").min().alias("lct_start_date"),
        pl.col("is_sbrt").any().alias("has_sbrt"),
        (pl.col("modality") == "surgery").any().alias("has_surgery"),
        (pl.col("modality") == "thermal_ablation").any().alias("has_thermal_ablation"),
    )
    n_counted = counted.group_by("episode_id").agg(
        pl.col("lesion_id").n_unique().alias("n_counted_lesions")
    )
    return n_counted.join(per_episode_treated, on="episode_id", how="left")


def _locoregional_therapy(
    episodes: pl.LazyFrame, radical: pl.LazyFrame, params: ClinicalParameters
) -> pl.LazyFrame:
    """Per episode: was the primary, were the regional nodes radically treated in the window."""
    locoregional = radical.filter(
        pl.col("target_kind").is_in(["primary", "regional_nodes"])
        | (pl.col("organ") == "regional_lymph_node")
    ).select(
        "patient_id",
        "start_date",
        (pl.col("target_kind") == "primary").alias("_primary"),
        (pl.col("target_kind") != "primary").alias("_nodes"),
    )
    return (
        episodes.join(locoregional, on="patient_id", how="inner")
        .filter(in_lct_window("start_date", params))
        .group_by("episode_id")
        .agg(
            pl.col("_primary").any().alias("is_primary_treated"),
            pl.col("_nodes").any().alias("is_regional_nodes_treated"),
        )
    )


def derive_episode_lct(
    omd_episodes: pl.LazyFrame,
    episode_lesions: pl.LazyFrame,
    local_treatments: pl.LazyFrame,
    params: ClinicalParameters = DEFAULT_PARAMETERS,
) -> pl.LazyFrame:
    """One row per episode: all_sites_treated, fraction treated, modalities, first LCT date.

    An episode without counted lesions (never expected of an oligometastatic state) gets
    null `all_sites_treated` and `fraction_lesions_treated` rather than a guess.
    """
    episodes = omd_episodes.select("episode_id", "patient_id", "episode_date")
    radical = local_treatments.filter(pl.col("is_radical")).select(
        "patient_id", "lesion_id", "target_kind", "organ", "modality", "start_date", "is_sbrt"
    )
    lesions = _lesion_therapy(episode_lesions, episodes, radical, params)
    locoregional = _locoregional_therapy(episodes, radical, params)
    n_treated = pl.col("n_lesions_treated")
    n_counted = pl.col("n_counted_lesions")
    return (
        episodes.join(lesions, on="episode_id", how="left")
        .join(locoregional, on="episode_id", how="left")
        .with_columns(
            n_counted.fill_null(0),
            n_treated.fill_null(0),
            pl.col("lct_modalities").fill_null(pl.lit([], dtype=pl.List(pl.String()))),
            *(pl.col(c).fill_null(False) for c in (
                "has_sbrt", "has_surgery", "has_thermal_ablation", "is_primary_treated",
                "is_regional_nodes_treated",
            )),
        )
        .with_columns(
            pl.when(n_counted > 0).then(n_treated == n_counted).alias("all_sites_treated"),
            pl.when(n_counted > 0)
            .then(n_treated / n_counted)
            .alias("fraction_lesions_treated"),
        )
        .select(EPISODE_LCT_COLUMNS)
    )

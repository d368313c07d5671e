"""The rows a target-trial emulation reads from a published snapshot: each patient's first
OMD episode (`marts.episode_cohort`) with its outcomes from the episode date
(`marts.episode_outcomes`, origin `episode`), through the read-only safe SQL module."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.safe_sql import QueryRefused, open_read_only
from pipelines.stats.endpoints import ANALYSIS_LIMITS

COHORT_COLUMNS = ("patient_id", "episode_id", "is_first_episode", "is_synchronous", "n_lesions",
                  "ecog_at_diagnosis", "driver_status", "has_brain", "age_at_episode",
                  "all_sites_treated", "episode_date", "lct_start_date")


def emulation_frame(episodes: pl.DataFrame, outcomes: pl.DataFrame) -> pl.DataFrame:
    """First episodes with `lct_start_days` and the PFS/OS columns (origin `episode`)."""
    return episodes.filter(pl.col("is_first_episode")).select(
        *[c for c in COHORT_COLUMNS if c not in ("episode_date", "lct_start_date")],
        lct_start_days=(pl.col("lct_start_date") - pl.col("episode_date")).dt.total_days(),
    ).join(
        outcomes.filter(pl.col("origin") == "episode").select(
            "episode_id", "pfs_days", "pfs_event", "os_days", "os_event"),
        on="episode_id", how="inner",
    )


def load_emulation_rows(database: Path) -> pl.DataFrame:
    with open_read_only(database, limits=ANALYSIS_LIMITS) as con:
        cohort = con.table("marts.episode_cohort")
        missing = [c for c in COHORT_COLUMNS if c not in cohort.columns]
        if missing:
            raise QueryRefused(f"marts.episode_cohort lacks {', '.join(missing)}: "
                               "publish with the current pipeline")
        episodes = cohort.select(*COHORT_COLUMNS).pl()
        outcomes = con.table("marts.episode_outcomes").pl()
    return emulation_frame(episodes, outcomes)

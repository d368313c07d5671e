"""Two saved cohorts side by side: Table 1 with standardised mean differences, overall
survival (Kaplan–Meier) and local failure (cumulative incidence, death competing).

The cohorts are two filters on the same batch; they may overlap (an episode matching both
is in both). The tests between them (log-rank, Gray) assume separate groups, so with an
overlap the page says so and leaves the p-values out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dashboards import data, local_control
from dashboards.cif_summary import CifSummary, summarise_cif
from dashboards.disclosure import Policy, protected_total
from dashboards.filters import apply_filters
from dashboards.smd import smd_table
from dashboards.survival_analysis import SurvivalSummary, summarise
from dashboards.table_one import CATEGORICAL, CONTINUOUS, table_one
from dashboards.table_one_display import level_words

GROUP = "saved_cohort"


@dataclass(frozen=True)
class Comparison:
    table_one: pl.DataFrame  # Characteristic, Level, <cohort A>, <cohort B>, SMD
    survival: SurvivalSummary
    local_failure: CifSummary
    overlap_label: str  # episodes in both cohorts, protected
    overlaps: bool


def _episodes(database: Path, named: dict[str, dict]) -> pl.DataFrame:
    rows = data.cohort(database)
    return pl.concat([
        apply_filters(rows, filters).with_columns(pl.lit(name).alias(GROUP)).collect()
        for name, filters in named.items()
    ])


def with_smd(table: pl.DataFrame, a: pl.DataFrame, b: pl.DataFrame) -> pl.DataFrame:
    """Table 1 plus an SMD column, on the first row of each characteristic."""
    smds = smd_table(a, b, list(CATEGORICAL), list(CONTINUOUS))
    first = table.with_row_index("_row").group_by("Characteristic").agg(pl.col("_row").min())
    return (
        table.with_row_index("_row")
        .join(first.with_columns(_first=pl.lit(True)), on=["Characteristic", "_row"], how="left")
        .join(smds, on="Characteristic", how="left")
        .with_columns(SMD=pl.when(pl.col("_first")).then(pl.col("SMD").round(2).cast(pl.String)))
        .sort("_row")
        .drop("_row", "_first")
        .with_columns(pl.col("SMD").fill_null(""))
    )


def compare(database: Path, named: dict[str, dict], policy: Policy) -> Comparison:
    """`named`: {cohort name: filter} for exactly two cohorts."""
    names = list(named)
    episodes = _episodes(database, named)
    a = episodes.filter(pl.col(GROUP) == names[0])
    b = episodes.filter(pl.col(GROUP) == names[1])
    table = with_smd(level_words(table_one(episodes.lazy(), GROUP, policy)), a, b)
    both = a.join(b.select("episode_id"), on="episode_id", how="semi")
    overlap = protected_total(both, unit="episode_id", policy=policy)

    outcomes = data.read_mart(database, "episode_outcomes").filter(pl.col("origin") == "episode")
    survival_rows = episodes.filter(pl.col("is_first_episode")).join(
        outcomes.select("episode_id", time_days=pl.col("os_days").cast(pl.Float64),
                        event=pl.col("os_event").cast(pl.Int8)),
        on="episode_id",
    )
    survival = summarise(survival_rows, group=GROUP, policy=policy, order=names)

    lesions = pl.concat([
        local_control.lesion_rows(
            data.read_mart(database, "lesion_outcomes").lazy(),
            data.read_mart(database, "local_treatments").lazy(),
            episodes.lazy().filter(pl.col(GROUP) == name).select("patient_id"),
        ).with_columns(pl.lit(name).alias(GROUP))
        for name in names
    ])
    local_failure = summarise_cif(lesions, group=GROUP, unit="lesion_id", policy=policy,
                                  order=names, event_title="Local failures")
    return Comparison(table, survival, local_failure, overlap.label, both.height > 0)

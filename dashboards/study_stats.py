"""The study view's numbers: headline counts, per-facet bar counts, the cohort flow.

Pure functions of frames (no Streamlit), every count already suppressed for display.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import polars as pl

from dashboards.filters import Facet, apply_filters, facet_counts
from dashboards.suppression import format_count, format_part_of_total, suppress_partition
from pipelines.stats import median_followup


@dataclass(frozen=True)
class Headline:
    patients: str
    episodes: str
    all_sites_treated: str
    all_sites_treated_percent: str | None
    median_followup: str  # months, or why it is not shown
    median_followup_ci: str | None
    n_patients: int  # unsuppressed, for tests and captions that never show it alone
    n_episodes: int


def headline(filtered: pl.DataFrame, followup: pl.DataFrame, threshold: int) -> Headline:
    """Patients, OMD episodes, episodes with all sites treated, and median follow-up by
    reverse Kaplan–Meier (`pipelines.stats.median_followup`, Schemper & Smith 1996) over
    the filtered patients' rows of marts.patient_followup."""
    n_episodes = filtered.height
    n_patients = filtered["patient_id"].n_unique()
    treated = int(filtered["all_sites_treated"].fill_null(False).sum())
    treated_label = format_part_of_total(treated, n_episodes, threshold)
    percent = (
        f"{100 * treated / n_episodes:.0f}% of episodes"
        if n_episodes and treated_label[0].isdigit()
        else None
    )
    patients = followup.join(filtered.select("patient_id").unique(), on="patient_id")
    followup_text = _followup_text(patients, threshold)
    return Headline(
        patients=format_count(n_patients, threshold),
        episodes=format_count(n_episodes, threshold),
        all_sites_treated=treated_label,
        all_sites_treated_percent=percent,
        median_followup=followup_text[0],
        median_followup_ci=followup_text[1],
        n_patients=n_patients,
        n_episodes=n_episodes,
    )


def _followup_text(patients: pl.DataFrame, threshold: int) -> tuple[str, str | None]:
    """('12.3 months', '95% CI 10.1–14.0'), or a reason and None."""
    if patients.height < threshold:
        return "too few patients", None
    row = median_followup(patients).row(0, named=True)
    median = row["median_followup_months"]
    if median is None or math.isnan(median):
        return "not reached", None
    lower, upper = row["median_followup_ci_lower_months"], row["median_followup_ci_upper_months"]

    def text(x: Any) -> str:
        return "NR" if x is None or math.isnan(x) else f"{x:.1f}"

    return f"{median:.1f} months", f"95% CI {text(lower)}–{text(upper)}"


def facet_bars(
    cohort: pl.LazyFrame, filters: dict[str, list[str]], facet: Facet, threshold: int
) -> pl.DataFrame:
    """Episode counts per label of `facet` under every other facet's filter (crossfilter:
    a chart shows what its own bars would add), suppressed for display.

    The organ flags are not a partition (an episode has several organs) but each flag's
    complement (episodes without it) is derivable from the total: each flag is protected
    together with its complement.
    """
    counts = facet_counts(apply_filters(cohort, filters, skip=facet.key), facet).collect()
    if not facet.is_flags:
        return suppress_partition(counts, "n", threshold)
    total = apply_filters(cohort, filters, skip=facet.key).select(pl.len()).collect().item()
    pairs = pl.concat(
        [
            counts.with_columns(side=pl.lit("with")),
            counts.with_columns(n=total - pl.col("n"), side=pl.lit("without")),
        ]
    )
    protected = suppress_partition(pairs, "n", threshold, by=["label"])
    return protected.filter(pl.col("side") == "with").drop("side")


def flow_steps(
    attrition: pl.DataFrame, filtered_patients: int | None, threshold: int
) -> pl.DataFrame:
    """marts.cohort_attrition steps (plus 'matching the current filter' when filtered):
    `step`, `n_label`, `excluded_label`.

    A step's exclusion count is the difference of two shown counts, so a small exclusion
    hides the step's own count too (and with it the next exclusion), else subtraction
    would reveal it.
    """
    steps = attrition.sort("step_order").select("step", n=pl.col("remaining").cast(pl.Int64))
    if filtered_patients is not None:
        steps = pl.concat(
            [steps, pl.DataFrame({"step": ["matching the current filter"], "n": [filtered_patients]})]
        )
    steps = steps.with_columns(excluded=pl.col("n").shift(1) - pl.col("n"))
    small = lambda c: (pl.col(c) > 0) & (pl.col(c) < threshold)  # noqa: E731
    hide_n = small("n") | small("excluded").fill_null(False)
    hide_excluded = small("excluded").fill_null(False) | hide_n.shift(1).fill_null(False)
    return steps.with_columns(
        n_label=pl.when(small("n"))
        .then(pl.lit(f"<{threshold}"))
        .when(hide_n)
        .then(pl.lit("hidden"))
        .otherwise(pl.col("n").cast(pl.String)),
        excluded_label=pl.when(pl.col("excluded").is_null())
        .then(pl.lit(None, pl.String))
        .when(small("excluded"))
        .then(pl.lit(f"<{threshold}"))
        .when(hide_excluded)
        .then(pl.lit("hidden"))
        .otherwise(pl.col("excluded").cast(pl.String)),
    ).select("step", "n_label", "excluded_label")

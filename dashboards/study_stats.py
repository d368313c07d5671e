"""The study view's numbers: headline counts, per-facet bar counts, the cohort flow.

Pure functions of frames (no Streamlit); every count comes from `dashboards.disclosure`
under the viewer's policy, so no number here is computed for display outside that layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import polars as pl

from dashboards.disclosure import (
    Policy,
    gate_groups,
    percent_text,
    protected_aggregate_counts,
    protected_counts,
    protected_flag_counts,
    protected_total,
)
from dashboards.filters import ORGAN_FLAGS, Facet, apply_filters, label_expr, sort_labels
from dashboards.labels import labels_for
from pipelines.stats import median_followup

EPISODE = "episode_id"
PATIENT = "patient_id"


@dataclass(frozen=True)
class Headline:
    patients: str
    episodes: str
    all_sites_treated: str
    all_sites_treated_percent: str | None
    median_followup: str  # months, or why it is not shown
    median_followup_ci: str | None


def headline(filtered: pl.DataFrame, followup: pl.DataFrame, policy: Policy) -> Headline:
    """Patients, OMD episodes, episodes with all sites treated, and median follow-up by
    reverse Kaplan–Meier (`pipelines.stats.median_followup`, Schemper & Smith 1996) over
    the filtered patients' rows of marts.patient_followup."""
    episodes = protected_total(filtered, unit=EPISODE, policy=policy)
    patients = protected_total(filtered, unit=PATIENT, policy=policy)
    treated = protected_total(
        filtered.filter(pl.col("all_sites_treated").fill_null(False)), unit=EPISODE, policy=policy
    )
    percent = percent_text(treated, episodes)
    followed = followup.join(filtered.select(PATIENT).unique(), on=PATIENT)
    followup_text = _followup_text(followed, policy)
    return Headline(
        patients=patients.label,
        episodes=episodes.label,
        all_sites_treated=treated.label,
        all_sites_treated_percent=f"{percent} of episodes" if percent else None,
        median_followup=followup_text[0],
        median_followup_ci=followup_text[1],
    )


def _followup_text(patients: pl.DataFrame, policy: Policy) -> tuple[str, str | None]:
    """('12.3 months', '95% CI 10.1–14.0'), or a reason and None."""
    gate = gate_groups(patients, None, unit=PATIENT, policy=policy)
    if not gate.allowed:
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
    cohort: pl.LazyFrame, filters: dict[str, list[str]], facet: Facet, policy: Policy
) -> pl.DataFrame:
    """Protected episode counts per label of `facet` under every other facet's filter
    (crossfilter: a chart shows what its own bars would add): `label`, `n` (shown value,
    null when small), `n_label`, `n_small`. Sorted by the facet's order, then by the shown
    value (never the true one), then label. Organ flags: episodes with each organ."""
    rows = apply_filters(cohort, filters, skip=facet.key)
    if facet.is_flags:
        flags = {organ: f"has_{organ}" for organ in ORGAN_FLAGS}
        return protected_flag_counts(rows, flags, unit=EPISODE, policy=policy)
    labelled = rows.with_columns(label=label_expr(facet.column, rows.collect_schema()))
    counts = protected_counts(labelled, ["label"], unit=EPISODE, policy=policy)
    rank = sort_labels(facet, pl.col("label"))
    if facet.numeric:
        return counts.sort(rank, pl.col("label").cast(pl.Float64, strict=False), pl.col("label"))
    return counts.sort(rank, pl.col("n").fill_null(0), pl.col("label"),
                       descending=[False, True, False])


def flow_steps(
    attrition: pl.DataFrame, filtered: pl.DataFrame | None, policy: Policy,
    cohort_rows: pl.DataFrame | pl.LazyFrame | None = None,
) -> pl.DataFrame:
    """marts.cohort_attrition steps (plus 'matching the current filter' when filtered):
    `step`, `n_label`, `excluded_label`.

    Step counts are protected (attrition arrives aggregated: `protected_aggregate_counts`;
    the filtered step is counted from its rows). An exclusion is the difference of the two
    shown counts, so it tells nothing they do not; when either is below the minimum cell
    size the exclusion is not shown. Steps that exclude nobody are one cell (same patients,
    same value). The step whose patients are the cohort's own (`cohort_rows`, every
    episode) is counted from their rows, so it shows the same value as the headline
    "Patients" (one cell, one value). Step codes are shown in words (dashboards/labels.py).
    """
    # Consecutive steps that exclude nobody hold the same patients: one cell, keyed on the
    # first of them, so they show one value (never 4,999 then 5,001 for the same people).
    starts_a_run = (pl.col("remaining") != pl.col("remaining").shift(1)).fill_null(True)
    ordered = attrition.sort("step_order").with_columns(
        cell=pl.col("step").first().over(starts_a_run.cum_sum()))
    cells = protected_aggregate_counts(
        ordered.select("cell", "remaining").unique("cell", maintain_order=True),
        count="remaining", identity=["cell"], policy=policy,
    )
    if cohort_rows is not None and ordered.height:
        rows = cohort_rows.collect() if isinstance(cohort_rows, pl.LazyFrame) else cohort_rows
        cohort_cells = ordered.filter(pl.col("remaining") == rows[PATIENT].n_unique())["cell"]
        if rows.height and cohort_cells.len():
            same = protected_counts(rows, [], unit=PATIENT, policy=policy).with_columns(
                cell=pl.lit(cohort_cells[-1]))
            cells = pl.concat([cells.filter(pl.col("cell") != cohort_cells[-1]),
                               same.select(cells.columns)])
    steps = ordered.select("step", "cell").join(cells, on="cell", how="left",
                                                maintain_order="left").drop("cell")
    steps = steps.with_columns(pl.col("step").replace(dict(labels_for("attrition_step"))))
    if filtered is not None:
        matching = protected_counts(filtered, [], unit=PATIENT, policy=policy).with_columns(
            step=pl.lit("matching the current filter")
        )
        steps = pl.concat([steps, matching.select(steps.columns)])
    difference = pl.col("n").shift(1) - pl.col("n")
    small = policy.small_label
    return steps.with_columns(
        excluded_label=pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit(None, pl.String))
        .when(difference.is_null())
        .then(pl.lit("not shown (a step below the minimum cell size)"))
        .when(difference <= 0)
        .then(pl.lit("0"))
        .when(difference < policy.threshold)
        .then(pl.lit(small))
        .otherwise(difference.map_elements(lambda n: f"{n:,}", return_dtype=pl.String))
    ).select("step", "n_label", "excluded_label")

"""One survival analysis as the Survival page shows it, on top of `pipelines.stats`.

Estimation is `pipelines.stats` (lifelines; shared spec `clinical-rules.md` section 7:
Kaplan–Meier with Greenwood CI, medians by R's rule, rates at 12 and 24 months, numbers at
risk, log-rank, Cox HRs, cluster-robust with several episodes per patient). This module only
decides what may be shown: groups with fewer episodes than the small-count threshold are not
estimated (a curve of three patients shows each of them), and every count shown (group n,
events, numbers at risk) goes through `dashboards.suppression`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from dashboards.suppression import suppress_partition
from pipelines.stats import (
    DAYS_PER_MONTH,
    cox_hazard_ratios,
    kaplan_meier,
    logrank_test,
    median_survival,
    numbers_at_risk,
    survival_at,
)

RATE_MONTHS = (12, 24)
GROUP = "group"


@dataclass(frozen=True)
class SurvivalSummary:
    groups: list[str]  # estimated groups, in display order
    curve: pl.DataFrame
    at_risk: pl.DataFrame  # group, at_months, n_at_risk, label
    table: pl.DataFrame  # one text row per group (all groups, small ones unestimated)
    medians: pl.DataFrame  # group, median_months, median_ci_lower_months, median_ci_upper_months
    logrank_p: float | None
    hazard_ratios: pl.DataFrame  # text: level, reference, hazard ratio (95% CI), p
    too_small: list[str]
    n_label: str  # analysed episodes, suppressed


def at_risk_months(max_months: float) -> list[int]:
    """Every 6 months up to the follow-up (every 12 beyond 6 years), at most 11 columns."""
    step = 6 if max_months <= 72 else 12
    last = int(max_months // step) * step
    return list(range(0, min(last, step * 10) + 1, step))


def _ci_text(value: float | None, lower: float | None, upper: float | None, scale: float = 1.0,
             digits: int = 1) -> str:
    def text(x: float | None) -> str:
        return "NR" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x * scale:.{digits}f}"

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not reached"
    return f"{text(value)} ({text(lower)}–{text(upper)})"


def summarise(
    frame: pl.DataFrame,
    *,
    group: str | None,
    threshold: int,
    cluster: str | None = None,
    order: list[str] | None = None,
) -> SurvivalSummary:
    """`frame`: one row per analysed episode with `time_days`, `event` (0/1) and, when
    grouped, the text column `group` names. Groups ordered by `order`, else sorted."""
    data = frame.drop_nulls(["time_days", "event"]).with_columns(
        pl.col(group).cast(pl.String).fill_null("unknown").alias(GROUP)
        if group
        else pl.lit("all").alias(GROUP)
    )
    sizes = data.group_by(GROUP).agg(
        n=pl.len().cast(pl.Int64), n_events=pl.col("event").cast(pl.Int64).sum()
    )
    sizes = suppress_partition(sizes, "n", threshold, label="n_label")
    events = (
        sizes.select(GROUP, events=pl.col("n_events"), censored=pl.col("n") - pl.col("n_events"))
        .unpivot(index=GROUP, variable_name="kind", value_name="count")
    )
    events = suppress_partition(events, "count", threshold, by=[GROUP], label="events_label")
    events = events.filter(pl.col("kind") == "events").select(GROUP, "events_label")
    sizes = sizes.join(events, on=GROUP)
    known = order or []
    all_groups = [g for g in known if g in sizes[GROUP]] + sorted(
        set(sizes[GROUP]) - set(known), key=lambda g: (g == "unknown", g)
    )
    estimable = set(sizes.filter(pl.col("n") >= threshold)[GROUP])
    groups = [g for g in all_groups if g in estimable]
    too_small = [g for g in all_groups if g not in estimable]
    analysed = data.filter(pl.col(GROUP).is_in(groups))

    curve = kaplan_meier(analysed, group=GROUP)
    medians = median_survival(curve)
    rates = survival_at(curve, [m * DAYS_PER_MONTH for m in RATE_MONTHS])
    max_months = (analysed["time_days"].max() or 0) / DAYS_PER_MONTH
    risk = numbers_at_risk(
        analysed, days=[m * DAYS_PER_MONTH for m in at_risk_months(max_months)], group=GROUP
    )
    risk = suppress_partition(risk, "n_at_risk", threshold, by=["at_days"], label="label")

    table = _results_table(sizes, medians, rates, all_groups, too_small)
    logrank_p = None
    hazard_ratios = pl.DataFrame()
    if len(groups) >= 2:
        logrank_p = logrank_test(analysed, group=GROUP)["p_value"][0]
        hazard_ratios = _hazard_ratio_text(
            cox_hazard_ratios(analysed, group=GROUP, reference=groups[0], cluster=cluster)
        )
    analysed_n = suppress_partition(
        pl.DataFrame({"n": [analysed.height, data.height - analysed.height]}), "n", threshold
    )["count_label"][0]
    return SurvivalSummary(
        groups=groups,
        curve=curve,
        at_risk=risk.rename({"group": "group"}),
        table=table,
        medians=medians,
        logrank_p=logrank_p,
        hazard_ratios=hazard_ratios,
        too_small=too_small,
        n_label=analysed_n,
    )


def _results_table(sizes, medians, rates, groups, too_small) -> pl.DataFrame:
    rows = []
    by_group = {r[GROUP]: r for r in sizes.iter_rows(named=True)}  # one row per group
    medians_by = {r["group"]: r for r in medians.iter_rows(named=True)}
    rates_by = {(r["group"], round(r["at_months"])): r for r in rates.iter_rows(named=True)}
    for group in groups:
        size = by_group[group]
        row = {"Group": group, "Episodes": size["n_label"], "Events": size["events_label"]}
        if group in too_small:
            row["Median, months (95% CI)"] = "too few to estimate"
            for months in RATE_MONTHS:
                row[f"{months}-month, % (95% CI)"] = "—"
        else:
            m = medians_by[group]
            row["Median, months (95% CI)"] = _ci_text(
                m["median_months"], m["median_ci_lower_months"], m["median_ci_upper_months"]
            )
            for months in RATE_MONTHS:
                r = rates_by.get((group, months))
                row[f"{months}-month, % (95% CI)"] = (
                    _ci_text(r["survival"], r["ci_lower"], r["ci_upper"], scale=100, digits=0)
                    if r and r["survival"] is not None
                    else "—"
                )
        rows.append(row)
    return pl.DataFrame(rows)


def _hazard_ratio_text(hrs: pl.DataFrame) -> pl.DataFrame:
    if hrs.is_empty():
        return pl.DataFrame()
    return hrs.select(
        Group="level",
        Reference="reference",
        **{
            "Hazard ratio (95% CI)": pl.when(pl.col("hazard_ratio").is_null())
            .then(pl.lit("not estimable"))
            .otherwise(
                pl.format(
                    "{} ({}–{})",
                    pl.col("hazard_ratio").round(2),
                    pl.col("ci_lower").round(2),
                    pl.col("ci_upper").round(2),
                )
            ),
            "p": pl.col("p_value").map_batches(_p_text, return_dtype=pl.String),
        },
        **{"Variance": pl.when("is_cluster_robust").then(pl.lit("cluster-robust")).otherwise(pl.lit("model"))},
        # not estimable (no events) or not converged: said in words (pipelines/stats/cox.py)
        Note=pl.col("note").fill_null(""),
    )


def _p_text(p: pl.Series) -> pl.Series:
    return pl.select(
        pl.when(p.is_null())
        .then(pl.lit("—"))
        .when(p < 0.001)
        .then(pl.lit("<0.001"))
        .otherwise(p.round(3).cast(pl.String))
    ).to_series()


def format_p(p: float | None) -> str:
    if p is None or math.isnan(p):
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3f}"

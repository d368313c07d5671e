"""One survival analysis as the Survival page shows it, on top of `pipelines.stats`.

Estimation is `pipelines.stats` (lifelines; docs/clinical-rules.md section 7:
Kaplan–Meier with Greenwood CI, medians by R's rule, rates at 12 and 24 months, numbers at
risk, log-rank, Cox HRs, cluster-robust with several episodes per patient). This module only
decides what may be shown, through `dashboards.disclosure`: in the aggregate role a group is
estimated only when the curve gate allows it (at least 20 episodes and no event count below
the minimum cell size: each step of a curve is an event), and every count shown (group n,
events, numbers at risk, episodes analysed) is a protected count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from dashboards.disclosure import (
    Policy,
    gate_groups,
    protected_at_risk,
    protected_counts,
    protected_total,
)
from dashboards.formatting import p_cell
from pipelines.stats import (
    DAYS_PER_MONTH,
    cox_hazard_ratios,
    kaplan_meier,
    logrank_test,
    median_survival,
    survival_at,
)

RATE_MONTHS = (12, 24)
GROUP = "group"
UNIT = "episode_id"


@dataclass(frozen=True)
class SurvivalSummary:
    groups: list[str]  # estimated groups, in display order
    curve: pl.DataFrame
    at_risk: pl.DataFrame  # group, at_days, at_months, n (shown), label
    table: pl.DataFrame  # one text row per group (all groups, small ones unestimated)
    medians: pl.DataFrame  # group, median_months, median_ci_lower_months, median_ci_upper_months
    logrank_p: float | None
    hazard_ratios: pl.DataFrame  # text: level, reference, hazard ratio (95% CI), p
    too_small: dict[str, str]  # group → why no curve (never a count)
    n_label: str  # analysed episodes, protected
    rows_before_protection: int = 0  # episodes behind the view (for the audit log only)


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
    policy: Policy,
    cluster: str | None = None,
    order: list[str] | None = None,
) -> SurvivalSummary:
    """`frame`: one row per analysed episode with `episode_id`, `time_days`, `event` (0/1)
    and, when grouped, the text column `group` names. Groups ordered by `order`, else
    sorted."""
    data = frame.drop_nulls(["time_days", "event"]).with_columns(
        pl.col(group).cast(pl.String).fill_null("unknown").alias(GROUP)
        if group
        else pl.lit("all").alias(GROUP)
    )
    gate = gate_groups(data, GROUP, unit=UNIT, policy=policy, event="event", order=order)
    sizes = protected_counts(data, [GROUP], unit=UNIT, policy=policy)
    events = protected_counts(
        data.filter(pl.col("event") == 1), [GROUP], unit=UNIT, policy=policy, name="events"
    )
    sizes = sizes.join(events, on=GROUP, how="left").with_columns(
        events_label=pl.col("events_label").fill_null("0")
    )
    groups = gate.allowed
    all_groups = [*gate.allowed, *gate.refused]
    all_groups = [g for g in (order or []) if g in all_groups] + sorted(
        set(all_groups) - set(order or []), key=lambda g: (g == "unknown", g)
    )
    analysed = data.filter(pl.col(GROUP).is_in(groups))

    curve = kaplan_meier(analysed, group=GROUP)
    medians = median_survival(curve)
    rates = survival_at(curve, [m * DAYS_PER_MONTH for m in RATE_MONTHS])
    max_months = (analysed["time_days"].max() or 0) / DAYS_PER_MONTH
    risk = protected_at_risk(
        analysed, time="time_days", at=[m * DAYS_PER_MONTH for m in at_risk_months(max_months)],
        by=[GROUP], unit=UNIT, policy=policy,
    ).select(
        GROUP, at_days="at", at_months=pl.col("at") / DAYS_PER_MONTH, n="n", label="n_label"
    )

    table = _results_table(sizes, medians, rates, all_groups, gate.refused)
    logrank_p = None
    hazard_ratios = pl.DataFrame()
    if len(groups) >= 2:
        logrank_p = logrank_test(analysed, group=GROUP)["p_value"][0]
        hazard_ratios = _hazard_ratio_text(
            cox_hazard_ratios(analysed, group=GROUP, reference=groups[0], cluster=cluster)
        )
    return SurvivalSummary(
        groups=groups,
        curve=curve,
        at_risk=risk,
        table=table,
        medians=medians,
        logrank_p=logrank_p,
        hazard_ratios=hazard_ratios,
        too_small=dict(gate.refused),
        n_label=protected_total(analysed, unit=UNIT, policy=policy).label,
        rows_before_protection=data.height,
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
            row["Median, months (95% CI)"] = f"not shown: {too_small[group]}"
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
    return pl.Series([p_cell(x) for x in p.to_list()], dtype=pl.String)  # a few groups


def format_p(p: float | None) -> str:
    return p_cell(p)

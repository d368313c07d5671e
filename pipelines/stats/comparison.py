"""Comparing survival between groups: the log-rank test and Cox hazard ratios.

Both are lifelines (`multivariate_logrank_test`, `CoxPHFitter` with Efron ties, like R's
`survdiff` and `coxph`), returned as tidy Polars frames. docs/clinical-rules.md
section 7: one hazard ratio per level against a stated reference; with several episodes
per patient, the cluster-robust (sandwich) variance, as R `coxph(..., cluster = id)`
(Lin & Wei, JASA 1989;84:1074–1078).
"""

from __future__ import annotations

import numpy as np
import polars as pl
from lifelines import CoxPHFitter
from lifelines.statistics import multivariate_logrank_test
from scipy.stats import norm

from pipelines.stats.kaplan_meier import _collect


def _labelled(frame: pl.DataFrame, group: str) -> pl.Series:
    return frame[group].cast(pl.String).fill_null("missing")


def logrank_test(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    group: str,
    time: str = "time_days",
    event: str = "event",
) -> pl.DataFrame:
    """Log-rank test of equal survival across the levels of `group` (R `survdiff`, rho = 0).

    One row: `n_groups`, `chisq`, `df`, `p_value` (null with fewer than two groups).
    """
    data = _collect(frame).drop_nulls([time, event])
    labels = _labelled(data, group)
    n_groups = labels.n_unique()
    if n_groups < 2:
        return pl.DataFrame(
            {"n_groups": [n_groups], "chisq": [None], "df": [None], "p_value": [None]},
            schema={"n_groups": pl.Int64, "chisq": pl.Float64, "df": pl.Int64, "p_value": pl.Float64},
        )
    result = multivariate_logrank_test(
        data[time].to_numpy(), labels.to_numpy(), data[event].cast(pl.Int8).to_numpy()
    )
    return pl.DataFrame(
        {
            "n_groups": [n_groups],
            "chisq": [float(result.test_statistic)],
            "df": [int(result.degrees_of_freedom)],
            "p_value": [float(result.p_value)],
        }
    )


HR_SCHEMA = {
    "level": pl.String,
    "reference": pl.String,
    "n": pl.Int64,
    "n_events": pl.Int64,
    "hazard_ratio": pl.Float64,
    "ci_lower": pl.Float64,
    "ci_upper": pl.Float64,
    "p_value": pl.Float64,
    "is_cluster_robust": pl.Boolean,
}


def cox_hazard_ratios(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    group: str,
    reference: str | None = None,
    time: str = "time_days",
    event: str = "event",
    cluster: str | None = None,
    alpha: float = 0.05,
) -> pl.DataFrame:
    """Hazard ratio with its (1 - alpha) Wald CI for each level of `group` against `reference`.

    `reference` is compared as text (booleans are 'false'/'true'); by default the first level
    in sort order, and it is always stated in the output. With `cluster` (e.g. `patient_id`)
    the variance is the cluster-robust sandwich. One row per non-reference level
    (`HR_SCHEMA`); levels without events get null estimates rather than a failed fit.
    """
    data = _collect(frame).drop_nulls([time, event])
    labels = _labelled(data, group)
    levels = sorted(labels.unique().to_list())
    if reference is None:
        reference = levels[0] if levels else ""
    if reference not in levels:
        raise ValueError(f"reference level {reference!r} is not among {levels}")
    others = [level for level in levels if level != reference]
    if not others:
        return pl.DataFrame(schema=HR_SCHEMA)
    design = pl.DataFrame(
        {"__time": data[time].cast(pl.Float64), "__event": data[event].cast(pl.Int8)}
    ).with_columns(
        (labels == level).cast(pl.Int8).alias(f"__level_{i}") for i, level in enumerate(others)
    )
    if cluster is not None:
        design = design.with_columns(__cluster=data[cluster])
    counts = (
        pl.DataFrame({"level": labels, "event": data[event].cast(pl.Int64)})
        .group_by("level")
        .agg(n=pl.len().cast(pl.Int64), n_events=pl.col("event").sum())
    )
    estimable = [
        i
        for i, level in enumerate(others)
        if counts.filter(pl.col("level") == level)["n_events"].item() > 0
    ]
    estimates: dict[str, tuple[float, float, float, float]] = {}
    if estimable and counts["n_events"].sum() > 0:
        columns = ["__time", "__event"] + [f"__level_{i}" for i in estimable]
        if cluster is not None:
            columns.append("__cluster")
        fitter = CoxPHFitter().fit(
            design.select(columns).to_pandas(),
            duration_col="__time",
            event_col="__event",
            cluster_col="__cluster" if cluster is not None else None,
        )
        z = norm.ppf(1 - alpha / 2)
        summary = fitter.summary
        for i in estimable:
            coef = float(summary.loc[f"__level_{i}", "coef"])
            se = float(summary.loc[f"__level_{i}", "se(coef)"])
            with np.errstate(over="ignore"):  # a near-empty level can give an infinite limit
                estimates[others[i]] = (
                    float(np.exp(coef)),
                    float(np.exp(coef - z * se)),
                    float(np.exp(coef + z * se)),
                    float(summary.loc[f"__level_{i}", "p"]),
                )
    rows = [
        {
            "level": level,
            "reference": reference,
            "hazard_ratio": estimates.get(level, (None,) * 4)[0],
            "ci_lower": estimates.get(level, (None,) * 4)[1],
            "ci_upper": estimates.get(level, (None,) * 4)[2],
            "p_value": estimates.get(level, (None,) * 4)[3],
            "is_cluster_robust": cluster is not None,
        }
        for level in others
    ]
    return (
        pl.DataFrame(rows)
        .join(counts, on="level", how="left")
        .select(list(HR_SCHEMA))
        .cast(HR_SCHEMA)
    )

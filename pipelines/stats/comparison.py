"""Comparing survival between groups: the log-rank test and Cox hazard ratios.

The log-rank test is lifelines' `multivariate_logrank_test` (R `survdiff`); its stratified
form is computed here; the Cox fit is `pipelines.stats.cox` (Efron ties, like R `coxph`).
docs/clinical-rules.md section 7: one hazard ratio per level against a stated reference; with several episodes
per patient, the cluster-robust (sandwich) variance, as R `coxph(..., cluster = id)`
(Lin & Wei, JASA 1989;84:1074–1078).
"""

from __future__ import annotations

import numpy as np
import polars as pl
from lifelines.statistics import multivariate_logrank_test
from scipy.stats import chi2

from pipelines.stats.cox import fit_cox
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
    "is_estimable": pl.Boolean,
    "note": pl.String,
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
    (`HR_SCHEMA`). A level without events, or every level when the reference has none, is
    not estimable (null estimates, `is_estimable` false, the reason in `note`); a fit that
    did not converge says so in `note` (see `pipelines.stats.cox`).
    """
    data = _collect(frame).drop_nulls([time, event])
    labels = _labelled(data, group)
    levels = sorted(labels.unique().to_list())
    if reference is None:
        reference = levels[0] if levels else ""
    if reference not in levels:
        raise ValueError(f"reference level {reference!r} is not among {levels}")
    if len(levels) < 2:
        return pl.DataFrame(schema=HR_SCHEMA)
    prepared = data.with_columns(labels.alias("__group"), pl.col(event).cast(pl.Int64))
    counts = prepared.group_by(pl.col("__group").alias("level")).agg(
        n=pl.len().cast(pl.Int64), n_events=pl.col(event).sum().cast(pl.Int64))
    if prepared[event].sum() == 0:
        table = pl.DataFrame({"level": [lv for lv in levels if lv != reference]}).with_columns(
            reference=pl.lit(reference), is_estimable=pl.lit(False),
            note=pl.lit("no events: not estimable"))
    else:
        fit = fit_cox(prepared, covariates=["__group"], time=time, event=event,
                      references={"__group": reference}, cluster=cluster, alpha=alpha)
        zero = set(counts.filter(pl.col("n_events") == 0)["level"].to_list())
        fit_note = "; ".join(n for n in fit.notes if "converge" in n or "warning" in n) or None
        table = fit.terms.select(
            "level", "reference", "hazard_ratio", "ci_lower", "ci_upper", "p_value",
            "is_estimable",
        ).with_columns(
            note=pl.when(pl.col("reference").is_in(list(zero)))
            .then(pl.lit(f"reference level {reference!r} has no events: not estimable; "
                         "choose another reference"))
            .when(pl.col("level").is_in(list(zero)))
            .then(pl.lit("no events in this level: not estimable"))
            .otherwise(pl.lit(fit_note, pl.String))
        )
    table = table.with_columns(is_cluster_robust=pl.lit(cluster is not None)).join(
        counts, on="level", how="left")
    missing = {c: dtype for c, dtype in HR_SCHEMA.items() if c not in table.columns}
    return table.with_columns(pl.lit(None, d).alias(c) for c, d in missing.items()).select(
        list(HR_SCHEMA)).cast(HR_SCHEMA)


def stratified_logrank_test(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    group: str,
    strata: str,
    time: str = "time_days",
    event: str = "event",
) -> pl.DataFrame:
    """Log-rank test within strata, summed over them (R `survdiff(... + strata(s))`).

    Per stratum and distinct time: observed and expected events per group and the
    hypergeometric covariance; the statistic is (O − E)' V⁻ (O − E) on all groups but one,
    with (groups − 1) degrees of freedom. Same one-row frame as `logrank_test`.
    """
    data = _collect(frame).drop_nulls([time, event, strata])
    labels = _labelled(data, group)
    levels = sorted(labels.unique().to_list())
    k = len(levels)
    if k < 2:
        return logrank_test(data, group=group, time=time, event=event)
    g = np.searchsorted(levels, labels.to_numpy())
    t = data[time].cast(pl.Float64).to_numpy()
    e = data[event].cast(pl.Int64).to_numpy()
    s = data[strata].cast(pl.String).fill_null("missing").to_numpy()
    o_minus_e = np.zeros(k)
    variance = np.zeros((k, k))
    for stratum in np.unique(s):  # a handful of strata, each vectorised
        rows = s == stratum
        times, inverse = np.unique(t[rows], return_inverse=True)
        events = np.zeros((times.size, k))
        entries = np.zeros((times.size, k))
        np.add.at(events, (inverse, g[rows]), e[rows])
        np.add.at(entries, (inverse, g[rows]), 1)
        at_risk = np.cumsum(entries[::-1], axis=0)[::-1]  # time >= t, per group
        n = at_risk.sum(axis=1)
        d = events.sum(axis=1)
        share = at_risk / n[:, None]
        o_minus_e += (events - d[:, None] * share).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(n > 1, d * (n - d) / (n - 1), 0.0)
        variance += np.einsum("t,tk,kl->kl", factor, share, np.eye(k)) - np.einsum(
            "t,tk,tl->kl", factor, share, share)
    chisq = float(o_minus_e[1:] @ np.linalg.solve(variance[1:, 1:], o_minus_e[1:]))
    return pl.DataFrame({"n_groups": [k], "chisq": [chisq], "df": [k - 1],
                         "p_value": [float(chi2.sf(chisq, k - 1))]})

"""Kaplan–Meier curves, medians, landmark rates and numbers at risk as tidy Polars frames.

Estimation is lifelines' `KaplanMeierFitter` (its event table and survival function); on
top of it, two small functions lifelines lacks (docs/clinical-rules.md section 7):

- the pointwise confidence interval from the Greenwood variance with a selectable transform:
  `log-log` (the default; identical to lifelines' own interval) or `log` (R
  `survival::survfit`'s default, `conf.type="log"`; upper limit capped at 1). Source:
  Therneau T, A Package for Survival Analysis in R, `survfit` documentation;
  Kalbfleisch & Prentice, The Statistical Analysis of Failure Time Data, 2nd ed., s. 1.3.
- the median and its confidence interval by R's rule, as `print(survfit(...))` reports it
  (`survival:::survmean`, survival 3.5): the first time the curve falls to 0.5 or below;
  where it is exactly 0.5 and falls lower later, the midpoint between that time and the
  next drop; the CI limits apply the same rule to the lower and upper confidence curves
  (Brookmeyer & Crowley, Biometrics 1982;38:29–41). (`quantile.survfit` differs only when
  the curve ends exactly at 0.5: it then takes the midpoint with the last follow-up time.)

Times are in days; months = days / `days_per_month` (30.4375) are added for display.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import polars as pl
from lifelines import KaplanMeierFitter
from lifelines.exceptions import StatisticalWarning
from scipy.stats import norm

from pipelines.clinical.parameters import DEFAULT_PARAMETERS

CiTransform = Literal["log-log", "log"]
CI_TRANSFORMS: tuple[str, ...] = ("log-log", "log")
DAYS_PER_MONTH = DEFAULT_PARAMETERS.days_per_month
_R_TOLERANCE = float(np.sqrt(np.finfo(float).eps))  # R: sqrt(.Machine$double.eps)

CURVE_SCHEMA = {
    "group": pl.String,
    "time_days": pl.Float64,
    "n_at_risk": pl.Int64,
    "n_events": pl.Int64,
    "n_censored": pl.Int64,
    "survival": pl.Float64,
    "std_err_log": pl.Float64,
    "ci_lower": pl.Float64,
    "ci_upper": pl.Float64,
}


def _collect(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


def _groups(frame: pl.DataFrame, group: str | None) -> list[tuple[str, pl.DataFrame]]:
    """Split by `group` (as text, nulls labelled 'missing'); one pseudo-group 'all' without."""
    if group is None:
        return [("all", frame)]
    labelled = frame.with_columns(
        pl.col(group).cast(pl.String).fill_null("missing").alias("__group")
    )
    return [
        (str(key[0]), part.drop("__group"))
        for key, part in labelled.sort("__group").group_by("__group", maintain_order=True)
    ]


def confidence_limits(
    survival: np.ndarray, std_err_log: np.ndarray, ci: CiTransform, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise CI of S(t) from the standard error of log S(t) (Greenwood).

    `log`: exp(log S ± z·se), upper capped at 1 (R survfit conf.type="log").
    `log-log`: exp(-exp(log(-log S) ± z·se/log S)) (R conf.type="log-log", lifelines).
    Undefined (NaN) where S = 0; at S = 1 (before the first event) the interval is (1, 1).
    """
    if ci not in CI_TRANSFORMS:
        raise ValueError(f"unknown CI transform {ci!r}; choose one of {CI_TRANSFORMS}")
    z = norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s = np.where(survival > 0, survival, np.nan)
        if ci == "log":
            lower = np.exp(np.log(s) - z * std_err_log)
            upper = np.minimum(np.exp(np.log(s) + z * std_err_log), 1.0)
        else:
            log_s = np.log(s)
            lower = np.exp(-np.exp(np.log(-log_s) - z * std_err_log / log_s))
            upper = np.exp(-np.exp(np.log(-log_s) + z * std_err_log / log_s))
        at_one = survival >= 1.0
        lower = np.where(at_one, 1.0, lower)
        upper = np.where(at_one, 1.0, upper)
    return lower, upper


def _curve_one(part: pl.DataFrame, time: str, event: str, ci: CiTransform, alpha: float,
               weights: str | None = None):
    with warnings.catch_warnings():
        # lifelines warns that a weighted curve's Greenwood interval is approximate: the
        # point estimate is what a weighted comparison reports (docs/statistics.md)
        warnings.simplefilter("ignore", StatisticalWarning)
        fitter = KaplanMeierFitter().fit(
            part[time].to_numpy(), part[event].cast(pl.Int8).to_numpy(),
            weights=part[weights].cast(pl.Float64).to_numpy() if weights else None,
        )
    table = fitter.event_table
    at_risk = table["at_risk"].to_numpy()
    deaths = table["observed"].to_numpy()
    survival = fitter.survival_function_.iloc[:, 0].to_numpy()
    # Greenwood: Var(log S) = sum d / (n (n - d)); infinite once everyone at risk has died.
    with np.errstate(divide="ignore", invalid="ignore"):
        increments = np.where(deaths > 0, deaths / (at_risk * (at_risk - deaths)), 0.0)
    std_err_log = np.sqrt(np.cumsum(increments))
    lower, upper = confidence_limits(survival, std_err_log, ci, alpha)
    counts = float if weights else np.int64  # weighted counts are sums of weights
    return pl.DataFrame(
        {
            "time_days": table.index.to_numpy().astype(float),
            "n_at_risk": at_risk.astype(counts),
            "n_events": deaths.astype(counts),
            "n_censored": table["censored"].to_numpy().astype(counts),
            "survival": survival,
            "std_err_log": np.where(np.isfinite(std_err_log), std_err_log, np.nan),
            "ci_lower": lower,
            "ci_upper": upper,
        }
    )


def kaplan_meier(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    time: str = "time_days",
    event: str = "event",
    group: str | None = None,
    ci: CiTransform = "log-log",
    alpha: float = 0.05,
    weights: str | None = None,
) -> pl.DataFrame:
    """The Kaplan–Meier curve per group: one row per group and distinct time (with a row at
    time 0), columns `CURVE_SCHEMA` plus `time_months`. `event` is 1/true for the event.

    With `weights` (a column of case weights, e.g. inverse-probability weights) the curve is
    the weighted Kaplan–Meier (R `survfit(..., weights=)`); the count columns are then sums
    of weights (Float64), and the Greenwood interval uses them as R's does."""
    data = _collect(frame).drop_nulls([time, event])
    schema = CURVE_SCHEMA | ({c: pl.Float64 for c in ("n_at_risk", "n_events", "n_censored")}
                             if weights else {})
    parts = [
        _curve_one(part, time, event, ci, alpha, weights).with_columns(group=pl.lit(label))
        for label, part in _groups(data, group)
        if part.height > 0
    ]
    curve = pl.concat(parts) if parts else pl.DataFrame(schema=schema)
    return curve.select(list(schema)).cast(schema).with_columns(
        time_months=pl.col("time_days") / DAYS_PER_MONTH
    )


def _r_median_time(times: np.ndarray, curve: np.ndarray) -> float:
    """R's printed median of a step curve (`survival:::survmean`, inner `minmin`).

    The first time the curve is at or below 0.5; if it is exactly 0.5 there (within R's
    tolerance) and falls lower later, the midpoint between that time and the first time it
    does. NaN values of the curve (CI limits where S = 0) are ignored; NaN if never reached.
    """
    keep = ~np.isnan(curve) & (curve < 0.5 + _R_TOLERANCE)
    if not keep.any():
        return float("nan")
    x, y = times[keep], curve[keep]
    later_lower = np.flatnonzero(y < y[0])
    if abs(y[0] - 0.5) < _R_TOLERANCE and later_lower.size:
        return float((x[0] + x[later_lower[0]]) / 2)
    return float(x[0])


def median_survival(curve: pl.DataFrame) -> pl.DataFrame:
    """Median survival with its CI per group, by R's rule (what `print(survfit(...))` shows).

    Takes the output of `kaplan_meier`; the CI transform is the curve's. One row per group:
    `group`, `n`, `n_events`, `median_days`, `median_ci_lower_days`,
    `median_ci_upper_days` and the same in months. Null where not reached.
    """
    rows = []
    for (label,), part in curve.sort("group", "time_days").group_by("group", maintain_order=True):
        # the time-0 row only when it has events (R keeps day-0 deaths in the curve)
        body = part.filter((pl.col("time_days") > 0) | (pl.col("n_events") > 0))
        times = body["time_days"].to_numpy()

        def q(column: str, times=times, body=body) -> float:
            return _r_median_time(times, body[column].to_numpy())

        rows.append(
            {
                "group": label,
                "n": round(part["n_at_risk"].max()),
                "n_events": round(part["n_events"].sum()),
                "median_days": q("survival"),
                "median_ci_lower_days": q("ci_lower"),
                "median_ci_upper_days": q("ci_upper"),
            }
        )
    days = ["median_days", "median_ci_lower_days", "median_ci_upper_days"]
    return (
        pl.DataFrame(
            rows,
            schema={"group": pl.String, "n": pl.Int64, "n_events": pl.Int64}
            | dict.fromkeys(days, pl.Float64),
        )
        .with_columns(pl.col(days).fill_nan(None))
        .with_columns(
            (pl.col(c) / DAYS_PER_MONTH).alias(c.replace("_days", "_months")) for c in days
        )
    )


def survival_at(curve: pl.DataFrame, days: Sequence[float]) -> pl.DataFrame:
    """S(t) with its CI at the given times (e.g. 12 and 24 months = 365.25 and 730.5 days).

    The step function's value at the last time ≤ t; null when t is beyond the group's last
    follow-up time (R `summary(fit, times=)` does not extrapolate either).
    """
    targets = pl.DataFrame({"at_days": [float(d) for d in days]})
    per_group = curve.select("group").unique().join(targets, how="cross")
    last = curve.group_by("group").agg(last_time=pl.col("time_days").max())
    return (
        per_group.sort("at_days")
        .join_asof(
            curve.sort("time_days").select(
                "group", "time_days", "survival", "ci_lower", "ci_upper"
            ),
            left_on="at_days",
            right_on="time_days",
            by="group",
            strategy="backward",
            check_sortedness=False,  # sorted by time within each group just above
        )
        .join(last, on="group")
        .with_columns(
            pl.when(pl.col("at_days") <= pl.col("last_time"))
            .then(pl.col(c))
            .otherwise(None)
            .alias(c)
            for c in ("survival", "ci_lower", "ci_upper")
        )
        .select(
            "group",
            "at_days",
            at_months=pl.col("at_days") / DAYS_PER_MONTH,
            survival="survival",
            ci_lower="ci_lower",
            ci_upper="ci_upper",
        )
        .sort("group", "at_days")
    )


def numbers_at_risk(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    days: Sequence[float],
    time: str = "time_days",
    group: str | None = None,
) -> pl.DataFrame:
    """Patients still at risk (time ≥ t) per group at each time t (R's `n.risk` at times)."""
    data = _collect(frame).drop_nulls([time])
    labelled = data.with_columns(
        group=pl.col(group).cast(pl.String).fill_null("missing") if group else pl.lit("all")
    )
    targets = pl.DataFrame({"at_days": [float(d) for d in days]})
    return (
        labelled.select("group", time)
        .join(targets, how="cross")
        .group_by("group", "at_days")
        .agg(n_at_risk=(pl.col(time) >= pl.col("at_days")).sum().cast(pl.Int64))
        .with_columns(at_months=pl.col("at_days") / DAYS_PER_MONTH)
        .select("group", "at_days", "at_months", "n_at_risk")
        .sort("group", "at_days")
    )

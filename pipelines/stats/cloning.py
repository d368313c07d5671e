"""Clone, censor, weight: two treatment strategies with a grace period, from registry rows.

Target-trial emulation (Hernán MA, Robins JM, Am J Epidemiol 2016;183:758–764; Maringe C
et al., Int J Epidemiol 2020;49:1719–1729). At time zero a patient is usually compatible
with both strategies ("local therapy of all sites within the grace period" and "no local
therapy"), so classifying patients by what they received later would create immortal time.
Instead every eligible patient is cloned into both arms:

- the *LCT* clone follows its strategy when local therapy of all sites starts within the
  grace period; one still at risk at its end without it is censored there (deviation);
- the *no-LCT* clone is censored on the day any radical local therapy starts;
- an event before a deviation counts in the clone's arm (in both arms, within the grace
  period, for a patient not yet treated).

The artificial censoring depends on prognosis (fitter patients are treated), so the
uncensored clones are weighted by the inverse of their probability of remaining uncensored
given the baseline covariates (IPCW), stabilised by the same probability without them:
- LCT arm: one censoring time (the end of the grace period): a logistic model of "all sites
  treated by then" among the clones at risk there; the weight applies from then on;
- no-LCT arm: a pooled logistic model of starting local therapy in each `interval_days`
  interval (interval indicators + covariates); the weight of a row in interval k is the
  inverse of the product over earlier intervals.

Output: counting-process rows (`start`, `stop`] per clone and interval with `weight`,
analysed by a weighted Kaplan–Meier with delayed entry, and a weighted Cox model with the
variance clustered by patient (the two clones of a patient are not independent).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import (
    ConvergenceWarning,
    PerfectSeparationError,
    PerfectSeparationWarning,
)

from pipelines.stats.design import build_design

ARMS = ("lct", "no_lct")


@dataclass
class ClonedData:
    rows: pl.DataFrame  # clone_id, patient_id, arm, start, stop, event, weight
    clones: pl.DataFrame  # one row per clone: patient_id, arm, event (0/1), deviated
    n_patients: int
    per_arm: pl.DataFrame  # arm, n_clones, n_events, n_censored_deviation, weight_mean, weight_max
    covariates: list[str]
    n_dropped_incomplete: int


def _logit_probability(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Fitted P(y = 1 | x) with an intercept; the marginal share when x has no columns or
    the model cannot be fitted (stated by the caller through the weight summary)."""
    if x.size:
        x = x[:, x.std(axis=0) > 0]  # constant columns (one interval only) are the intercept
    design = sm.add_constant(x, has_constant="add") if x.size else np.ones((y.size, 1))
    if y.min() == y.max():
        return np.full(y.size, float(y.mean()))
    try:
        with warnings.catch_warnings():
            # a covariate pattern without deviations makes its coefficient large; the fitted
            # probabilities are still usable (and bounded by the weight summary printed)
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", PerfectSeparationWarning)
            return np.asarray(sm.Logit(y, design).fit(disp=0, maxiter=100).predict(design))
    except (np.linalg.LinAlgError, ValueError, PerfectSeparationError):
        return np.full(y.size, float(y.mean()))


def _lct_arm(base: pl.DataFrame, x: np.ndarray, grace: float) -> pl.DataFrame:
    """LCT clones: censored at the grace end without LCT; weighted from there on."""
    treated_by_grace = base["lct_days"].is_not_null() & (base["lct_days"] <= grace)
    at_risk_at_grace = base["time_days"] > grace
    at_risk = at_risk_at_grace.to_numpy()
    follows = treated_by_grace.to_numpy()
    weight_after = np.ones(base.height)
    if at_risk.any():
        y = follows[at_risk].astype(float)
        p = _logit_probability(x[at_risk], y)
        stabiliser = y.mean()
        weight_after[np.flatnonzero(at_risk)] = np.where(y == 1, stabiliser / p, 0.0)
    frame = base.with_columns(
        follows=pl.Series(follows), at_risk_at_grace=pl.Series(at_risk),
        weight_after=pl.Series(weight_after),
    )
    # rows: (0, min(time, grace)] with weight 1; then (grace, time] for those who follow
    before = frame.select(
        "patient_id", start=pl.lit(0.0),
        stop=pl.min_horizontal(pl.col("time_days"), pl.lit(float(grace))),
        event=pl.when(pl.col("time_days") <= grace).then(pl.col("event")).otherwise(0),
        weight=pl.lit(1.0), deviated=pl.col("at_risk_at_grace") & ~pl.col("follows"),
    )
    after = frame.filter(pl.col("at_risk_at_grace") & pl.col("follows")).select(
        "patient_id", start=pl.lit(float(grace)), stop=pl.col("time_days"), event="event",
        weight="weight_after", deviated=pl.lit(False),
    )
    return pl.concat([before, after]).with_columns(arm=pl.lit("lct"))


def _no_lct_arm(base: pl.DataFrame, x: np.ndarray, interval: float) -> pl.DataFrame:
    """No-LCT clones: censored at the first local therapy; pooled-logistic IPCW."""
    deviation = base["any_lct_days"].fill_null(np.inf).to_numpy().astype(float)
    time = base["time_days"].to_numpy().astype(float)
    end = np.minimum(time, np.maximum(deviation, 0.0))
    deviated = deviation < time
    event = np.where(deviated, 0, base["event"].to_numpy())
    # split into intervals only while deviations happen; one row after the last of them
    # (the weight stays constant from there on)
    last_deviation = float(deviation[deviated].max()) if deviated.any() else 0.0
    horizon = max(int(np.floor(last_deviation / interval)) + 1, 1)
    n_intervals = np.minimum(np.ceil(np.maximum(end, 1e-9) / interval).astype(int), horizon + 1)
    clone = np.repeat(np.arange(base.height), n_intervals)
    k = np.arange(clone.size) - np.repeat(np.cumsum(n_intervals) - n_intervals, n_intervals)
    start = k * interval
    last = k == n_intervals[clone] - 1
    stop = np.where(last, end[clone], (k + 1) * interval)
    starts_lct = last & deviated[clone]  # the interval in which local therapy starts
    modelled = k < horizon  # the tail row after the last deviation has no censoring model
    # pooled logistic model of starting LCT per interval: a quadratic in time (interval
    # indicators would separate where no one starts) + covariates; stabilised by time alone
    scaled = k[modelled] / horizon
    time_terms = np.column_stack([scaled, scaled ** 2])
    y = starts_lct[modelled].astype(float)
    p_full = np.zeros(clone.size)
    p_marginal = np.zeros(clone.size)
    p_full[modelled] = _logit_probability(np.column_stack([time_terms, x[clone[modelled]]]), y)
    p_marginal[modelled] = _logit_probability(time_terms, y)
    # survival of censoring up to the start of each interval (product over earlier ones)
    cum_full = _cumulative_before(np.log1p(-np.clip(p_full, 0, 1 - 1e-12)), clone)
    cum_marginal = _cumulative_before(np.log1p(-np.clip(p_marginal, 0, 1 - 1e-12)), clone)
    weight = np.exp(cum_marginal - cum_full)
    return pl.DataFrame({
        "patient_id": base["patient_id"].to_numpy()[clone],
        "start": start.astype(float), "stop": stop.astype(float),
        "event": np.where(last, event[clone], 0).astype(np.int64),
        "weight": weight,
        "deviated": starts_lct,
        "arm": "no_lct",
    }).filter(pl.col("stop") > pl.col("start"))


def _cumulative_before(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Per row, the sum of `values` over the earlier rows of its group (rows grouped, in order)."""
    total = np.cumsum(values)
    first = np.r_[True, group[1:] != group[:-1]]
    group_start_total = np.maximum.accumulate(np.where(first, np.arange(values.size), 0))
    return total - values - (total[group_start_total] - values[group_start_total])


def clone_censor_weight(
    frame: pl.DataFrame,
    *,
    grace_days: float,
    covariates: Sequence[str],
    interval_days: float = 30.0,
) -> ClonedData:
    """Frame: one row per eligible patient, times from time zero: `patient_id`, `time_days`,
    `event`, `lct_days` (start of local therapy of all sites; ≤ 0 already at time zero;
    null never), `any_lct_days` (first radical local therapy of any site; null never), and
    the `covariates` of the censoring models (complete cases)."""
    design = build_design(frame, list(covariates),
                          required=["patient_id", "time_days", "event"])
    base = design.data.with_columns(
        pl.col("time_days").cast(pl.Float64), pl.col("event").cast(pl.Int64),
        pl.col("lct_days").cast(pl.Float64).clip(lower_bound=0.0),
        pl.col("any_lct_days").cast(pl.Float64),
    )
    x = design.matrix
    every_row = pl.concat([_lct_arm(base, x, grace_days), _no_lct_arm(base, x, interval_days)],
                          how="diagonal_relaxed")
    rows = every_row.filter(pl.col("weight") > 0).with_columns(
        clone_id=pl.col("patient_id").cast(pl.String) + "-" + pl.col("arm"))
    clones = every_row.group_by("patient_id", "arm").agg(
        event=(pl.col("event").sum() > 0).cast(pl.Int64), deviated=pl.col("deviated").any())
    per_arm = rows.group_by("arm").agg(
        n_clones=pl.col("patient_id").n_unique(),
        n_events=pl.col("event").sum(),
        weight_mean=pl.col("weight").mean(),
        weight_max=pl.col("weight").max(),
    ).join(clones.group_by("arm").agg(n_censored_deviation=pl.col("deviated").sum()),
           on="arm").sort("arm")
    return ClonedData(rows.select("clone_id", "patient_id", "arm", "start", "stop", "event",
                                  "weight"), clones, base.height, per_arm, list(covariates),
                      design.n_dropped)

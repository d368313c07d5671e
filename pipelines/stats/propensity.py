"""Propensity scores, inverse-probability weights, 1:1 caliper matching, and balance.

- The propensity score is the fitted probability of treatment from a logistic model of the
  chosen baseline covariates (statsmodels `Logit`, unpenalised, as R `glm(family=binomial)`).
- Weights (Austin PC, Stuart EA, Stat Med 2015;34:3661–3679): ATE, stabilised:
  p/e for the treated and (1 − p)/(1 − e) for the untreated, p the proportion treated;
  ATT: 1 for the treated, e/(1 − e) for the untreated. Trimming (Crump RK et al.,
  Biometrika 2009;96:187–199) leaves out the rows with e outside [trim, 1 − trim] and states
  how many.
- Matching: 1:1 without replacement on the logit of the score, within a caliper of
  0.2 standard deviations of the logit (Austin PC, Pharm Stat 2011;10:150–161); the pairs
  minimise the total distance (scipy's `linear_sum_assignment`, R MatchIt's "optimal"),
  and treated rows without a partner inside the caliper are left out and counted.
- Balance: standardised mean differences of each design column, before and after, with the
  denominator of the unadjusted sample (pooled SD), so the two columns are comparable;
  |SMD| < 0.1 is the usual target.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import polars as pl
import statsmodels.api as sm
from scipy.optimize import linear_sum_assignment
from statsmodels.tools.sm_exceptions import (
    ConvergenceWarning,
    PerfectSeparationError,
    PerfectSeparationWarning,
)

from pipelines.stats.design import build_design

Method = Literal["iptw", "iptw-att", "match"]
METHODS: tuple[str, ...] = ("iptw", "iptw-att", "match")
DEFAULT_CALIPER_SD = 0.2
MAX_MATCHING_CELLS = 25_000_000  # treated x untreated distances held in memory

BALANCE_SCHEMA = {
    "term": pl.String,
    "mean_treated_before": pl.Float64,
    "mean_untreated_before": pl.Float64,
    "smd_before": pl.Float64,
    "mean_treated_after": pl.Float64,
    "mean_untreated_after": pl.Float64,
    "smd_after": pl.Float64,
}


@dataclass
class Adjusted:
    """The analysed rows with `propensity`, `weight` (and `pair_id` when matched)."""

    data: pl.DataFrame
    method: str
    covariates: list[str]
    balance: pl.DataFrame
    n_input: int
    n_dropped_incomplete: int
    n_trimmed: int = 0
    n_unmatched: int = 0
    notes: list[str] = field(default_factory=list)


def propensity_scores(x: np.ndarray, treated: np.ndarray) -> tuple[np.ndarray, bool]:
    """Fitted P(treated | x) from an unpenalised logistic model with an intercept, and
    whether the fit converged (a covariate level that predicts treatment perfectly does not)."""
    design = sm.add_constant(x, has_constant="add")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = sm.Logit(treated, design).fit(disp=0, maxiter=200)
    except (PerfectSeparationError, np.linalg.LinAlgError) as exc:
        raise ValueError(f"the propensity model cannot be fitted ({exc}); "
                         "drop a covariate that predicts treatment perfectly") from exc
    converged = bool(model.mle_retvals.get("converged", True)) and not any(
        issubclass(w.category, ConvergenceWarning | PerfectSeparationWarning) for w in caught)
    return np.asarray(model.predict(design)), converged


def iptw_weights(treated: np.ndarray, score: np.ndarray, estimand: str) -> np.ndarray:
    if estimand == "ate":
        share = treated.mean()
        return np.where(treated == 1, share / score, (1 - share) / (1 - score))
    if estimand == "att":
        return np.where(treated == 1, 1.0, score / (1 - score))
    raise ValueError(f"unknown estimand {estimand!r}")


def caliper_pairs(treated: np.ndarray, logit: np.ndarray, caliper: float) -> np.ndarray:
    """Pair id per row (−1 unmatched): 1:1 optimal matching on `logit` within `caliper`."""
    t_rows, c_rows = np.flatnonzero(treated == 1), np.flatnonzero(treated == 0)
    if t_rows.size * c_rows.size > MAX_MATCHING_CELLS:
        raise ValueError(f"{t_rows.size} treated x {c_rows.size} untreated rows are too many to "
                         "match in memory; use --weights iptw")
    distance = np.abs(logit[t_rows][:, None] - logit[c_rows][None, :])
    # pairs beyond the caliper cost more than any admissible set, then are dropped
    cost = np.where(distance <= caliper, distance, 1e6 + distance)
    ti, ci = linear_sum_assignment(cost)
    inside = distance[ti, ci] <= caliper
    pairs = np.full(treated.size, -1, dtype=np.int64)
    pairs[t_rows[ti[inside]]] = np.arange(inside.sum())
    pairs[c_rows[ci[inside]]] = np.arange(inside.sum())
    return pairs


def _weighted_mean(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return (w[:, None] * x).sum(axis=0) / w.sum()


def balance_table(x: np.ndarray, names: Sequence[str], treated: np.ndarray,
                  weight_after: np.ndarray) -> pl.DataFrame:
    """SMD per column, before (unweighted) and after (`weight_after`; 0 leaves a row out)."""
    t, c = treated == 1, treated == 0
    m1, m0 = x[t].mean(axis=0), x[c].mean(axis=0)
    sd = np.sqrt((x[t].var(axis=0, ddof=1) + x[c].var(axis=0, ddof=1)) / 2)
    a1 = _weighted_mean(x[t], weight_after[t])
    a0 = _weighted_mean(x[c], weight_after[c])
    with np.errstate(divide="ignore", invalid="ignore"):
        before = np.where(sd > 0, (m1 - m0) / sd, 0.0)
        after = np.where(sd > 0, (a1 - a0) / sd, 0.0)
    return pl.DataFrame(
        {"term": list(names), "mean_treated_before": m1, "mean_untreated_before": m0,
         "smd_before": before, "mean_treated_after": a1, "mean_untreated_after": a0,
         "smd_after": after},
        schema=BALANCE_SCHEMA,
    )


def adjust(
    frame: pl.DataFrame,
    *,
    treatment: str,
    covariates: Sequence[str],
    method: Method = "iptw",
    required: Sequence[str] = (),
    trim: float = 0.0,
    caliper_sd: float = DEFAULT_CALIPER_SD,
) -> Adjusted:
    """Propensity-score weights or matched pairs for the 0/1 (or boolean) `treatment`."""
    if method not in METHODS:
        raise ValueError(f"unknown weighting {method!r}; choose one of {', '.join(METHODS)}")
    if not covariates:
        raise ValueError("--weights needs --covariates COL[,COL...] for the propensity model")
    if not 0 <= trim < 0.5:
        raise ValueError("trimming must be in [0, 0.5)")
    design = build_design(frame, covariates, required=[treatment, *required])
    data = design.data
    treated = data[treatment].cast(pl.Int64).to_numpy()
    if set(np.unique(treated)) - {0, 1} or len(np.unique(treated)) < 2:
        raise ValueError(f"{treatment!r} must have two levels (0/1 or false/true) among the "
                         "complete cases")
    score, converged = propensity_scores(design.matrix, treated)
    keep = (score >= trim) & (score <= 1 - trim) if trim > 0 else np.ones(score.size, bool)
    n_trimmed = int((~keep).sum())
    x, treated, score = design.matrix[keep], treated[keep], score[keep]
    data = data.filter(pl.Series(keep))
    notes = [] if converged else [
        "the propensity model did not converge (a covariate level nearly predicts treatment): "
        "check the balance table and the largest weights"]
    n_unmatched = 0
    if method == "match":
        logit = np.log(score / (1 - score))
        caliper = caliper_sd * float(np.std(logit, ddof=1))
        pairs = caliper_pairs(treated, logit, caliper)
        n_unmatched = int(((pairs < 0) & (treated == 1)).sum())
        weight = (pairs >= 0).astype(float)
        data = data.with_columns(pair_id=pl.Series(pairs))
        notes.append(f"1:1 matching within {caliper_sd:g} SD of the logit propensity "
                     f"({caliper:.3f}): {int((pairs >= 0).sum() // 2)} pairs, "
                     f"{n_unmatched} treated without a partner")
    else:
        weight = iptw_weights(treated, score, "ate" if method == "iptw" else "att")
    balance = balance_table(x, design.names, treated, weight)
    data = data.with_columns(propensity=pl.Series(score), weight=pl.Series(weight))
    if method == "match":
        data = data.filter(pl.col("pair_id") >= 0)
    if n_trimmed:
        notes.append(f"{n_trimmed} rows with a propensity outside [{trim:g}, {1 - trim:g}] "
                     "left out (trimming)")
    return Adjusted(data, method, list(covariates), balance, frame.height, design.n_dropped,
                    n_trimmed, n_unmatched, notes)

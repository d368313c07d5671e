"""Test of proportional hazards on scaled Schoenfeld residuals, as R `survival::cox.zph`.

R's `cox.zph` (survival ≥ 3.0; Therneau T, Grambsch P, Modeling Survival Data, Springer
2000, s. 6.2) is a score test, at the fitted coefficients, of adding the time interaction
x·g(t) for each term, where g is the time transform (`km`, the default: 1 − the
left-continuous Kaplan–Meier of all rows, centred on its mean over the events). lifelines'
`proportional_hazard_test` is the older approximation, which gives other values, so the
test is computed here on lifelines' (or statsmodels') coefficients:

    U = sum over events of g(t) (x − x̄(t)),   I = sum over events of [1, g; g, g²] ⊗ V(t),

with x̄ and V the weighted mean and covariance of x over the risk set (Efron: over the
partially reduced risk sets of tied deaths). A term's statistic is u' I⁻¹ u with u = (0, U
of its columns) on the rows and columns of (all coefficients, its interactions); the global
statistic uses every interaction. One row per term and a GLOBAL row.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.stats import chi2

from pipelines.stats.cox import CoxFit

PH_SCHEMA = {"term": pl.String, "chisq": pl.Float64, "df": pl.Int64, "p_value": pl.Float64}


def _km_transform(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """1 − S(t−) at each row's time (S the unweighted Kaplan–Meier of all rows)."""
    times, inverse = np.unique(time, return_inverse=True)
    deaths = np.bincount(inverse, weights=event, minlength=times.size)
    at_risk = np.cumsum(np.bincount(inverse, minlength=times.size)[::-1])[::-1]
    survival = np.cumprod(1 - deaths / at_risk)
    before = np.concatenate([[1.0], survival[:-1]])  # S just before each distinct time
    return 1 - before[inverse]


def _event_sums(time, event, x, risk, weight, efron: bool):
    """Per death slot (one per death; Efron's fraction k/d for the k-th of d tied deaths):
    the time, the death-weighted score contribution (p) and the information (p x p)."""
    order = np.argsort(time, kind="stable")
    time, event, x, risk, weight = time[order], event[order], x[order], risk[order], weight[order]
    times, first, inverse = np.unique(time, return_index=True, return_inverse=True)
    xx = x[:, :, None] * x[:, None, :]
    # risk-set sums at each distinct time: rows with time >= t (reverse cumulative sums)
    r0 = np.cumsum(risk[::-1])[::-1][first]
    r1 = np.cumsum((risk[:, None] * x)[::-1], axis=0)[::-1][first]
    r2 = np.cumsum((risk[:, None, None] * xx)[::-1], axis=0)[::-1][first]
    dead = event == 1
    k_times = times.size
    d = np.bincount(inverse[dead], minlength=k_times)
    dw = np.bincount(inverse[dead], weights=weight[dead], minlength=k_times)
    d0 = np.bincount(inverse[dead], weights=risk[dead], minlength=k_times)
    d1 = np.stack([np.bincount(inverse[dead], weights=(risk * x[:, j])[dead], minlength=k_times)
                   for j in range(x.shape[1])], axis=1)
    d2 = np.zeros_like(r2)
    np.add.at(d2, inverse[dead], (risk[:, None, None] * xx)[dead])
    sx = np.zeros_like(r1)
    np.add.at(sx, inverse[dead], (weight[:, None] * x)[dead])
    has = d > 0
    slot_time = np.repeat(np.flatnonzero(has), d[has])  # distinct-time index of each slot
    if efron:
        starts = np.cumsum(d[has]) - d[has]
        k = np.arange(slot_time.size) - np.repeat(starts, d[has])
        frac = k / d[slot_time]
    else:
        frac = np.zeros(slot_time.size)
    s0 = r0[slot_time] - frac * d0[slot_time]
    s1 = r1[slot_time] - frac[:, None] * d1[slot_time]
    s2 = r2[slot_time] - frac[:, None, None] * d2[slot_time]
    mean = s1 / s0[:, None]
    cov = s2 / s0[:, None, None] - mean[:, :, None] * mean[:, None, :]
    mean_weight = (dw / np.maximum(d, 1))[slot_time]  # R: tied deaths share their mean weight
    # score per slot: the slot's share of the deaths' x minus its risk-set mean
    score = sx[slot_time] / d[slot_time][:, None] - mean_weight[:, None] * mean
    info = mean_weight[:, None, None] * cov
    return times[slot_time], score, info


def ph_test(fit: CoxFit, transform: str = "km") -> pl.DataFrame:
    """R `cox.zph(fit)` table: `term`, `chisq`, `df`, `p_value` (terms, then GLOBAL)."""
    if fit.design is None or fit.beta is None:
        raise ValueError("the Cox model has no fitted coefficients to test")
    if transform not in ("km", "identity", "rank", "log"):
        raise ValueError(f"unknown time transform {transform!r}")
    data = fit.design.data
    x = fit.design.matrix
    time = data[fit.time].cast(pl.Float64).to_numpy()
    event = data[fit.event].cast(pl.Int64).to_numpy()
    weight = (data[fit.weights].cast(pl.Float64).to_numpy() if fit.weights
              else np.ones(time.size))
    ttimes = {
        "km": lambda: _km_transform(time, event),
        "identity": lambda: time,
        "log": lambda: np.log(time),
        "rank": lambda: pl.Series(time).rank("average").to_numpy(),
    }[transform]()
    gtime_by_row = ttimes - ttimes[event == 1].mean()
    p = x.shape[1]
    eta = x @ fit.beta
    risk = weight * np.exp(eta - eta.max())  # a common factor cancels in every ratio
    strata = (data.select(fit.strata).with_columns(pl.all().cast(pl.String))
              .select(pl.concat_str(pl.all(), separator="|")).to_series().to_numpy()
              if fit.strata else np.zeros(time.size, dtype=int))
    u = np.zeros(p)
    info = np.zeros((2 * p, 2 * p))
    efron = fit.ties == "efron"
    for stratum in np.unique(strata):  # a handful of strata, each vectorised
        rows = strata == stratum
        slot_times, score, slot_info = _event_sums(time[rows], event[rows], x[rows], risk[rows],
                                                   weight[rows], efron)
        # g at a death slot: the transform at that time (the same for tied deaths)
        distinct, index = np.unique(time[rows], return_index=True)
        g = gtime_by_row[rows][index][np.searchsorted(distinct, slot_times)]
        u += (g[:, None] * score).sum(axis=0)
        base = slot_info.sum(axis=0)
        info[:p, :p] += base
        info[:p, p:] += (g[:, None, None] * slot_info).sum(axis=0)
        info[p:, :p] += (g[:, None, None] * slot_info).sum(axis=0)
        info[p:, p:] += ((g ** 2)[:, None, None] * slot_info).sum(axis=0)
    rows_out = []
    columns = list(dict.fromkeys(t.column for t in fit.design.terms))
    for column in columns:
        jj = [i for i, t in enumerate(fit.design.terms) if t.column == column]
        kk = list(range(p)) + [j + p for j in jj]
        vector = np.concatenate([np.zeros(p), u[jj]])
        stat = float(np.linalg.solve(info[np.ix_(kk, kk)], vector) @ vector)
        rows_out.append((column, stat, len(jj), float(chi2.sf(stat, len(jj)))))
    vector = np.concatenate([np.zeros(p), u])
    stat = float(np.linalg.solve(info, vector) @ vector)
    rows_out.append(("GLOBAL", stat, p, float(chi2.sf(stat, p))))
    return pl.DataFrame(rows_out, schema=PH_SCHEMA, orient="row")

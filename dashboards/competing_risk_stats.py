"""Confidence limits of a cumulative incidence curve and Gray's K-sample test, vectorised
over the distinct event times (no loop over rows or times).

- Variance of the Aalen–Johansen cumulative incidence: the delta-method estimator of
  Gray's `cmprsk::cuminc` (the "Aalen" type; Marubini & Valsecchi 1995, ch. 10), with the
  tie correction 1 − (d − 1)/(n − 1). Limits on the log(−log) scale, as `tidycmprsk` and
  Stata's `stcompet` print them: F^exp(±z·se/(F·log F)).
- Gray's test (Gray RJ. A class of K-sample tests for comparing the cumulative incidence
  of a competing risk. Ann Stat 1988;16:1141–1154), rho = 0: scores compare each group's
  subdistribution hazard with the pooled one on subdistribution risk sets
  R_k(t) = Y_k(t)(1 − F_k(t−))/S_k(t−); the variance is Gray's, accumulated over the
  event times of both causes; chi-square with K − 1 degrees of freedom.

The survival page's curves themselves come from `pipelines.stats.cumulative_incidence`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import stats as scipy_stats

Z95 = 1.959963984540054


def _tie_factor(d: np.ndarray, n: np.ndarray) -> np.ndarray:
    """1 − (d − 1)/(n − 1) where d > 1, else 1 (the hypergeometric tie correction)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d > 1, 1 - (d - 1) / (n - 1), 1.0)


def cif_variance(n_at_risk, n_events, n_competing) -> tuple[np.ndarray, np.ndarray]:
    """(cumulative incidence, variance) at each distinct time of one group, in time order.

    Inputs per distinct time: number at risk just before, events of the cause, competing
    events. The variance holds its value between the cause's event times (as cuminc's).
    """
    n = np.asarray(n_at_risk, dtype=float)
    d1 = np.asarray(n_events, dtype=float)
    d2 = np.asarray(n_competing, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(n > 0, 1 - (d1 + d2) / n, 1.0)
        survival = np.cumprod(factor)
        before = np.concatenate([[1.0], survival[:-1]])
        incidence = np.cumsum(np.where(n > 0, before * d1 / n, 0.0))
        inverse = np.where(survival > 0, 1 / survival, 0.0)
        t6_cause = np.where(d1 > 0, before**2 * _tie_factor(d1, n) * d1 / n**2, 0.0)
        t6_other = np.where((d2 > 0) & (survival > 0),
                            before**2 * _tie_factor(d2, n) * d2 / n**2, 0.0)
    t4_cause = 1 + inverse * incidence
    t4_other = incidence * inverse
    v1 = np.cumsum(t4_cause**2 * t6_cause + t4_other**2 * t6_other)
    v2 = np.cumsum(inverse * (t4_cause * t6_cause + t4_other * t6_other))
    v3 = np.cumsum(inverse**2 * (t6_cause + t6_other))
    variance = v1 + incidence**2 * v3 - 2 * incidence * v2
    # Recorded at the cause's event times only, carried forward in between.
    at_event = np.where(d1 > 0, np.arange(d1.size), -1)
    last = np.maximum.accumulate(at_event)
    variance = np.where(last >= 0, variance[np.maximum(last, 0)], 0.0)
    return incidence, np.maximum(variance, 0.0)


def loglog_limits(incidence, variance, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """95% limits on the log(−log) scale; (0, 0) where the incidence is 0, F where se is 0."""
    f = np.asarray(incidence, dtype=float)
    se = np.sqrt(np.asarray(variance, dtype=float))
    inside = (f > 0) & (f < 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(inside, z * se / (f * np.log(f)), 0.0)
        lower = np.where(inside, f ** np.exp(-slope), f)
        upper = np.where(inside, f ** np.exp(slope), f)
    return lower, upper


def with_confidence_limits(cif: pl.DataFrame) -> pl.DataFrame:
    """Add `variance`, `ci_lower`, `ci_upper` to `pipelines.stats.cumulative_incidence`
    output (rows per group and distinct time, in time order within each group)."""
    parts = []
    for _, part in cif.sort("group", "time_days").group_by("group", maintain_order=True):
        _, variance = cif_variance(part["n_at_risk"], part["n_events"], part["n_competing"])
        lower, upper = loglog_limits(part["cumulative_incidence"].to_numpy(), variance)
        parts.append(part.with_columns(variance=pl.Series(variance),
                                       ci_lower=pl.Series(lower), ci_upper=pl.Series(upper)))
    if not parts:
        return cif.with_columns(variance=pl.lit(None, pl.Float64),
                                ci_lower=pl.lit(None, pl.Float64),
                                ci_upper=pl.lit(None, pl.Float64))
    return pl.concat(parts)


@dataclass(frozen=True)
class GrayTest:
    statistic: float
    df: int
    p_value: float
    scores: tuple[float, ...]  # first K − 1 groups


def _event_table(frame: pl.DataFrame, time: str, status: str, group: str,
                 levels: list[str]) -> tuple[np.ndarray, ...]:
    """(T, G) arrays over the pooled distinct times: at risk before, cause, competing."""
    counted = (
        frame.group_by(pl.col(time).cast(pl.Float64).alias("t"), pl.col(group).alias("g"))
        .agg(d0=(pl.col(status) == 0).sum(), d1=(pl.col(status) == 1).sum(),
             d2=(pl.col(status) >= 2).sum(), n=pl.len())
    )
    times = counted["t"].unique().sort()
    grid = pl.DataFrame({"t": times}).join(pl.DataFrame({"g": levels}), how="cross")
    full = grid.join(counted, on=["t", "g"], how="left").fill_null(0).sort("t", "g")
    shape = (times.len(), len(levels))
    leaving = full["n"].to_numpy().reshape(shape).astype(float)
    total = leaving.sum(axis=0)
    at_risk = total - np.vstack([np.zeros((1, shape[1])), np.cumsum(leaving, axis=0)[:-1]])
    d1 = full["d1"].to_numpy().reshape(shape).astype(float)
    d2 = full["d2"].to_numpy().reshape(shape).astype(float)
    return at_risk, d1, d2


def gray_test(frame: pl.DataFrame, *, time: str = "time_days", status: str = "status",
              group: str = "group", rho: float = 0.0) -> GrayTest | None:
    """Gray's test that the cause-1 cumulative incidence is equal across groups
    (`status`: 0 censored, 1 the cause, 2 competing). None with fewer than two groups."""
    data = frame.drop_nulls([time, status, group])
    levels = sorted(data[group].unique().to_list())
    if len(levels) < 2:
        return None
    rs, d1, d2 = _event_table(data, time, status, group, levels)
    live = rs > 0
    nd1, nd2 = d1.sum(axis=1), d2.sum(axis=1)
    event_row = (nd1 + nd2) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(live & event_row[:, None], 1 - (d1 + d2) / rs, 1.0)
        skm = np.cumprod(step, axis=0)
        skmm = np.vstack([np.ones((1, len(levels))), skm[:-1]])
        jump = np.where(live & event_row[:, None], skmm * d1 / rs, 0.0)
        f1 = np.cumsum(jump, axis=0)
        f1m = f1 - jump
        t1 = np.where(live, rs / skmm, 0.0)  # Gray's h_k
        tr = t1.sum(axis=1)
        tq = np.where(live, rs * (1 - f1m) / skmm, 0.0).sum(axis=1)
        f_pooled = np.cumsum(np.where(event_row, nd1 / tr, 0.0))
        fm = f_pooled - np.where(event_row, nd1 / tr, 0.0)
        fb = np.where(event_row, (1 - fm) ** rho, 0.0)
        # a[t] = fb (diag(h) − h hᵀ / tr); c = running sum of a · nd1 / (tr (1 − fm)).
        a = fb[:, None, None] * (
            np.einsum("ti,ij->tij", t1, np.eye(len(levels)))
            - np.einsum("ti,tj->tij", t1, t1) / tr[:, None, None]
        )
        a = np.where(event_row[:, None, None], a, 0.0)
        weight = np.where(event_row & (nd1 > 0), nd1 / (tr * (1 - fm)), 0.0)
        c = np.cumsum(a * weight[:, None, None], axis=0)
        scores = np.where(
            live, fb[:, None] * (d1 - nd1[:, None] * rs * (1 - f1m) / (skmm * tq[:, None])), 0.0
        ).sum(axis=0)
        # Cause-1 events.
        cause_rows = live & (nd1 > 0)[:, None]
        t4 = np.where(skm > 0, 1 - (1 - f_pooled[:, None]) / skm, 1.0)
        t5 = np.where(nd1[:, None] > 1, 1 - (nd1[:, None] - 1) / (tr[:, None] * skmm - 1), 1.0)
        t3 = np.where(cause_rows, t5 * skmm * nd1[:, None] / (tr[:, None] * rs), 0.0)
        b = a - t4[:, None, :] * c
        v = np.einsum("tik,tjk,tk->ij", b, b, t3)
        v2 = np.einsum("tik,tk->ik", b, t4 * t3)
        v3 = (t4**2 * t3).sum(axis=0)
        # Competing events.
        other_rows = (skm > 0) & (d2 > 0)
        t4o = np.where(other_rows, (1 - f_pooled[:, None]) / skm, 0.0)
        t5o = np.where(d2 > 1, 1 - (d2 - 1) / (rs - 1), 1.0)
        t3o = np.where(other_rows, t5o * skmm**2 * d2 / rs**2, 0.0)
        co = t4o[:, None, :] * c
        v = v + np.einsum("tik,tjk,tk->ij", co, co, t3o)
        v2 = v2 - np.einsum("tik,tk->ik", co, t4o * t3o)
        v3 = v3 + (t4o**2 * t3o).sum(axis=0)
    final = c[-1]
    v = v + np.einsum("ik,jk,k->ij", final, final, v3) + final @ v2.T + v2 @ final.T
    k = len(levels) - 1
    s, vs = scores[:k], v[:k, :k]
    statistic = float(s @ np.linalg.pinv(vs) @ s)
    p_value = float(scipy_stats.chi2.sf(statistic, k))
    return GrayTest(statistic, k, p_value, tuple(float(x) for x in s))

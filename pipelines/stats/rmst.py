"""Restricted mean survival time (RMST) at a stated horizon, and its difference.

The RMST to horizon τ is the area under the Kaplan–Meier curve from 0 to τ: the mean
event-free time over the first τ days (Royston P, Parmar MKB, BMC Med Res Methodol
2013;13:152). It needs no proportional hazards, so it is the comparison to read where
hazards cross. The estimate is lifelines' `restricted_mean_survival_time`; its standard
error is the one R prints with `print(survfit(...), rmean = τ)` (`survival:::survmean`):

    Var = sum over event times t_j < τ of A_j² · d_j / (n_j (n_j − d_j)),
    A_j = area under the curve from t_j to τ,

and the difference between two groups has variance the sum of theirs (independent
groups), with a normal-theory CI (as survRM2's `rmst2`). Case weights give the weighted
curve's area (a point estimate for weighted or matched samples: its CI is not the model
variance, so none is given).
"""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl
from lifelines import KaplanMeierFitter
from lifelines.exceptions import StatisticalWarning
from lifelines.utils import restricted_mean_survival_time
from scipy.stats import norm

from pipelines.stats.kaplan_meier import DAYS_PER_MONTH, _groups

RMST_SCHEMA = {
    "group": pl.String,
    "horizon_days": pl.Float64,
    "n": pl.Int64,
    "rmst_days": pl.Float64,
    "se_days": pl.Float64,
    "ci_lower_days": pl.Float64,
    "ci_upper_days": pl.Float64,
}


def _rmst_one(part: pl.DataFrame, horizon: float, time: str, event: str, weights: str | None,
              z: float):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)  # weighted: point estimate only
        fitter = KaplanMeierFitter().fit(
            part[time].to_numpy(), part[event].cast(pl.Int8).to_numpy(),
            weights=part[weights].to_numpy() if weights else None,
        )
    estimate = float(restricted_mean_survival_time(fitter, t=horizon))
    if weights:
        return estimate, None
    table = fitter.event_table
    times = table.index.to_numpy().astype(float)
    n, d = table["at_risk"].to_numpy(), table["observed"].to_numpy()
    surv = fitter.survival_function_.iloc[:, 0].to_numpy()
    keep = times < horizon
    t, s = times[keep], surv[keep]
    # area from each time to the horizon: the curve is s[j] on [t[j], t[j+1])
    widths = np.diff(np.append(t, horizon))
    area_after = np.cumsum((s * widths)[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where((d[keep] > 0) & (n[keep] > d[keep]),
                         area_after ** 2 * d[keep] / (n[keep] * (n[keep] - d[keep])), 0.0)
    return estimate, float(np.sqrt(terms.sum()))


def rmst(
    frame: pl.DataFrame,
    *,
    horizon_days: float,
    time: str = "time_days",
    event: str = "event",
    group: str | None = "group",
    weights: str | None = None,
    alpha: float = 0.05,
) -> pl.DataFrame:
    """RMST per group at `horizon_days` with its SE and CI (`RMST_SCHEMA` plus months)."""
    if horizon_days <= 0:
        raise ValueError("the RMST horizon must be positive")
    z = norm.ppf(1 - alpha / 2)
    data = frame.drop_nulls([time, event])
    rows = []
    for label, part in _groups(data, group):
        if part.height == 0:
            continue
        if float(part[time].max()) < horizon_days:
            raise ValueError(f"the RMST horizon ({horizon_days / DAYS_PER_MONTH:.1f} months) is "
                             f"beyond the follow-up of group {label!r}; choose a shorter one")
        estimate, se = _rmst_one(part, horizon_days, time, event, weights, z)
        rows.append((label, horizon_days, part.height, estimate, se,
                     None if se is None else estimate - z * se,
                     None if se is None else estimate + z * se))
    out = pl.DataFrame(rows, schema=RMST_SCHEMA, orient="row")
    return out.with_columns(
        (pl.col(c) / DAYS_PER_MONTH).alias(c.replace("_days", "_months"))
        for c in ("horizon_days", "rmst_days", "se_days", "ci_lower_days", "ci_upper_days")
    )


def rmst_difference(table: pl.DataFrame, *, level: str, reference: str,
                    alpha: float = 0.05) -> dict[str, float | str | None]:
    """RMST of `level` minus that of `reference`, with its SE, CI and two-sided p."""
    by = {row["group"]: row for row in table.iter_rows(named=True)}
    a, b = by[level], by[reference]
    diff = a["rmst_days"] - b["rmst_days"]
    out: dict[str, float | str | None] = {
        "level": level, "reference": reference, "horizon_days": a["horizon_days"],
        "difference_days": float(diff), "difference_months": diff / DAYS_PER_MONTH,
        "se_days": None, "ci_lower_days": None, "ci_upper_days": None, "p_value": None,
    }
    if a["se_days"] is not None and b["se_days"] is not None:
        se = float(np.hypot(a["se_days"], b["se_days"]))
        z = float(norm.ppf(1 - alpha / 2))
        out |= {"se_days": se, "ci_lower_days": diff - z * se, "ci_upper_days": diff + z * se,
                "p_value": float(2 * norm.sf(abs(diff / se))) if se > 0 else None}
    out["ci_lower_months"] = None if out["ci_lower_days"] is None else out["ci_lower_days"] / DAYS_PER_MONTH
    out["ci_upper_months"] = None if out["ci_upper_days"] is None else out["ci_upper_days"] / DAYS_PER_MONTH
    return out

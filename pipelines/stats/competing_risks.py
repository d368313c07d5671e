"""Cumulative incidence with a competing event (Aalen–Johansen), ties handled exactly.

docs/clinical-rules.md sections 6–7: local failure with death competing is reported
as a cumulative incidence, not 1 − Kaplan–Meier (which treats deaths as censored and so
overstates the incidence). lifelines' `AalenJohansenFitter` breaks tied times by random
jitter; instead, this function builds the estimator on lifelines' all-cause Kaplan–Meier:

    CIF_k(t) = sum over event times t_j <= t of S(t_j-) * d_kj / n_j

with S the all-cause Kaplan–Meier survival just before t_j, d_kj the events of cause k at
t_j and n_j the number at risk (Kalbfleisch & Prentice 2002, s. 8.2.2; equal to R
`survfit(Surv(time, factor(status)) ~ 1)` and `cmprsk::cuminc`). Tied events of different
causes at one time are all counted at that time.

The variance is the one `cmprsk::cuminc` reports (Gray's delta-method estimator, the
`cinc` routine of cmprsk 2.2; equal to R to 1e-12 in tests/stats), updated at the times of
the event of interest; the pointwise 95 % CI uses the log(−log) transform
F^exp(±z·sd/(F·log F)) (Choudhury JB, Stat Med 2002;21:1129–1144), which stays in (0, 1).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from lifelines import KaplanMeierFitter
from scipy.stats import chi2, norm

from pipelines.stats.kaplan_meier import DAYS_PER_MONTH, _collect, _groups

CIF_SCHEMA = {
    "group": pl.String,
    "time_days": pl.Float64,
    "n_at_risk": pl.Int64,
    "n_events": pl.Int64,
    "n_competing": pl.Int64,
    "cumulative_incidence": pl.Float64,
    "variance": pl.Float64,
    "ci_lower": pl.Float64,
    "ci_upper": pl.Float64,
    "one_minus_km": pl.Float64,
}


def _cmprsk_variance(n: np.ndarray, d1: np.ndarray, d2: np.ndarray, cif: np.ndarray
                     ) -> np.ndarray:
    """Variance of the CIF at each distinct time, as cmprsk's `cinc` (see module doc)."""
    d = d1 + d2
    before = np.concatenate([[1.0], np.cumprod(1 - d / n)[:-1]])  # all-cause S(t-)
    after = before * (n - d) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_after = np.where(after > 0, 1 / np.where(after > 0, after, 1), 0.0)

        def parts(events: np.ndarray, first: np.ndarray, use: np.ndarray):
            # ties correction (1 - (d-1)/(n-1)) and the squared jump of S(t-)
            tie = np.where(events > 1, 1 - (events - 1) / np.maximum(n - 1, 1), 1.0)
            jump = before * before * tie * events / (n * n)
            return (np.where(use, first * first * jump, 0), np.where(use, inv_after * first * jump, 0),
                    np.where(use, inv_after * inv_after * jump, 0))

    o1, o2, o3 = parts(d2, cif * inv_after, (d2 > 0) & (after > 0))
    c1, c2, c3 = parts(d1, 1 + inv_after * cif, d1 > 0)
    v1, v2, v3 = np.cumsum(o1 + c1), np.cumsum(o2 + c2), np.cumsum(o3 + c3)
    variance = v1 + cif * cif * v3 - 2 * cif * v2
    # cmprsk updates the variance at the times of the event of interest only
    last = np.maximum.accumulate(np.where(d1 > 0, np.arange(n.size), -1))
    return np.where(last >= 0, variance[np.maximum(last, 0)], 0.0)


def _cif_one(part: pl.DataFrame, time: str, status: str, cause: int) -> pl.DataFrame:
    any_event = (part[status] != 0).cast(pl.Int8).to_numpy()
    all_cause = KaplanMeierFitter().fit(part[time].to_numpy(), any_event)
    table = pl.DataFrame(
        {
            "time_days": all_cause.event_table.index.to_numpy().astype(float),
            "n_at_risk": all_cause.event_table["at_risk"].to_numpy().astype("int64"),
            "survival": all_cause.survival_function_.iloc[:, 0].to_numpy(),
        }
    )
    by_cause = part.group_by(pl.col(time).cast(pl.Float64).alias("time_days")).agg(
        n_events=(pl.col(status) == cause).sum().cast(pl.Int64),
        n_competing=((pl.col(status) != cause) & (pl.col(status) != 0)).sum().cast(pl.Int64),
    )
    return (
        table.join(by_cause, on="time_days", how="left")
        .with_columns(pl.col("n_events", "n_competing").fill_null(0))
        .sort("time_days")
        .with_columns(
            cumulative_incidence=(
                pl.col("survival").shift(1, fill_value=1.0)
                * pl.col("n_events")
                / pl.col("n_at_risk")
            ).cum_sum(),
            # the naive estimate that censors competing events, for comparison only
            one_minus_km=1
            - (1 - pl.col("n_events") / pl.col("n_at_risk")).cum_prod(),
        )
        .drop("survival")
        .pipe(_with_variance)
    )


def _with_variance(table: pl.DataFrame, alpha: float = 0.05) -> pl.DataFrame:
    cif = table["cumulative_incidence"].to_numpy()
    variance = _cmprsk_variance(table["n_at_risk"].to_numpy().astype(float),
                                table["n_events"].to_numpy().astype(float),
                                table["n_competing"].to_numpy().astype(float), cif)
    z = norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.exp(z * np.sqrt(variance) / (cif * np.log(cif)))
        inside = (cif > 0) & (cif < 1)
        lower = np.where(inside, cif ** (1 / scale), np.nan)
        upper = np.where(inside, cif ** scale, np.nan)
    return table.with_columns(variance=pl.Series(variance), ci_lower=pl.Series(lower),
                              ci_upper=pl.Series(upper)).with_columns(
        pl.col("ci_lower", "ci_upper").fill_nan(None))


def cumulative_incidence(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    time: str = "time_days",
    status: str = "status",
    cause: int = 1,
    group: str | None = None,
) -> pl.DataFrame:
    """Aalen–Johansen cumulative incidence of `cause` per group.

    `status`: 0 censored, `cause` the event of interest, any other non-zero value a competing
    event (e.g. `lf_status`: 1 local failure, 2 death first). One row per group and distinct
    time (with a row at time 0), columns `CIF_SCHEMA` plus `time_months`.
    """
    data = _collect(frame).drop_nulls([time, status])
    parts = [
        _cif_one(part, time, status, cause).with_columns(group=pl.lit(label))
        for label, part in _groups(data, group)
        if part.height > 0
    ]
    cif = pl.concat(parts) if parts else pl.DataFrame(schema=CIF_SCHEMA)
    return cif.select(list(CIF_SCHEMA)).cast(CIF_SCHEMA).with_columns(
        time_months=pl.col("time_days") / DAYS_PER_MONTH
    )


def cumulative_incidence_at(cif: pl.DataFrame, days: Sequence[float]) -> pl.DataFrame:
    """The cumulative incidence at given times (the step value at the last time <= t);
    null beyond the group's last follow-up time."""
    targets = pl.DataFrame({"at_days": [float(d) for d in days]})
    last = cif.group_by("group").agg(last_time=pl.col("time_days").max())
    return (
        cif.select("group")
        .unique()
        .join(targets, how="cross")
        .sort("at_days")
        .join_asof(
            cif.sort("time_days").select("group", "time_days", "cumulative_incidence",
                                         "variance", "ci_lower", "ci_upper"),
            left_on="at_days",
            right_on="time_days",
            by="group",
            strategy="backward",
            check_sortedness=False,  # sorted by time within each group just above
        )
        .join(last, on="group")
        .select(
            "group",
            "at_days",
            at_months=pl.col("at_days") / DAYS_PER_MONTH,
            **{c: pl.when(pl.col("at_days") <= pl.col("last_time")).then(pl.col(c))
               for c in ("cumulative_incidence", "variance", "ci_lower", "ci_upper")},
        )
        .sort("group", "at_days")
    )


def _gray_stratum(time: np.ndarray, status: np.ndarray, group: np.ndarray, n_groups: int,
                  cause: int, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """Score (first n_groups − 1 groups) and its covariance for one stratum (Gray 1988)."""
    times, inverse = np.unique(time, return_inverse=True)
    shape = (times.size, n_groups)
    entries, d1, d2 = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    np.add.at(entries, (inverse, group), 1)
    np.add.at(d1, (inverse, group), status == cause)
    np.add.at(d2, (inverse, group), (status != cause) & (status != 0))
    at_risk = np.cumsum(entries[::-1], axis=0)[::-1]  # per group, time >= t
    present = at_risk > 0
    safe_n = np.where(present, at_risk, 1.0)
    nd1, nd2 = d1.sum(axis=1), d2.sum(axis=1)
    # all-cause KM (left limit skmm, right limit skm) and CIF left limit, per group
    factor = np.where(present, 1 - (d1 + d2) / safe_n, 1.0)
    skm = np.cumprod(factor, axis=0)
    skmm = np.vstack([np.ones((1, n_groups)), skm[:-1]])
    f1m = np.vstack([np.zeros((1, n_groups)),
                     np.cumsum(np.where(present, skmm * d1 / safe_n, 0.0), axis=0)[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):  # skmm is 0 once a group is empty
        t1 = np.where(present, at_risk / skmm, 0.0)  # the groups' subdistribution "risk sets"
        tq = np.where(present, at_risk * (1 - f1m) / skmm, 0.0).sum(axis=1)
    tr = t1.sum(axis=1)
    events = (nd1 + nd2) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        jump = np.where(events & (tr > 0), nd1 / tr, 0.0)
    f = np.cumsum(jump)
    fm = f - jump
    fb = (1 - fm) ** rho
    # a(t) = fb (diag(t1) - t1 t1' / tr); c(t) = running sum of a nd1 / (tr (1 - fm))
    with np.errstate(divide="ignore", invalid="ignore"):
        outer = np.where(tr[:, None, None] > 0, t1[:, :, None] * t1[:, None, :] / tr[:, None, None], 0)
        a = fb[:, None, None] * (np.eye(n_groups)[None] * t1[:, :, None] - outer)
        a = np.where(events[:, None, None], a, 0.0)
        step = np.where(events & (nd1 > 0), nd1 / (tr * (1 - fm)), 0.0)
    c = np.cumsum(a * step[:, None, None], axis=0)
    k = n_groups - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(present & events[:, None],
                         fb[:, None] * (d1 - nd1[:, None] * at_risk * (1 - f1m) / (skmm * tq[:, None])),
                         0.0)[:, :k].sum(axis=0)
        # the event of interest
        use1 = (nd1 > 0)[:, None] & present
        t4 = np.where(skm > 0, 1 - (1 - f)[:, None] / np.where(skm > 0, skm, 1), 1.0)
        t5 = np.where(nd1[:, None] > 1, 1 - (nd1[:, None] - 1) / (tr[:, None] * skmm - 1), 1.0)
        t3 = np.where(use1, t5 * skmm * nd1[:, None] / (tr[:, None] * safe_n), 0.0)
        u1 = a[:, :k, :] - t4[:, None, :] * c[:, :k, :]
        # competing events
        use2 = (skm > 0) & (d2 > 0)
        t4b = np.where(use2, (1 - f)[:, None] / np.where(skm > 0, skm, 1), 0.0)
        t5b = np.where(d2 > 1, 1 - (d2 - 1) / np.maximum(at_risk - 1, 1), 1.0)
        t3b = np.where(use2, t5b * skmm ** 2 * d2 / safe_n ** 2, 0.0)
        u2 = t4b[:, None, :] * c[:, :k, :]
    v3 = (t4 ** 2 * t3).sum(axis=0) + (t4b ** 2 * t3b).sum(axis=0)
    v2 = (u1 * (t4 * t3)[:, None, :]).sum(axis=0) - (u2 * (t4b * t3b)[:, None, :]).sum(axis=0)
    v = (np.einsum("tik,tjk,tk->ij", u1, u1, t3) + np.einsum("tik,tjk,tk->ij", u2, u2, t3b))
    final = c[-1, :k, :]
    v += np.einsum("ik,jk,k->ij", final, final, v3) + final @ v2.T + v2 @ final.T
    return score, v


def gray_test(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    time: str = "time_days",
    status: str = "status",
    cause: int = 1,
    group: str = "group",
    strata: str | None = None,
    rho: float = 0.0,
) -> pl.DataFrame:
    """Gray's test of equal cumulative incidence of `cause` across groups (Gray RJ, Ann Stat
    1988;16:1141–1154), the statistic of `cmprsk::cuminc` (rho = 0 by default), stratified
    by `strata` when given. One row: `n_groups`, `chisq`, `df`, `p_value`."""
    data = _collect(frame).drop_nulls([time, status])
    labels = data[group].cast(pl.String).fill_null("missing")
    levels = sorted(labels.unique().to_list())
    if len(levels) < 2:
        return pl.DataFrame({"n_groups": [len(levels)], "chisq": [None], "df": [None],
                             "p_value": [None]},
                            schema={"n_groups": pl.Int64, "chisq": pl.Float64, "df": pl.Int64,
                                    "p_value": pl.Float64})
    codes = np.searchsorted(levels, labels.to_numpy())
    t = data[time].cast(pl.Float64).to_numpy()
    s = data[status].cast(pl.Int64).to_numpy()
    strata_values = (data[strata].cast(pl.String).fill_null("missing").to_numpy() if strata
                     else np.zeros(t.size, dtype=int))
    k = len(levels) - 1
    score, variance = np.zeros(k), np.zeros((k, k))
    for stratum in np.unique(strata_values):  # a handful of strata, each vectorised
        rows = strata_values == stratum
        part_score, part_variance = _gray_stratum(t[rows], s[rows], codes[rows], len(levels),
                                                  cause, rho)
        score += part_score
        variance += part_variance
    chisq = float(score @ np.linalg.solve(variance, score))
    return pl.DataFrame({"n_groups": [len(levels)], "chisq": [chisq], "df": [k],
                         "p_value": [float(chi2.sf(chisq, k))]})

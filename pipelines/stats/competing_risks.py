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
from scipy.stats import norm

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

"""Cox proportional hazards regression: crude, multivariable, stratified, weighted.

Efron ties (R `coxph`'s default) are lifelines' `CoxPHFitter`, which also gives case
weights, strata, and the robust (sandwich) variance, as R `coxph(..., weights=, robust=TRUE)`
or `cluster=` (Lin & Wei, JASA 1989;84:1074–1078). Breslow ties are statsmodels' `PHReg`
(unweighted; lifelines has Efron only).

Edge cases (docs/statistics.md, "Cox edge cases"):
- a level of a categorical column with no events has an infinite log hazard ratio. Its rows
  are left out of the fit, which is the limit the full model tends to (their weight in the
  risk sets goes to zero), and the level is reported as not estimable; it is never merged
  into the reference (that moved the other hazard ratios);
- a reference level with no events makes every hazard ratio of its column infinite: they
  are reported as not estimable with a note to choose another reference;
- a fit that did not converge is named in `notes`, not left as a library warning.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import polars as pl
from lifelines import CoxPHFitter
from lifelines.exceptions import ConvergenceError, ConvergenceWarning
from scipy.stats import norm
from statsmodels.duration.hazard_regression import PHReg

from pipelines.stats.design import Design, build_design, check_columns, complete_cases

Ties = Literal["efron", "breslow"]
TIES: tuple[str, ...] = ("efron", "breslow")

TERM_SCHEMA = {
    "term": pl.String,
    "column": pl.String,
    "level": pl.String,
    "reference": pl.String,
    "n": pl.Int64,
    "n_events": pl.Int64,
    "coef": pl.Float64,
    "se": pl.Float64,
    "hazard_ratio": pl.Float64,
    "ci_lower": pl.Float64,
    "ci_upper": pl.Float64,
    "p_value": pl.Float64,
    "is_estimable": pl.Boolean,
}


@dataclass
class CoxFit:
    terms: pl.DataFrame  # TERM_SCHEMA, one row per coefficient (and per not-estimable level)
    n: int
    n_events: int
    n_dropped: int  # incomplete rows left out (complete cases)
    ties: str
    variance: str  # "model", "robust" or "cluster-robust"
    strata: list[str]
    weighted: bool
    converged: bool
    log_likelihood: float | None
    notes: list[str] = field(default_factory=list)
    design: Design | None = None  # the fitted rows and matrix (for model checks)
    beta: np.ndarray | None = None
    time: str = "time_days"
    event: str = "event"
    weights: str | None = None


def _text(series: pl.Series) -> pl.Series:
    return series.cast(pl.String)


def _zero_event_levels(data: pl.DataFrame, column: str, event: str) -> list[str]:
    counts = data.group_by(_text(data[column]).alias("level")).agg(events=pl.col(event).sum())
    return sorted(counts.filter(pl.col("events") == 0)["level"].to_list())


def _fit_lifelines(frame: pd.DataFrame, names: list[str], *, strata, weights, cluster, robust,
                   entry=None):
    fitter = CoxPHFitter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitter.fit(
            frame,
            duration_col="__time",
            event_col="__event",
            strata=strata or None,
            weights_col="__weight" if weights else None,
            cluster_col="__cluster" if cluster else None,
            robust=robust,
            entry_col="__entry" if entry else None,
        )
    messages = [str(w.message).split("\n")[0] for w in caught
                if issubclass(w.category, ConvergenceWarning)]
    summary = fitter.summary.loc[names]
    return (summary["coef"].to_numpy(), summary["se(coef)"].to_numpy(),
            float(fitter.log_likelihood_), messages)


def _fit_breslow(frame: pd.DataFrame, names: list[str], *, strata, cluster, robust):
    strata_codes = None
    if strata:
        strata_codes = frame[strata].astype(str).agg("|".join, axis=1).to_numpy()
    model = PHReg(frame["__time"].to_numpy(), frame[names].to_numpy(),
                  status=frame["__event"].to_numpy(), strata=strata_codes, ties="breslow")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if cluster or robust:
            groups = frame["__cluster"].to_numpy() if cluster else np.arange(len(frame))
            result = model.fit(groups=groups)
        else:
            result = model.fit()
    messages = [str(w.message).split("\n")[0] for w in caught if "converge" in str(w.message).lower()]
    return np.asarray(result.params), np.asarray(result.bse), float(result.llf), messages


def fit_cox(
    frame: pl.DataFrame,
    *,
    covariates: Sequence[str],
    time: str = "time_days",
    event: str = "event",
    references: dict[str, str] | None = None,
    ties: Ties = "efron",
    strata: Sequence[str] = (),
    weights: str | None = None,
    cluster: str | None = None,
    robust: bool = False,
    entry: str | None = None,
    alpha: float = 0.05,
) -> CoxFit:
    """Cox model of (`time`, `event`) on `covariates` (complete cases; see module doc).

    `weights` names a column of case weights (then the robust variance is used, as R
    requires for non-integer weights); `cluster` a column of cluster ids (cluster-robust);
    `entry` a column of entry times (counting-process rows (entry, time], Efron only).
    Raises ValueError for an unknown column, no events, or Breslow ties with weights.
    """
    if ties not in TIES:
        raise ValueError(f"unknown ties method {ties!r}; choose one of {', '.join(TIES)}")
    if ties == "breslow" and weights:
        raise ValueError("Breslow ties are available for unweighted models only; use --ties efron")
    if entry and ties != "efron":
        raise ValueError("entry times (counting-process rows) need Efron ties")
    extra = [c for c in (weights, cluster, entry) if c] + list(strata)
    check_columns(frame, [time, event, *covariates, *extra])
    references = dict(references or {})
    data, _ = complete_cases(frame, [time, event, *covariates, *extra])
    data = data.with_columns(pl.col(event).cast(pl.Int64))
    n_dropped = frame.height - data.height
    if data[event].sum() == 0:
        raise ValueError(f"no events among the {data.height} analysed rows")
    notes: list[str] = []
    categorical = [c for c in covariates
                   if not (data[c].dtype.is_numeric() or data[c].dtype == pl.Boolean)]
    stated_reference: dict[str, str] = {}
    zero_levels: dict[str, list[str]] = {}
    for column in categorical:
        levels = sorted(_text(data[column]).unique().to_list())
        stated_reference[column] = references.get(column, levels[0])
        if stated_reference[column] not in levels:
            raise ValueError(f"reference level {stated_reference[column]!r} of {column!r} "
                             f"is not among {levels}")
        zero = _zero_event_levels(data, column, event)
        if zero:
            zero_levels[column] = zero
            data = data.filter(~_text(data[column]).is_in(zero))
            if stated_reference[column] in zero:
                notes.append(f"reference level {stated_reference[column]!r} of {column} has no "
                             f"events: its hazard ratios are not estimable; choose another reference")
            else:
                notes.append(f"{column}: level(s) {', '.join(zero)} without events are not "
                             f"estimable and left out of the fit")
    internal_refs = {}
    for column in categorical:
        remaining = sorted(_text(data[column]).unique().to_list())
        ref = stated_reference[column]
        internal_refs[column] = ref if ref in remaining else remaining[0]
    design = build_design(data, covariates, required=[time, event, *extra],
                          references=internal_refs)
    names = [f"__x{i}" for i in range(len(design.terms))]
    table = pd.DataFrame(design.matrix, columns=names)
    table["__time"] = design.data[time].cast(pl.Float64).to_numpy()
    table["__event"] = design.data[event].to_numpy()
    for column in strata:
        table[column] = design.data[column].cast(pl.String).to_numpy()
    if weights:
        table["__weight"] = design.data[weights].cast(pl.Float64).to_numpy()
    if cluster:
        table["__cluster"] = design.data[cluster].cast(pl.String).to_numpy()
    if entry:
        table["__entry"] = design.data[entry].cast(pl.Float64).to_numpy()
    robust = robust or bool(weights) or bool(cluster)
    converged, coef, se, loglik = True, None, None, None
    if names:
        try:
            if ties == "efron":
                coef, se, loglik, messages = _fit_lifelines(
                    table, names, strata=list(strata), weights=weights, cluster=cluster,
                    robust=robust, entry=entry)
            else:
                coef, se, loglik, messages = _fit_breslow(
                    table, names, strata=list(strata), cluster=cluster, robust=robust)
        except (ConvergenceError, np.linalg.LinAlgError) as exc:
            messages = [str(exc).split("\n")[0]]
            coef = se = None
        failed = [m for m in messages if "converge" in m.lower()]
        if failed:
            converged = False
            notes.append("the Cox fit did not converge (" + failed[0].rstrip(".")
                         + "): treat its estimates as unreliable")
        elif messages:
            notes.append("estimation warning: " + messages[0].rstrip("."))
    z = norm.ppf(1 - alpha / 2)
    rows = []
    by_name = dict(zip((t.name for t in design.terms), range(len(names)), strict=True))
    for column in covariates:
        if column in categorical:
            levels = sorted(_text(frame[column].drop_nulls()).unique().to_list())
            for level in levels:
                if level == stated_reference[column]:
                    continue
                rows.append(_term_row(f"{column}={level}", column, level, stated_reference[column],
                                      by_name, coef, se, z, frame, design, event,
                                      estimable=stated_reference[column] not in zero_levels.get(column, [])))
        else:
            rows.append(_term_row(column, column, None, None, by_name, coef, se, z, frame, design,
                                  event, estimable=True))
    variance = "cluster-robust" if cluster else "robust" if robust else "model"
    return CoxFit(
        terms=pl.DataFrame(rows, schema=TERM_SCHEMA, orient="row") if rows
        else pl.DataFrame(schema=TERM_SCHEMA),
        n=design.data.height, n_events=int(design.data[event].sum()), n_dropped=n_dropped,
        ties=ties, variance=variance, strata=list(strata), weighted=bool(weights),
        converged=converged, log_likelihood=loglik, notes=notes, design=design,
        beta=coef, time=time, event=event, weights=weights,
    )


def _term_row(name, column, level, reference, by_name, coef, se, z, frame, design, event, *,
              estimable):
    if level is not None:
        at_level = design.data.filter(_text(design.data[column]) == level)
        n = int((_text(frame[column]) == level).sum())
        n_events = int(at_level[event].sum()) if at_level.height else 0
    else:
        n, n_events = design.data.height, int(design.data[event].sum())
    index = by_name.get(name)
    if coef is None or index is None or not estimable or not np.isfinite(se[index]):
        return (name, column, level, reference, n, n_events, None, None, None, None, None, None,
                False)
    b, s = float(coef[index]), float(se[index])
    with np.errstate(over="ignore"):
        return (name, column, level, reference, n, n_events, b, s, float(np.exp(b)),
                float(np.exp(b - z * s)), float(np.exp(b + z * s)),
                float(2 * norm.sf(abs(b / s))), True)

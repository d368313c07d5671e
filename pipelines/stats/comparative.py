"""The comparative figures beside a crude comparison (docs/statistics.md, "Adjustment").

Registry comparisons of treatment strategies are confounded by indication (fitter patients
with fewer lesions get local therapy; docs/clinical-rules.md section 8), so next to the
crude hazard ratio a report can carry: the Cox model with the user's ties, strata and
adjustment covariates; a propensity-weighted or matched comparison (weighted Kaplan–Meier
medians, weighted Cox with robust variance, the balance table); restricted mean survival
time at a horizon; the proportional-hazards test; the stratified log-rank test; and,
always, the median follow-up (reverse Kaplan–Meier). Every part states its own n.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from pipelines.stats.comparison import stratified_logrank_test
from pipelines.stats.cox import CoxFit, fit_cox
from pipelines.stats.followup import median_followup
from pipelines.stats.kaplan_meier import DAYS_PER_MONTH, kaplan_meier, median_survival
from pipelines.stats.ph_test import ph_test
from pipelines.stats.propensity import DEFAULT_CALIPER_SD, adjust
from pipelines.stats.rmst import rmst, rmst_difference

MIN_EVENTS = 5  # fewer events than this: no model is fitted (one clear refusal)


@dataclass(frozen=True)
class ComparisonOptions:
    adjust: tuple[str, ...] = ()
    weights: str | None = None  # iptw, iptw-att, match
    covariates: tuple[str, ...] = ()
    trim: float = 0.0
    caliper_sd: float = DEFAULT_CALIPER_SD
    rmst_months: float | None = None
    ties: str = "efron"
    strata: str | None = None
    ph_test: bool = False
    cluster: str | None = None  # patient_id with all episodes

    @property
    def wants_model(self) -> bool:
        return bool(self.adjust) or self.ties != "efron" or self.strata is not None or self.ph_test


@dataclass
class ModelSummary:
    terms: pl.DataFrame
    n: int
    n_events: int
    n_dropped: int
    ties: str
    variance: str
    strata: list[str]
    converged: bool
    notes: list[str]


@dataclass
class WeightedComparison:
    method: str
    covariates: list[str]
    n_input: int
    n_dropped_incomplete: int
    n_trimmed: int
    n_unmatched: int
    n_analysed: int
    balance: pl.DataFrame
    medians: pl.DataFrame  # weighted KM medians per group
    hazard_ratio: ModelSummary
    rmst: pl.DataFrame | None
    rmst_difference: dict | None
    notes: list[str]


@dataclass
class ComparativeReport:
    followup: pl.DataFrame
    model: ModelSummary | None = None
    ph_test: pl.DataFrame | None = None
    stratified_logrank: pl.DataFrame | None = None
    rmst: pl.DataFrame | None = None
    rmst_differences: list[dict] = field(default_factory=list)
    weighted: WeightedComparison | None = None
    notes: list[str] = field(default_factory=list)


def _summary(fit: CoxFit) -> ModelSummary:
    return ModelSummary(fit.terms, fit.n, fit.n_events, fit.n_dropped, fit.ties, fit.variance,
                        fit.strata, fit.converged, fit.notes)


def _levels(frame: pl.DataFrame) -> list[str]:
    return sorted(frame["group"].unique().to_list())


def _check_events(frame: pl.DataFrame, what: str) -> None:
    events = int(frame["event"].sum())
    if events < MIN_EVENTS:
        raise ValueError(f"too few events for {what} ({events}; at least {MIN_EVENTS} needed)")


def _rmst_part(frame: pl.DataFrame, months: float, reference: str | None,
               weights: str | None = None) -> tuple[pl.DataFrame, list[dict]]:
    table = rmst(frame, horizon_days=months * DAYS_PER_MONTH, group="group", weights=weights)
    diffs = []
    if reference is not None:
        diffs = [rmst_difference(table, level=level, reference=reference)
                 for level in table["group"].to_list() if level != reference]
    return table, diffs


def _weighted(frame: pl.DataFrame, options: ComparisonOptions, reference: str) -> WeightedComparison:
    levels = _levels(frame)
    if len(levels) != 2:
        raise ValueError(f"--weights compares two groups; the grouping has {len(levels)} "
                         f"({', '.join(levels)})")
    data = frame.with_columns(__treated=(pl.col("group") != reference).cast(pl.Int64))
    adjusted = adjust(data, treatment="__treated", covariates=list(options.covariates),
                      method=options.weights, required=["time_days", "event", "group"],
                      trim=options.trim, caliper_sd=options.caliper_sd)
    rows = adjusted.data
    _check_events(rows, "the weighted comparison")
    cluster = "pair_id" if options.weights == "match" else options.cluster
    fit = fit_cox(rows, covariates=["group"], references={"group": reference},
                  weights=None if options.weights == "match" else "weight", cluster=cluster,
                  robust=True, ties=options.ties, strata=[options.strata] if options.strata else [])
    curve = kaplan_meier(rows, group="group", weights="weight")
    medians = median_survival(curve).select("group", "median_days", "median_months")
    table = diff = None
    if options.rmst_months is not None:
        table, diffs = _rmst_part(rows, options.rmst_months, reference, weights="weight")
        diff = diffs[0] if diffs else None
    notes = list(adjusted.notes)
    if adjusted.n_dropped_incomplete:
        notes.append(f"{adjusted.n_dropped_incomplete} rows with a missing covariate left out "
                     "(complete cases)")
    return WeightedComparison(
        options.weights, list(options.covariates), adjusted.n_input,
        adjusted.n_dropped_incomplete, adjusted.n_trimmed, adjusted.n_unmatched, rows.height,
        adjusted.balance, medians, _summary(fit), table, diff, notes)


def comparative_report(frame: pl.DataFrame, options: ComparisonOptions,
                       reference: str | None) -> ComparativeReport:
    """Frame: `patient_id`, `time_days`, `event`, `group` and the option's covariates."""
    if "followup_days" in frame.columns:  # OS follow-up of the analysed episodes
        followup = median_followup(frame)
    else:
        followup = median_followup(frame.with_columns(__alive=1 - pl.col("event")),
                                   time="time_days", censored_alive="__alive")
    report = ComparativeReport(followup=followup)
    comparing = reference is not None
    if options.wants_model:
        covariates = (["group"] if comparing else []) + list(options.adjust)
        if not covariates:
            raise ValueError("the Cox model needs --by or --adjust")
        _check_events(frame, "a Cox model")
        fit = fit_cox(frame, covariates=covariates,
                      references={"group": reference} if comparing else {},
                      ties=options.ties, strata=[options.strata] if options.strata else [],
                      cluster=options.cluster)
        report.model = _summary(fit)
        if options.ph_test:
            report.ph_test = ph_test(fit)
    if options.strata is not None and comparing:
        report.stratified_logrank = stratified_logrank_test(frame, group="group",
                                                            strata=options.strata)
    if options.rmst_months is not None:
        report.rmst, report.rmst_differences = _rmst_part(frame, options.rmst_months, reference)
    if options.weights is not None:
        if not comparing:
            raise ValueError("--weights needs --by with two groups (the strategies compared)")
        report.weighted = _weighted(frame, options, reference)
    return report

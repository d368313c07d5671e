"""Target-trial emulation protocols of four oligometastatic NSCLC trials, and their analysis.

Each protocol (docs/emulation.md) maps a trial's eligibility, time zero, strategies, grace
period for local therapy and outcome onto the registry's first OMD episode per patient
(`marts.episode_cohort` and `marts.episode_outcomes`, origin = episode date). Time zero is
either the episode date or, for the trials that randomised after induction systemic
therapy, `time_zero_days` later, when the patient must be alive and free of progression
(known at time zero, so no future information enters eligibility). Local therapy started
before time zero counts as started at time zero. The strategies are compared by cloning,
censoring at deviation and inverse-probability-of-censoring weights
(`pipelines.stats.cloning`), never by what patients received later.

Published reference figures (medians in months) stand beside the emulated ones; the
emulation is observational: it estimates what the registry's patients would have had under
each strategy, if the baseline covariates capture why local therapy was given.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl
from lifelines import KaplanMeierFitter
from lifelines.utils import restricted_mean_survival_time

from pipelines.stats.cloning import ClonedData, clone_censor_weight
from pipelines.stats.cox import fit_cox
from pipelines.stats.kaplan_meier import DAYS_PER_MONTH, _r_median_time

MONTH = DAYS_PER_MONTH


@dataclass(frozen=True)
class Reference:
    source: str
    endpoint: str  # pfs or os
    lct_months: float | None
    control_months: float | None
    hazard_ratio: str | None = None


@dataclass(frozen=True)
class Protocol:
    name: str
    title: str
    citation: str
    eligibility: str  # in words (docs and output)
    time_zero: str
    time_zero_days: float
    grace_days: float
    endpoints: tuple[str, ...]
    max_lesions: int
    synchronous: bool | None  # True: synchronous only; False: metachronous/repeat only
    max_ecog: int | None
    exclude_drivers: tuple[str, ...] = ()
    references: tuple[Reference, ...] = field(default_factory=tuple)
    single_arm: bool = False


PROTOCOLS: dict[str, Protocol] = {
    "gomez": Protocol(
        name="gomez",
        title="Gomez 2016/2019: local consolidative therapy vs maintenance or observation",
        citation="Gomez DR et al., Lancet Oncol 2016;17:1672-1682; J Clin Oncol "
                 "2019;37:1558-1565",
        eligibility="synchronous OMD episode with at most 3 metastases, ECOG 0-2, alive and "
                    "progression-free 3 months after the episode date (after first-line "
                    "systemic therapy)",
        time_zero="episode date + 3 months (randomisation after induction therapy)",
        time_zero_days=3 * MONTH, grace_days=3 * MONTH, endpoints=("pfs", "os"),
        max_lesions=3, synchronous=True, max_ecog=2,
        references=(Reference("Gomez 2016", "pfs", 14.2, 4.4, "0.35"),
                    Reference("Gomez 2019", "os", 41.2, 17.0, "0.40")),
    ),
    "sabr-comet": Protocol(
        name="sabr-comet",
        title="SABR-COMET: stereotactic radiotherapy of all sites vs standard of care",
        citation="Palma DA et al., Lancet 2019;393:2051-2058; J Clin Oncol 2020;38:2830-2838",
        eligibility="metachronous or repeat OMD episode (controlled primary) with 1-5 "
                    "metastases, ECOG 0-1",
        time_zero="episode date", time_zero_days=0.0, grace_days=3 * MONTH,
        endpoints=("os", "pfs"), max_lesions=5, synchronous=False, max_ecog=1,
        references=(Reference("Palma 2019", "os", 41.0, 28.0, "0.57"),
                    Reference("Palma 2020", "os", 50.0, 28.0, "0.47"),
                    Reference("Palma 2019", "pfs", 12.0, 6.0, "0.47")),
    ),
    "iyengar": Protocol(
        name="iyengar",
        title="Iyengar 2018: consolidative SAbR plus maintenance vs maintenance alone",
        citation="Iyengar P et al., JAMA Oncol 2018;4:e173501",
        eligibility="OMD episode with at most 5 metastases (6 sites with the primary), no "
                    "EGFR or ALK driver, alive and progression-free 3 months after the "
                    "episode date (after induction chemotherapy)",
        time_zero="episode date + 3 months (after induction chemotherapy)",
        time_zero_days=3 * MONTH, grace_days=2 * MONTH, endpoints=("pfs",),
        max_lesions=5, synchronous=None, max_ecog=None, exclude_drivers=("egfr", "alk"),
        references=(Reference("Iyengar 2018", "pfs", 9.7, 3.5, None),),
    ),
    "bauml": Protocol(
        name="bauml",
        title="Bauml 2019: local ablative therapy of all sites, then pembrolizumab",
        citation="Bauml JM et al., JAMA Oncol 2019;5:1283-1290",
        eligibility="OMD episode with at most 4 metastases (single-arm trial: the no-LCT arm "
                    "has no published comparator)",
        time_zero="episode date", time_zero_days=0.0, grace_days=6 * MONTH,
        endpoints=("pfs",), max_lesions=4, synchronous=None, max_ecog=None,
        references=(Reference("Bauml 2019", "pfs", 19.1, None, None),), single_arm=True,
    ),
}

CENSORING_COVARIATES = ("age_at_episode", "ecog_at_diagnosis", "n_lesions", "has_brain")
ENDPOINT_COLUMNS = {"pfs": ("pfs_days", "pfs_event"), "os": ("os_days", "os_event")}


def attrition_rows(episodes: pl.DataFrame, protocol: Protocol) -> list[tuple[str, pl.DataFrame]]:
    """The rows remaining after each eligibility step, first the whole input."""
    steps: list[tuple[str, pl.Expr]] = [("first OMD episode per patient", pl.col("is_first_episode"))]
    if protocol.synchronous is not None:
        steps.append(("synchronous" if protocol.synchronous else "metachronous or repeat",
                      pl.col("is_synchronous") == protocol.synchronous))
    steps.append((f"at most {protocol.max_lesions} metastases", pl.col("n_lesions") <= protocol.max_lesions))
    if protocol.max_ecog is not None:
        steps.append((f"ECOG 0-{protocol.max_ecog} (recorded)",
                      pl.col("ecog_at_diagnosis") <= protocol.max_ecog))
    if protocol.exclude_drivers:
        steps.append((f"no {' or '.join(d.upper() for d in protocol.exclude_drivers)} driver",
                      ~pl.col("driver_status").is_in(list(protocol.exclude_drivers))))
    if protocol.time_zero_days > 0:
        steps.append((f"alive and progression-free at time zero "
                      f"({protocol.time_zero_days / MONTH:g} months)",
                      (pl.col("pfs_days") > protocol.time_zero_days)))
    out = [("eligible episodes (all)", episodes)]
    rows = episodes
    for label, condition in steps:
        rows = rows.filter(condition.fill_null(False))
        out.append((label, rows))
    return out


def eligible(episodes: pl.DataFrame, protocol: Protocol) -> tuple[pl.DataFrame, list[tuple[str, int]]]:
    """The first episodes meeting the protocol, and the attrition (step, remaining)."""
    steps = attrition_rows(episodes, protocol)
    return steps[-1][1], [(label, frame.height) for label, frame in steps]


def trial_rows(episodes: pl.DataFrame, protocol: Protocol, endpoint: str) -> pl.DataFrame:
    """Times from time zero: outcome, local therapy of all sites, any local therapy."""
    time, event = ENDPOINT_COLUMNS[endpoint]
    t0 = protocol.time_zero_days
    return episodes.select(
        "patient_id", *CENSORING_COVARIATES,
        time_days=pl.col(time).cast(pl.Float64) - t0,
        event=pl.col(event).cast(pl.Int64),
        lct_days=pl.when(pl.col("all_sites_treated")).then(pl.col("lct_start_days") - t0),
        any_lct_days=(pl.col("lct_start_days") - t0).cast(pl.Float64),
    ).filter(pl.col("time_days") > 0)


@dataclass
class ArmResult:
    arm: str
    n_clones: int
    n_events: int
    n_censored_deviation: int
    median_months: float | None
    rmst_months: float | None
    weight_mean: float
    weight_max: float


@dataclass
class EmulationResult:
    protocol: Protocol
    endpoint: str
    attrition: list[tuple[str, int]]
    n_patients: int
    arms: list[ArmResult]
    hazard_ratio: dict | None
    rmst_horizon_months: float
    notes: list[str]
    curves: pl.DataFrame | None = None  # arm, time_months, survival (weighted KM)
    clones: pl.DataFrame | None = None  # patient_id, arm, event, deviated (for the dashboards)


def _weighted_km(rows: pl.DataFrame) -> KaplanMeierFitter:
    return KaplanMeierFitter().fit(
        rows["stop"].to_numpy(), rows["event"].to_numpy(), entry=rows["start"].to_numpy(),
        weights=rows["weight"].to_numpy(),
    )


def analyse(cloned: ClonedData, protocol: Protocol, endpoint: str,
            attrition: list[tuple[str, int]], rmst_months: float) -> EmulationResult:
    import warnings

    from lifelines.exceptions import StatisticalWarning

    arms = []
    curves = []
    per_arm = {r["arm"]: r for r in cloned.per_arm.iter_rows(named=True)}
    notes: list[str] = []
    for arm in ("lct", "no_lct"):
        rows = cloned.rows.filter(pl.col("arm") == arm)
        info = per_arm.get(arm)
        median = rmst = None
        if rows.height and rows["event"].sum() > 0:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", StatisticalWarning)
                km = _weighted_km(rows)
            curve = km.survival_function_.iloc[:, 0]
            curves.append(pl.DataFrame({
                "arm": arm, "time_months": curve.index.to_numpy().astype(float) / MONTH,
                "survival": curve.to_numpy()}))
            value = _r_median_time(curve.index.to_numpy().astype(float), curve.to_numpy())
            median = None if np.isnan(value) else value / MONTH
            horizon = rmst_months * MONTH
            if float(rows["stop"].max()) >= horizon:
                rmst = float(restricted_mean_survival_time(km, t=horizon)) / MONTH
        arms.append(ArmResult(arm, int(info["n_clones"]) if info else 0,
                              int(info["n_events"]) if info else 0,
                              int(info["n_censored_deviation"]) if info else 0,
                              median, rmst, float(info["weight_mean"]) if info else 0.0,
                              float(info["weight_max"]) if info else 0.0))
    hazard_ratio = None
    if all(a.n_events >= 5 for a in arms):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StatisticalWarning)
            fit = fit_cox(cloned.rows.with_columns(
                is_lct=(pl.col("arm") == "lct").cast(pl.Int64)),
                covariates=["is_lct"], time="stop", event="event", entry="start",
                weights="weight", cluster="patient_id")
        row = fit.terms.row(0, named=True)
        hazard_ratio = {k: row[k] for k in ("hazard_ratio", "ci_lower", "ci_upper", "p_value")}
        notes += fit.notes
    else:
        notes.append("fewer than 5 events in an arm: no hazard ratio")
    notes.append("medians and RMST are point estimates of the weighted curves (their CIs "
                 "need a bootstrap); the HR's CI is robust, clustered by patient")
    return EmulationResult(protocol, endpoint, attrition, cloned.n_patients, arms, hazard_ratio,
                           rmst_months, notes, pl.concat(curves) if curves else None,
                           cloned.clones)


def emulate(episodes: pl.DataFrame, protocol: Protocol, *, rmst_months: float = 24.0,
            interval_days: float = 30.0) -> list[EmulationResult]:
    """Every endpoint of the protocol on the first-episode rows of `load_emulation_rows`."""
    rows, attrition = eligible(episodes, protocol)
    results = []
    for endpoint in protocol.endpoints:
        trial = trial_rows(rows, protocol, endpoint)
        if trial.height == 0 or trial["event"].sum() == 0:
            raise ValueError(f"no eligible patients with {endpoint} events for {protocol.name}")
        cloned = clone_censor_weight(trial, grace_days=protocol.grace_days,
                                     covariates=CENSORING_COVARIATES, interval_days=interval_days)
        results.append(analyse(cloned, protocol, endpoint, attrition, rmst_months))
    return results

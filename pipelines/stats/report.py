"""The numbers a survival analysis reports, as tidy frames shared by the CLI and dashboards.

One function per endpoint kind: `survival_report` (Kaplan–Meier endpoints: medians with CI,
12- and 24-month rates, numbers at risk, log-rank, Cox HRs) and `local_control_report`
(Aalen–Johansen cumulative incidence of local failure with death competing, and the
cause-specific hazard ratio of local failure, cluster-robust by patient since a patient can
have several treated lesions). Groups with fewer than `SMALL_GROUP_PATIENTS` patients are
kept but flagged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from pipelines.stats.comparison import cox_hazard_ratios, logrank_test
from pipelines.stats.competing_risks import (
    cumulative_incidence,
    cumulative_incidence_at,
    gray_test,
)
from pipelines.stats.kaplan_meier import (
    DAYS_PER_MONTH,
    CiTransform,
    kaplan_meier,
    median_survival,
    numbers_at_risk,
    survival_at,
)

SMALL_GROUP_PATIENTS = 10
RATE_MONTHS = (12, 24)


@dataclass
class SurvivalReport:
    groups: pl.DataFrame  # group, n_patients, is_small_group, + medians or CIF columns
    rates: pl.DataFrame  # group, at_months, estimate, ci_lower, ci_upper
    at_risk: pl.DataFrame  # group, at_months, n_at_risk
    test: pl.DataFrame | None  # log-rank (one row) or None
    hazard_ratios: pl.DataFrame | None
    notes: list[str] = field(default_factory=list)


def risk_table_days(max_days: float, every_months: int = 6, max_months: int = 60) -> list[float]:
    """Times of the numbers-at-risk table: every `every_months` up to follow-up (≤ 5 years)."""
    months = np.arange(0, min(max_months, max_days / DAYS_PER_MONTH) + 1e-9, every_months)
    return [float(m * DAYS_PER_MONTH) for m in months]


def _patients(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.group_by("group").agg(n_patients=pl.col("patient_id").n_unique()).with_columns(
        is_small_group=pl.col("n_patients") < SMALL_GROUP_PATIENTS
    )


def _small_group_notes(patients: pl.DataFrame) -> list[str]:
    return [
        f"group {g!r} has {n} patients (fewer than {SMALL_GROUP_PATIENTS}): interpret with care"
        for g, n in patients.filter(pl.col("is_small_group")).select("group", "n_patients").rows()
    ]


def _reference(frame: pl.DataFrame, reference: str | None) -> str | None:
    levels = sorted(frame["group"].unique().to_list())
    if len(levels) < 2:
        return None
    return reference if reference is not None else levels[0]


def survival_report(
    frame: pl.DataFrame,
    *,
    ci: CiTransform = "log-log",
    reference: str | None = None,
    cluster_by_patient: bool = False,
    risk_every_months: int = 6,
) -> SurvivalReport:
    """Frame with `patient_id`, `time_days`, `event`, `group` (see `endpoints.load_endpoint`)."""
    curve = kaplan_meier(frame, group="group", ci=ci)
    patients = _patients(frame)
    groups = median_survival(curve).join(patients, on="group", how="left").sort("group")
    rates = survival_at(curve, [m * DAYS_PER_MONTH for m in RATE_MONTHS]).rename(
        {"survival": "estimate"}
    )
    max_days = float(frame["time_days"].max()) if frame.height else 0.0
    at_risk = numbers_at_risk(frame, days=risk_table_days(max_days, risk_every_months), group="group")
    ref = _reference(frame, reference)
    test = logrank_test(frame, group="group") if ref is not None else None
    hrs = (
        cox_hazard_ratios(
            frame, group="group", reference=ref, cluster="patient_id" if cluster_by_patient else None
        )
        if ref is not None
        else None
    )
    return SurvivalReport(groups, rates, at_risk, test, hrs, _small_group_notes(patients))


def local_control_report(
    frame: pl.DataFrame, *, reference: str | None = None, risk_every_months: int = 6,
    cluster_by_patient: bool = True,
) -> SurvivalReport:
    """Frame with `patient_id`, `time_days`, `status` (0, 1 the event: local failure or next
    therapy; 2 death first), `group`. Reports the cumulative incidence, not 1 − KM, and Gray's test; the
    column names say local failure for both endpoints (the CLI labels them)."""
    cif = cumulative_incidence(frame, status="status", cause=1, group="group")
    patients = _patients(frame)
    counts = frame.group_by("group").agg(
        n_lesions=pl.len().cast(pl.Int64),
        n_local_failures=(pl.col("status") == 1).sum().cast(pl.Int64),
        n_deaths_first=(pl.col("status") == 2).sum().cast(pl.Int64),
    )
    groups = counts.join(patients, on="group", how="left").sort("group")
    rates = cumulative_incidence_at(cif, [m * DAYS_PER_MONTH for m in RATE_MONTHS]).rename(
        {"cumulative_incidence": "estimate"}
    ).drop("variance")
    max_days = float(frame["time_days"].max()) if frame.height else 0.0
    at_risk = numbers_at_risk(frame, days=risk_table_days(max_days, risk_every_months), group="group")
    ref = _reference(frame, reference)
    hrs = None
    test = None
    if ref is not None:
        test = gray_test(frame, status="status", cause=1, group="group")
        cause_specific = frame.with_columns(event=(pl.col("status") == 1).cast(pl.Int64))
        hrs = cox_hazard_ratios(cause_specific, group="group", reference=ref,
                                cluster="patient_id" if cluster_by_patient else None)
    notes = _small_group_notes(patients) + [
        "hazard ratios are cause-specific (deaths censored)"
        + (", cluster-robust by patient" if cluster_by_patient else "")
    ]
    return SurvivalReport(groups, rates, at_risk, test, hrs, notes)

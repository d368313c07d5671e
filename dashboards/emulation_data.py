"""Data of the comparisons page (dashboards/views/emulation.py): a trial emulation and a
propensity-score balance, computed by `pipelines.stats` from the published file and cached
per file identity; every count and curve shown leaves through `dashboards.disclosure`
(patients are the unit: each patient has one clone per arm)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import streamlit as st

from dashboards.data import _stamp
from dashboards.disclosure import GroupGate, Policy, gate_groups, protected_counts, protected_total
from pipelines.stats.cox import fit_cox
from pipelines.stats.emulation import PROTOCOLS, EmulationResult, attrition_rows, emulate
from pipelines.stats.emulation_data import load_emulation_rows
from pipelines.stats.propensity import adjust

UNIT = "patient_id"
BALANCE_CHOICES = ("age_at_episode", "ecog_at_diagnosis", "n_lesions", "has_brain",
                   "is_synchronous", "driver_status")
ARM_NAMES = {"lct": "LCT of all sites", "no_lct": "no LCT"}


@st.cache_data(show_spinner="Emulating the trial…", max_entries=16)
def _emulation(database: str, stamp: tuple, trial: str, rmst_months: float
               ) -> tuple[list[EmulationResult], list[tuple[str, pl.DataFrame]]]:
    del stamp  # part of the cache key only
    rows = load_emulation_rows(Path(database))
    steps = [(label, frame.select(UNIT)) for label, frame in attrition_rows(rows, PROTOCOLS[trial])]
    return emulate(rows, PROTOCOLS[trial], rmst_months=rmst_months), steps


def emulation(database: Path, trial: str, rmst_months: float
              ) -> tuple[list[EmulationResult], list[tuple[str, pl.DataFrame]]]:
    """The results per endpoint and the patients remaining after each eligibility step."""
    return _emulation(str(database), _stamp(database), trial, rmst_months)


def attrition_table(steps: list[tuple[str, pl.DataFrame]], policy: Policy) -> pl.DataFrame:
    return pl.DataFrame({
        "Step": [label for label, _ in steps],
        "Remaining": [protected_total(frame, unit=UNIT, policy=policy).label for _, frame in steps],
    })


def curve_gate(result: EmulationResult, policy: Policy) -> GroupGate:
    """Arms whose weighted curve may be drawn (enough clones and events)."""
    return gate_groups(result.clones, "arm", unit=UNIT, policy=policy, event="event",
                       order=list(ARM_NAMES))


def arms_table(result: EmulationResult, policy: Policy) -> pl.DataFrame:
    clones = result.clones
    counts = {
        "Clones": protected_counts(clones, ["arm"], unit=UNIT, policy=policy),
        "Events": protected_counts(clones.filter(pl.col("event") == 1), ["arm"], unit=UNIT,
                                   policy=policy),
        "Censored at deviation": protected_counts(clones.filter(pl.col("deviated")), ["arm"],
                                                  unit=UNIT, policy=policy),
    }
    labels = {name: dict(frame.select("arm", "n_label").iter_rows())
              for name, frame in counts.items()}
    allowed = set(curve_gate(result, policy).allowed)

    def months(value: float | None, missing: str, arm: str) -> str:
        if arm not in allowed:
            return "too few to show"
        return missing if value is None else f"{value:.1f}"

    return pl.DataFrame([{
        "Arm": ARM_NAMES[a.arm],
        **{name: labels[name].get(a.arm, "0") for name in counts},
        "Median, months": months(a.median_months, "not reached", a.arm),
        f"RMST {result.rmst_horizon_months:g} months": months(a.rmst_months, "beyond follow-up",
                                                              a.arm),
        "Largest weight": f"{a.weight_max:.2f}",
    } for a in result.arms])


def reference_table(result: EmulationResult) -> pl.DataFrame:
    rows = []
    for ref in result.protocol.references:
        if ref.endpoint != result.endpoint:
            continue
        rows.append({"Source": ref.source, "LCT median, months": f"{ref.lct_months:g}",
                     "Control median, months": "single arm" if ref.control_months is None
                     else f"{ref.control_months:g}", "HR": ref.hazard_ratio or "—"})
    return pl.DataFrame(rows)


@dataclass(frozen=True)
class Balance:
    table: pl.DataFrame  # term, smd_before, smd_after
    hazard_ratio: dict | None
    analysed: pl.DataFrame  # the analysed patients (for a protected count)
    dropped: pl.DataFrame  # incomplete rows left out


@st.cache_data(show_spinner="Fitting the propensity model…", max_entries=16)
def _balance(database: str, stamp: tuple, covariates: tuple[str, ...], method: str) -> Balance:
    del stamp
    rows = load_emulation_rows(Path(database)).drop_nulls("all_sites_treated")
    adjusted = adjust(rows, treatment="all_sites_treated", covariates=list(covariates),
                      method=method, required=["pfs_days", "pfs_event"])
    fit = fit_cox(adjusted.data, covariates=["all_sites_treated"], time="pfs_days",
                  event="pfs_event", weights=None if method == "match" else "weight",
                  cluster="pair_id" if method == "match" else None, robust=True)
    row = fit.terms.row(0, named=True)
    hr = ({k: row[k] for k in ("hazard_ratio", "ci_lower", "ci_upper")}
          if row["is_estimable"] else None)
    kept = adjusted.data.select(UNIT)
    dropped = rows.select(UNIT).join(kept, on=UNIT, how="anti")
    return Balance(adjusted.balance.select("term", "smd_before", "smd_after"), hr, kept, dropped)


def balance(database: Path, covariates: tuple[str, ...], method: str) -> Balance:
    return _balance(str(database), _stamp(database), covariates, method)


def balance_counts(result: Balance, policy: Policy) -> tuple[str, str]:
    return (protected_total(result.analysed, unit=UNIT, policy=policy).label,
            protected_total(result.dropped, unit=UNIT, policy=policy).label)

"""Data of the comparisons page (dashboards/views/emulation.py): a trial emulation and a
propensity-score balance, computed by `pipelines.stats` from the published file and cached
per file identity, with every count shown passed through the small-count rule."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import streamlit as st

from dashboards.data import _stamp
from dashboards.suppression import format_count
from pipelines.stats.cox import fit_cox
from pipelines.stats.emulation import PROTOCOLS, EmulationResult, emulate
from pipelines.stats.emulation_data import load_emulation_rows
from pipelines.stats.propensity import adjust

BALANCE_CHOICES = ("age_at_episode", "ecog_at_diagnosis", "n_lesions", "has_brain",
                   "is_synchronous", "driver_status")
ARM_NAMES = {"lct": "LCT of all sites", "no_lct": "no LCT"}


@st.cache_data(show_spinner="Emulating the trial…", max_entries=16)
def _emulation(database: str, stamp: tuple, trial: str, rmst_months: float) -> list[EmulationResult]:
    del stamp  # part of the cache key only
    return emulate(load_emulation_rows(Path(database)), PROTOCOLS[trial], rmst_months=rmst_months)


def emulation(database: Path, trial: str, rmst_months: float) -> list[EmulationResult]:
    return _emulation(str(database), _stamp(database), trial, rmst_months)


def attrition_table(result: EmulationResult, threshold: int) -> pl.DataFrame:
    return pl.DataFrame({"Step": [s for s, _ in result.attrition],
                         "Remaining": [format_count(n, threshold) for _, n in result.attrition]})


def arms_table(result: EmulationResult, threshold: int) -> pl.DataFrame:
    def months(value: float | None, missing: str) -> str:
        return missing if value is None else f"{value:.1f}"

    return pl.DataFrame([{
        "Arm": ARM_NAMES[a.arm],
        "Clones": format_count(a.n_clones, threshold),
        "Events": format_count(a.n_events, threshold),
        "Censored at deviation": format_count(a.n_censored_deviation, threshold),
        "Median, months": months(a.median_months, "not reached"),
        f"RMST {result.rmst_horizon_months:g} months": months(a.rmst_months, "beyond follow-up"),
        "Largest weight": f"{a.weight_max:.2f}",
    } for a in result.arms])


def is_too_small(result: EmulationResult, threshold: int) -> bool:
    """A curve of fewer clones than the threshold is not drawn."""
    return any(0 < a.n_clones < threshold for a in result.arms)


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
    n_analysed: int
    n_dropped: int


@st.cache_data(show_spinner="Fitting the propensity model…", max_entries=16)
def _balance(database: str, stamp: tuple, covariates: tuple[str, ...], method: str) -> Balance:
    del stamp
    rows = load_emulation_rows(Path(database))
    adjusted = adjust(rows, treatment="all_sites_treated", covariates=list(covariates),
                      method=method, required=["pfs_days", "pfs_event"])
    fit = fit_cox(adjusted.data, covariates=["all_sites_treated"], time="pfs_days",
                  event="pfs_event", weights=None if method == "match" else "weight",
                  cluster="pair_id" if method == "match" else None, robust=True)
    row = fit.terms.row(0, named=True)
    hr = ({k: row[k] for k in ("hazard_ratio", "ci_lower", "ci_upper")}
          if row["is_estimable"] else None)
    return Balance(adjusted.balance.select("term", "smd_before", "smd_after"), hr,
                   adjusted.data.height, adjusted.n_dropped_incomplete)


def balance(database: Path, covariates: tuple[str, ...], method: str) -> Balance:
    return _balance(str(database), _stamp(database), covariates, method)

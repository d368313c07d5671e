"""A seeded cohort with confounding by indication and a known true treatment effect.

The registry batches (`pipelines.synthetic.batch`) give radical treatment of all sites a
documented effect, but their outcomes do not depend on fitness, so a crude comparison there
is not confounded. This module makes the analysis rows of `marts.episode_cohort` and
`marts.episode_outcomes` (first episodes only) where it is, with the truth known exactly, so
a test can show that the crude hazard ratio is biased and that propensity-score weighting
recovers the truth (docs/statistics.md, "Adjustment"; docs/synthetic-registry.md).

Construction (every number from `Draws`, stream 2, so it is reproducible and independent of
the registry journeys):
- a latent fitness Z ~ N(0, 1) per patient; the observed baseline variables are noisy
  functions of it: ECOG 0–2 and the number of lesions 1–5 fall as Z rises, brain
  involvement is rarer, age lower;
- treatment (`all_sites_treated`) is drawn from a logistic model of those observed
  variables only: fitter patients with fewer lesions are treated more often. Given them,
  treatment is independent of Z: no unmeasured confounding;
- the potential PFS times share one uniform V = Φ(ρZ + √(1 − ρ²)ε), exactly uniform:
  T⁰ = −log(1 − V)/λ and T¹ = T⁰ / `true_hr`. So both are exactly exponential and the
  marginal hazard ratio of treatment is exactly `true_hr` at every time: the estimand of
  inverse-probability (ATE) weighting. Fitter patients live longer, so the treated look
  better than they are.
- administrative censoring, uniform over `followup_months`, independent of everything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.stats import norm

from pipelines.synthetic.draws import BLOCK_SIZE, Draws
from pipelines.synthetic.journeys import MONTH, PFS_MEDIAN

STREAM = 2  # the registry journeys use stream 0

# the treatment model (log-odds), on the covariates an analyst would enter as they are
TREATMENT_LOGIT = {"intercept": 1.2, "ecog_at_diagnosis": -0.9, "n_lesions": -0.35,
                   "has_brain": -0.6, "age_per_year": -0.03}
PROPENSITY_COVARIATES = ("age_at_episode", "ecog_at_diagnosis", "n_lesions", "has_brain")


@dataclass(frozen=True)
class ConfoundedSpec:
    patients: int = 4000
    seed: int = 1
    true_hr: float = 0.6  # marginal PFS hazard ratio of radical treatment of all sites
    untreated_median_days: float = PFS_MEDIAN["other"]  # 4 months, as the registry batches
    prognostic_rho: float = 0.8  # correlation of fitness with the PFS time's normal score
    followup_months: tuple[float, float] = (6.0, 60.0)


def confounded_cohort(spec: ConfoundedSpec = ConfoundedSpec()) -> pl.DataFrame:
    """One row per patient (first episode): `patient_id`, `episode_id`, the baseline columns
    of `marts.episode_cohort` used here, `all_sites_treated`, `pfs_days`, `pfs_event`, and
    the truth columns `true_fitness`, `pfs_days_if_untreated`, `pfs_days_if_treated`."""
    n = spec.patients
    draws = Draws(spec.seed, 0, -(-n // BLOCK_SIZE) * BLOCK_SIZE, stream=STREAM)

    def normal() -> np.ndarray:
        return norm.ppf(np.clip(draws.u()[:n], 1e-9, 1 - 1e-9))

    z = normal()
    ecog = np.digitize(-0.8 * z + 0.6 * normal(), [-0.3, 0.9])  # 0, 1, 2
    n_lesions = 1 + np.digitize(-0.6 * z + 0.8 * normal(), [-0.6, 0.0, 0.5, 1.0])  # 1..5
    has_brain = (-0.4 * z + normal()) > 1.0
    age = np.round(66 - 4 * z + 8 * normal()).clip(30, 90)
    female = draws.u()[:n] < 0.42
    logit = (TREATMENT_LOGIT["intercept"] + TREATMENT_LOGIT["ecog_at_diagnosis"] * ecog
             + TREATMENT_LOGIT["n_lesions"] * n_lesions + TREATMENT_LOGIT["has_brain"] * has_brain
             + TREATMENT_LOGIT["age_per_year"] * (age - 65))
    treated = draws.u()[:n] < 1 / (1 + np.exp(-logit))
    v = norm.cdf(spec.prognostic_rho * z + np.sqrt(1 - spec.prognostic_rho ** 2) * normal())
    rate = np.log(2) / spec.untreated_median_days
    t0 = -np.log1p(-np.minimum(v, 1 - 1e-12)) / rate
    t1 = t0 / spec.true_hr
    low, high = spec.followup_months
    censor = (low + (high - low) * draws.u()[:n]) * MONTH
    t = np.where(treated, t1, t0)
    ids = [f"C{i:07d}" for i in range(1, n + 1)]
    return pl.DataFrame({
        "patient_id": ids,
        "episode_id": [f"{p}-E1" for p in ids],
        "is_first_episode": True,
        "age_at_episode": age.astype(np.int64),
        "sex": np.where(female, "female", "male"),
        "ecog_at_diagnosis": ecog.astype(np.int64),
        "n_lesions": n_lesions.astype(np.int64),
        "has_brain": has_brain,
        "all_sites_treated": treated,
        # whole days, at least 1 (the registry's outcomes are day counts)
        "pfs_days": np.maximum(np.ceil(np.minimum(t, censor)), 1).astype(np.int64),
        "pfs_event": (t <= censor).astype(np.int64),
        "true_fitness": z,
        "pfs_days_if_untreated": t0,
        "pfs_days_if_treated": t1,
    })


def published_tables(cohort: pl.DataFrame, episode_date: dt.date = dt.date(2022, 1, 1)
                     ) -> dict[str, pl.DataFrame]:
    """The cohort as `marts.episode_cohort` and `marts.episode_outcomes` rows (origin
    `episode`; OS and widespread progression set equal to PFS: only PFS carries the truth)."""
    episodes = cohort.select(
        "patient_id", "episode_id", "is_first_episode", "age_at_episode", "sex",
        "ecog_at_diagnosis", "n_lesions", "has_brain", "all_sites_treated",
        episode_date=pl.lit(episode_date), lct_start_date=pl.lit(None, pl.Date),
        treatment_strategy=pl.when("all_sites_treated").then(pl.lit("lct_all_sites"))
        .otherwise(pl.lit("systemic_only")),
    )
    outcomes = cohort.select(
        "episode_id", "patient_id", "is_first_episode", "pfs_days", "pfs_event",
        origin=pl.lit("episode"), origin_date=pl.lit(episode_date),
        os_days="pfs_days", os_event="pfs_event", wsp_days="pfs_days", wsp_event="pfs_event",
        ttnt_days="pfs_days", ttnt_status=pl.lit(0, pl.Int64),
    )
    return {"episode_cohort": episodes, "episode_outcomes": outcomes}

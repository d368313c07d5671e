"""Confounding by indication with a known truth (pipelines/synthetic/confounding.py): the
crude hazard ratio is biased, inverse-probability weighting on the baseline variables
recovers the generator's true marginal HR (0.6) within its CI, in the library and through
`oligo survival --weights iptw` on a published snapshot of the same rows."""

from __future__ import annotations

import json

import polars as pl
import pytest

from pipelines.cli import main
from pipelines.stats.cox import fit_cox
from pipelines.stats.propensity import adjust, balance_table
from pipelines.synthetic.confounding import PROPENSITY_COVARIATES, ConfoundedSpec, confounded_cohort
from tests.stats.published_fixture import build_published

SPEC = ConfoundedSpec()
TRUE_HR = SPEC.true_hr


@pytest.fixture(scope="module")
def cohort() -> pl.DataFrame:
    return confounded_cohort(SPEC)


def _hr(fit) -> dict:
    return fit.terms.filter(pl.col("column") == "all_sites_treated").row(0, named=True)


def test_generator_is_seeded_and_its_truth_is_exact(cohort):
    assert confounded_cohort(SPEC).equals(cohort)
    assert not confounded_cohort(ConfoundedSpec(seed=2)).equals(cohort)
    ratio = cohort["pfs_days_if_untreated"] / cohort["pfs_days_if_treated"]
    assert (ratio - TRUE_HR).abs().max() < 1e-9
    # confounding by indication: the treated are fitter, with fewer lesions
    means = cohort.group_by("all_sites_treated").agg(pl.col("true_fitness", "n_lesions").mean())
    fitness = dict(means.select("all_sites_treated", "true_fitness").iter_rows())
    assert fitness[True] > fitness[False] + 0.3


def test_crude_hr_is_biased_and_weighting_recovers_the_truth(cohort):
    crude = _hr(fit_cox(cohort, covariates=["all_sites_treated"], time="pfs_days",
                        event="pfs_event"))
    assert crude["ci_upper"] < TRUE_HR - 0.1, crude  # biased towards benefit
    adjusted = adjust(cohort, treatment="all_sites_treated", covariates=PROPENSITY_COVARIATES,
                      required=["pfs_days", "pfs_event"])
    weighted = _hr(fit_cox(adjusted.data, covariates=["all_sites_treated"], time="pfs_days",
                           event="pfs_event", weights="weight"))
    assert weighted["ci_lower"] < TRUE_HR < weighted["ci_upper"], weighted
    balance = adjusted.balance
    assert (balance["smd_before"].abs() > 0.25).all() and (balance["smd_after"].abs() < 0.1).all()
    # the unmeasured latent fitness is balanced too: no unmeasured confounding given them
    treated = adjusted.data["all_sites_treated"].cast(pl.Int64).to_numpy()
    latent = balance_table(adjusted.data.select("true_fitness").to_numpy(), ["fitness"], treated,
                           adjusted.data["weight"].to_numpy())
    assert abs(latent["smd_before"][0]) > 0.3 and abs(latent["smd_after"][0]) < 0.1


def test_oligo_survival_weights_recover_the_truth(cohort, tmp_path, monkeypatch, capsys):
    from pipelines.synthetic.confounding import published_tables

    build_published(tmp_path, tables=published_tables(cohort))
    monkeypatch.setenv("OLIGO_HOME", str(tmp_path))
    assert main(["survival", "--endpoint", "pfs", "--by", "all_sites_treated", "--weights",
                 "iptw", "--covariates", ",".join(PROPENSITY_COVARIATES), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    crude = doc["report"]["hazard_ratios"][0]
    weighted = doc["comparative"]["weighted"]["hazard_ratio"]["terms"][0]
    assert crude["ci_upper"] < TRUE_HR < weighted["ci_upper"]
    assert weighted["ci_lower"] < TRUE_HR, weighted
    assert doc["comparative"]["weighted"]["n_analysed"] == SPEC.patients

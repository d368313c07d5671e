"""Log-rank and Cox against R survival on the `aml` data (tests/stats/aml.py)."""

import polars as pl
import pytest

from pipelines.stats import cox_hazard_ratios, logrank_test
from tests.stats.aml import aml


def test_logrank_matches_r_survdiff() -> None:
    # survdiff(Surv(time, status) ~ x, data = aml): Chisq = 3.4 on 1 df, p = 0.06533932204
    row = logrank_test(aml(), group="x").row(0, named=True)
    assert row["df"] == 1 and row["n_groups"] == 2
    assert row["chisq"] == pytest.approx(3.396389, abs=1e-5)
    assert row["p_value"] == pytest.approx(0.06533932204, abs=1e-8)


def test_cox_hazard_ratio_matches_r_coxph() -> None:
    # coxph(Surv(time, status) ~ x, data = aml): exp(coef) 2.498105326, 0.9159072574-6.813495766
    hr = cox_hazard_ratios(aml(), group="x", reference="Maintained").row(0, named=True)
    assert (hr["level"], hr["reference"], hr["n"], hr["n_events"]) == (
        "Nonmaintained",
        "Maintained",
        12,
        11,
    )
    assert hr["hazard_ratio"] == pytest.approx(2.498105326, rel=1e-5)
    assert hr["ci_lower"] == pytest.approx(0.9159072574, rel=1e-5)
    assert hr["ci_upper"] == pytest.approx(6.813495766, rel=1e-5)
    assert hr["p_value"] == pytest.approx(0.073715, abs=1e-5)


def test_reference_level_is_stated_and_reversible() -> None:
    hr = cox_hazard_ratios(aml(), group="x", reference="Nonmaintained").row(0, named=True)
    assert hr["level"] == "Maintained"
    assert hr["hazard_ratio"] == pytest.approx(1 / 2.498105326, rel=1e-5)
    with pytest.raises(ValueError, match="reference level"):
        cox_hazard_ratios(aml(), group="x", reference="absent")


def test_cluster_robust_variance_matches_r_without_ties() -> None:
    # R: aml$time2 <- aml$time + (1:23)/100;
    #    coxph(Surv(time2, status) ~ x, data = aml, cluster = id) with the ids below:
    #    coef 0.8798642181, robust se 0.5736739585, 95% CI 0.7830833968-7.420485718
    # (with tied times lifelines' robust variance differs slightly from R's Efron
    # residuals, so the ties are broken here; see docs/statistics.md)
    ids = [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12]
    data = aml().with_columns(
        time_days=pl.col("time_days") + pl.int_range(1, 24) / 100, patient_id=pl.Series(ids)
    )
    hr = cox_hazard_ratios(data, group="x", reference="Maintained", cluster="patient_id").row(
        0, named=True
    )
    assert hr["is_cluster_robust"]
    assert hr["hazard_ratio"] == pytest.approx(2.410572372, rel=1e-5)
    assert hr["ci_lower"] == pytest.approx(0.7830833968, rel=1e-4)
    assert hr["ci_upper"] == pytest.approx(7.420485718, rel=1e-4)


def test_level_without_events_gets_null_not_a_failure() -> None:
    data = pl.DataFrame(
        {
            "time_days": [5, 8, 12, 20, 30, 40],
            "event": [1, 1, 0, 1, 0, 0],
            "arm": ["a", "a", "a", "b", "b", "c"],
        }
    )
    table = cox_hazard_ratios(data, group="arm", reference="a").sort("level")
    assert table["level"].to_list() == ["b", "c"]
    assert table.filter(pl.col("level") == "c")["hazard_ratio"].item() is None


def test_single_group_logrank_is_null() -> None:
    row = logrank_test(aml().filter(pl.col("x") == "Maintained"), group="x").row(0, named=True)
    assert row["n_groups"] == 1 and row["p_value"] is None

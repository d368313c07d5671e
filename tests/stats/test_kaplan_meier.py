"""Kaplan–Meier curves, CIs, medians and rates against R survival on the `aml` data."""

import math

import polars as pl
import pytest

from pipelines.stats import kaplan_meier, median_survival, numbers_at_risk, survival_at
from tests.stats.aml import (
    R_LOG_MAINTAINED,
    R_LOG_NONMAINTAINED,
    R_LOGLOG_MAINTAINED,
    aml,
)


def _at(curve: pl.DataFrame, group: str, t: float) -> dict:
    return curve.filter((pl.col("group") == group) & (pl.col("time_days") == t)).row(0, named=True)


def test_log_transform_reproduces_r_survfit_intervals() -> None:
    curve = kaplan_meier(aml(), group="x", ci="log")
    for group, expected in (
        ("Maintained", R_LOG_MAINTAINED),
        ("Nonmaintained", R_LOG_NONMAINTAINED),
    ):
        for t, surv, lower, upper in expected:
            row = _at(curve, group, t)
            assert row["survival"] == pytest.approx(surv, abs=1e-9)
            assert row["ci_lower"] == pytest.approx(lower, abs=1e-9)
            assert row["ci_upper"] == pytest.approx(upper, abs=1e-9)


def test_log_log_transform_is_the_default_and_matches_r() -> None:
    curve = kaplan_meier(aml(), group="x")
    for t, lower, upper in R_LOGLOG_MAINTAINED:
        row = _at(curve, "Maintained", t)
        assert row["ci_lower"] == pytest.approx(lower, abs=1e-9)
        assert row["ci_upper"] == pytest.approx(upper, abs=1e-9)


def test_curve_reaching_zero_has_no_interval_and_starts_at_one() -> None:
    curve = kaplan_meier(aml(), group="x", ci="log")
    last = _at(curve, "Nonmaintained", 45)
    assert last["survival"] == 0 and math.isnan(last["ci_lower"])
    start = _at(curve, "Maintained", 0)
    assert (start["survival"], start["ci_lower"], start["ci_upper"]) == (1.0, 1.0, 1.0)


def test_medians_follow_r_rule_for_both_transforms() -> None:
    # print(survfit(...)): log -> 31 (18, NA), 23 (8, NA); log-log -> 31 (13, NA), 23 (5, 33)
    log = median_survival(kaplan_meier(aml(), group="x", ci="log")).sort("group")
    assert log.select("median_days", "median_ci_lower_days", "median_ci_upper_days").rows() == [
        (31.0, 18.0, None),
        (23.0, 8.0, None),
    ]
    loglog = median_survival(kaplan_meier(aml(), group="x", ci="log-log")).sort("group")
    assert loglog.select(
        "median_days", "median_ci_lower_days", "median_ci_upper_days"
    ).rows() == [(31.0, 13.0, None), (23.0, 5.0, 33.0)]
    overall = median_survival(kaplan_meier(aml(), ci="log")).row(0, named=True)
    assert (overall["n"], overall["n_events"], overall["median_days"]) == (23, 18, 27.0)
    assert (overall["median_ci_lower_days"], overall["median_ci_upper_days"]) == (18.0, 45.0)
    assert overall["median_months"] == pytest.approx(27 / 30.4375)


def test_median_exactly_at_half_takes_the_midpoint_like_r() -> None:
    # R: survfit(Surv(c(1,2,3,4), c(1,1,1,1)) ~ 1) prints median 2.5
    four_deaths = pl.DataFrame({"time_days": [1, 2, 3, 4], "event": [1, 1, 1, 1]})
    assert median_survival(kaplan_meier(four_deaths, ci="log"))["median_days"].item() == 2.5
    # R prints 2 when the curve stays at 0.5 until the end of follow-up
    flat = pl.DataFrame({"time_days": [1, 2, 3, 4], "event": [1, 1, 0, 0]})
    assert median_survival(kaplan_meier(flat, ci="log"))["median_days"].item() == 2.0


def test_median_not_reached_is_null() -> None:
    few_events = pl.DataFrame({"time_days": [10, 20, 30, 40], "event": [1, 0, 0, 0]})
    assert median_survival(kaplan_meier(few_events))["median_days"].item() is None


def test_survival_at_times_matches_r_summary() -> None:
    # summary(survfit(Surv(time, status) ~ 1, data = aml), times = c(12, 24))
    rates = survival_at(kaplan_meier(aml(), ci="log"), [12, 24, 500])
    assert rates["survival"].to_list()[:2] == pytest.approx([0.7391304348, 0.5465838509])
    assert rates["ci_lower"].to_list()[:2] == pytest.approx([0.5797992180, 0.3720780872])
    assert rates["ci_upper"].to_list()[:2] == pytest.approx([0.9422465272, 0.8029333528])
    assert rates["survival"].to_list()[2] is None  # beyond the last follow-up (161)


def test_numbers_at_risk_match_r() -> None:
    # summary(survfit(Surv(time, status) ~ 1, data = aml), times = seq(0, 48, 12))$n.risk
    table = numbers_at_risk(aml(), days=[0, 12, 24, 36, 48])
    assert table["n_at_risk"].to_list() == [23, 18, 11, 5, 2]
    by_group = numbers_at_risk(aml(), days=[0], group="x")
    assert dict(by_group.select("group", "n_at_risk").rows()) == {
        "Maintained": 11,
        "Nonmaintained": 12,
    }


def test_unknown_transform_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown CI transform"):
        kaplan_meier(aml(), ci="plain")  # type: ignore[arg-type]

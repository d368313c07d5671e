"""Aalen–Johansen cumulative incidence (ties), reverse-KM follow-up, landmark cohorts."""

import polars as pl
import pytest

from pipelines.clinical.parameters import ClinicalParameters
from pipelines.stats import (
    cumulative_incidence,
    cumulative_incidence_at,
    landmark_cohort,
    landmark_days,
    median_followup,
)
from tests.stats.aml import STATUS, TIME

# Hand-made, with tied times (3: an event, a death and a censoring; 5: both causes; 8: two
# deaths). status 0 censored, 1 local failure, 2 death first.
TIED = pl.DataFrame(
    {
        "lf_days": [2, 3, 3, 3, 5, 5, 6, 7, 8, 8, 10, 12],
        "lf_status": [1, 1, 2, 0, 2, 1, 0, 1, 2, 2, 0, 1],
    }
)


def test_cumulative_incidence_with_ties_checked_by_hand() -> None:
    cif = cumulative_incidence(TIED, time="lf_days", status="lf_status", cause=1)
    at = dict(cif.select("time_days", "cumulative_incidence").rows())
    # S(t-) * d1/n at each time: 1*1/12; + (11/12)*1/11; + (3/4)*1/8; + (9/16)*1/5; + (9/40)*1/1
    assert at[2.0] == pytest.approx(1 / 12)
    assert at[3.0] == pytest.approx(1 / 12 + 1 / 12)
    assert at[5.0] == pytest.approx(1 / 6 + 3 / 32)
    assert at[7.0] == pytest.approx(1 / 6 + 3 / 32 + 9 / 80)
    assert at[12.0] == pytest.approx(1 / 6 + 3 / 32 + 9 / 80 + 9 / 40)
    # R: survfit(Surv(time, factor(status)) ~ 1): Pr(1) = .0833 .1667 .2604 .3729 .5979
    assert [at[t] for t in (2.0, 3.0, 5.0, 7.0, 12.0)] == pytest.approx(
        [0.0833333333, 0.1666666667, 0.2604166667, 0.3729166667, 0.5979166667]
    )
    deaths = cumulative_incidence(TIED, time="lf_days", status="lf_status", cause=2)
    # R: Pr(2) = 0, .0833, .1771, .1771, .4021, .4021
    assert deaths.filter(pl.col("time_days") == 8)["cumulative_incidence"].item() == (
        pytest.approx(0.4020833333)
    )


def test_naive_one_minus_km_exceeds_the_cif_when_deaths_compete() -> None:
    cif = cumulative_incidence(TIED, time="lf_days", status="lf_status", cause=1)
    final = cif.filter(pl.col("time_days") == 12).row(0, named=True)
    # censoring the deaths would say everyone fails by 12; the AJ estimate says 0.598
    assert final["one_minus_km"] == pytest.approx(1.0)
    assert final["cumulative_incidence"] < final["one_minus_km"]
    # and the two causes plus event-free survival add up to one (all-cause KM is 0 at 12)
    deaths = cumulative_incidence(TIED, time="lf_days", status="lf_status", cause=2)
    total = final["cumulative_incidence"] + deaths["cumulative_incidence"].max()
    assert total == pytest.approx(1.0)


def test_cumulative_incidence_at_times_and_groups() -> None:
    grouped = TIED.with_columns(organ=pl.Series(["lung"] * 6 + ["bone"] * 6))
    cif = cumulative_incidence(grouped, time="lf_days", status="lf_status", group="organ")
    table = cumulative_incidence_at(cif, [4, 100])
    lung = table.filter(pl.col("group") == "lung")
    assert lung["cumulative_incidence"].to_list() == [pytest.approx(2 / 6), None]


def test_reverse_km_median_followup_matches_r() -> None:
    # R: survfit(Surv(time, 1 - status) ~ 1, data = aml): median 161, 0.95LCL 45, UCL NA
    data = pl.DataFrame({"followup_days": TIME, "followup_event": [1 - s for s in STATUS]})
    row = median_followup(data, ci="log").row(0, named=True)
    assert row["median_followup_days"] == 161.0
    assert row["median_followup_ci_lower_days"] == 45.0
    assert row["median_followup_ci_upper_days"] is None


EPISODES = pl.LazyFrame(
    {
        "patient_id": ["died_early", "lct_early", "lct_late", "no_lct", "censored_before", "at_lm"],
        "os_days": [100.0, 400.0, 500.0, 300.0, 150.0, 182.625],
        "os_event": [1, 1, 0, 1, 0, 1],
        "lct_start_days": [20.0, 30.0, 250.0, None, 10.0, 10.0],
    }
)


def test_landmark_excludes_patients_not_at_risk_and_groups_by_lct_before_it() -> None:
    at = landmark_days(ClinicalParameters())
    assert at == pytest.approx(182.625)  # 6 months of 30.4375 days
    cohort = landmark_cohort(
        EPISODES, at_days=at, time="os_days", lct_start="lct_start_days"
    ).collect()
    # died before, censored before, and the event on the landmark day are excluded
    assert cohort["patient_id"].to_list() == ["lct_early", "lct_late", "no_lct"]
    # LCT after the landmark counts as no LCT: that is the point of the landmark
    assert cohort["has_lct_by_landmark"].to_list() == [True, False, False]
    assert cohort["os_days"].to_list() == pytest.approx([400 - at, 500 - at, 300 - at])


def test_landmark_shorter_than_lct_window_is_refused() -> None:
    with pytest.raises(ValueError, match="shorter than the LCT window"):
        landmark_days(ClinicalParameters(), months=3)
    assert landmark_days(ClinicalParameters(), months=12) == pytest.approx(365.25)

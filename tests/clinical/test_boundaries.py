"""Boundary cases named in docs/clinical-rules.md: each threshold at its value and one past it."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters
from tests.clinical.conftest import derive, lesion
from tests.clinical.test_outcomes import _episode


@pytest.mark.parametrize(("extra", "state"), [(0, "oligo"), (1, "poly")])
@pytest.mark.parametrize("max_lesions", [DEFAULT_PARAMETERS.max_lesions, 3])
def test_max_lesions_and_one_more(max_lesions, extra, state):
    lesions = [lesion(f"L{i}", "2024-01-05") for i in range(max_lesions + extra)]
    out = derive(ClinicalParameters(max_lesions=max_lesions), metastases=lesions)
    assert out["disease_assessments"]["assessment_state"].to_list() == [state]
    assert out["omd_episodes"].height == (1 if state == "oligo" else 0)


@pytest.mark.parametrize(("gap", "n_assessments"), [(42, 1), (43, 2)])
def test_progression_on_day_42_joins_the_group_day_43_does_not(gap, n_assessments):
    progression = (dt.date(2024, 1, 5) + dt.timedelta(days=gap)).isoformat()
    out = derive(metastases=[lesion("L1", "2024-01-05")],
                 disease_events=[{"event_id": "e1", "event_date": progression,
                                  "event_type": "lesion_progression", "lesion_id": "L1"}])
    assert out["disease_assessments"].height == n_assessments


@pytest.mark.parametrize(("gap", "kinds"), [
    (42, ["detection", "detection"]),                        # day 42: inside, no decision
    (43, ["detection", "detection", "treatment_decision"]),  # day 43: outside
])
def test_treatment_decision_window_day_42_inside_day_43_outside(gap, kinds):
    poly = [lesion(f"P{i}", "2024-01-05") for i in range(6)]  # every assessment is poly
    start = dt.date(2024, 6, 1)
    new = (start - dt.timedelta(days=gap)).isoformat()
    out = derive(metastases=[*poly, lesion("N1", new, "bone")],
                 radiotherapy=[{"course_id": "c1", "total_dose_gy": 50.0, "fractions": 5,
                                "technique": "sbrt", "target": "P0",
                                "start_date": start.isoformat()}])
    assert out["disease_assessments"]["assessment_kind"].to_list() == kinds


@pytest.mark.parametrize(("months_after", "state"), [(6, "synchronous_omd"),
                                                     (7, "metachronous_oligorecurrence")])
def test_synchronous_boundary_six_calendar_months(months_after, state):
    detected = dt.date(2024, 1 + months_after, 10).isoformat()
    out = derive(metastases=[lesion("L1", detected)])
    assert out["omd_episodes"]["omd_state"].to_list() == [state]


def test_death_on_the_origin_day_is_an_event_at_day_0():
    row = _episode(death=0)
    assert (row["os_days"], row["os_event"]) == (0, 1)
    assert (row["pfs_days"], row["pfs_event"]) == (0, 1)


def test_death_on_the_diagnosis_day_is_analysable():
    # A patient who died on the day of diagnosis with a metastasis found that day.
    out = derive(patients=[{"patient_id": "p1", "vital_status": "dead",
                            "death_date": "2024-01-10", "last_contact_date": "2024-01-10"}],
                 metastases=[lesion("L1", "2024-01-10")])
    assert out["omd_episodes"]["omd_state"].to_list() == ["synchronous_omd"]
    assert out["omd_episodes"]["months_from_diagnosis"].to_list() == [0.0]

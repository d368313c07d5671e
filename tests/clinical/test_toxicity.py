"""Section 6 of docs/clinical-rules.md: toxicity per course, acute (<= 90 days) and late."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.clinical.parameters import ClinicalParameters
from pipelines.clinical.toxicity import TOXICITY_SUMMARY_COLUMNS, derive_toxicity_summary
from tests.clinical.fixtures_treatments import rows, staging

START = dt.date(2024, 1, 1)
CUTOFF = dt.date(2025, 6, 1)


def _day(offset: int) -> dt.date:
    return START + dt.timedelta(days=offset)


def _tox(offset: int, grade: int, attribution: str | None = "radiotherapy",
         term: str = "Fatigue", course: str | None = "C1") -> dict:
    return {"toxicity_id": f"T{offset}{grade}{attribution}{term}", "patient_id": "P",
            "course_id": course, "onset_date": _day(offset), "ctcae_term": term,
            "grade": grade, "attribution": attribution}


def _summary(*toxicities, params=None) -> dict[str, dict]:
    radiotherapy = [
        {"course_id": "C1", "patient_id": "P", "target": "primary", "phase": 1,
         "start_date": START, "total_dose_gy": 45.0, "fractions": 15},
        {"course_id": "C1", "patient_id": "P", "target": "primary", "phase": 2,
         "start_date": _day(30), "total_dose_gy": 15.0, "fractions": 5},
        {"course_id": "C2", "patient_id": "P", "target": "L1", "phase": 1,
         "start_date": _day(200), "total_dose_gy": 54.0, "fractions": 3},
    ]
    s = staging(radiotherapy=radiotherapy, toxicities=list(toxicities))
    out = derive_toxicity_summary(s, CUTOFF, params or ClinicalParameters())
    assert tuple(out.collect_schema().names()) == TOXICITY_SUMMARY_COLUMNS
    return {r["course_id"]: r for r in rows(out)}


@pytest.mark.parametrize(("onset", "acute", "late"), [(90, 2, 0), (91, 0, 2), (0, 2, 0)])
def test_acute_up_to_90_days_from_the_course_start_late_after(onset, acute, late):
    c1 = _summary(_tox(onset, 2))["C1"]
    assert (c1["max_grade_acute"], c1["max_grade_late"]) == (acute, late)
    assert (c1["max_grade_acute_rt"], c1["max_grade_late_rt"]) == (acute, late)


def test_acute_window_is_a_parameter():
    c1 = _summary(_tox(61, 2), params=ClinicalParameters(acute_toxicity_days=60))["C1"]
    assert (c1["max_grade_acute"], c1["max_grade_late"]) == (0, 2)


def test_worst_grade_and_attribution():
    out = _summary(
        _tox(10, 1), _tox(20, 3, attribution="systemic"), _tox(30, 2, attribution="both"),
        _tox(200, 4, attribution="unrelated"), _tox(300, 1, attribution=None),
    )
    c1 = out["C1"]
    assert (c1["max_grade_acute"], c1["max_grade_acute_rt"]) == (3, 2)
    assert (c1["max_grade_late"], c1["max_grade_late_rt"]) == (4, 0)
    assert c1["has_grade3plus"] is True
    assert c1["has_pneumonitis_grade2plus"] is False


def test_every_course_has_a_row_and_zero_means_none_recorded():
    out = _summary(_tox(10, 2, term="Pneumonitis"))
    assert set(out) == {"C1", "C2"}
    assert out["C1"]["has_pneumonitis_grade2plus"] is True
    c2 = out["C2"]
    assert (c2["max_grade_acute"], c2["max_grade_late"], c2["has_grade3plus"]) == (0, 0, False)


def test_events_before_the_course_or_after_the_cutoff_or_without_course_are_left_out():
    out = _summary(_tox(-1, 3), _tox(600, 3), _tox(20, 3, course=None))
    assert out["C1"]["max_grade_acute"] == 0 and out["C1"]["max_grade_late"] == 0
    assert out["C1"]["has_grade3plus"] is False

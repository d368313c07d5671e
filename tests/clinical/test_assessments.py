"""Assessments: grouping window, counting basis, states, treatment decisions."""

import datetime as dt

import polars as pl
import pytest

from pipelines.clinical.assessments import group_dates
from pipelines.clinical.parameters import ClinicalParameters


@pytest.mark.parametrize(("gap_days", "n_assessments"), [(41, 1), (42, 1), (43, 2)])
def test_grouping_window_41_42_43_days(derive, lesion, gap_days, n_assessments):
    second = (dt.date(2024, 1, 5) + dt.timedelta(days=gap_days)).isoformat()
    out = derive(metastases=[lesion("L1", "2024-01-05"), lesion("L2", second, "bone")])
    da = out["disease_assessments"]
    assert da.height == n_assessments
    assert da["assessment_date"][0] == dt.date(2024, 1, 5)  # dated at the first
    if n_assessments == 1:
        assert da["n_lesions"].to_list() == [2]


def test_grouping_is_anchored_at_the_first_event_not_chained():
    # Day 0, 30, 60: 60 is more than 42 days after the group's first date -> a new group,
    # although only 30 days after the previous event.
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=n) for n in (0, 30, 60, 85, 200)]
    frame = pl.LazyFrame({"patient_id": ["a"] * 5 + ["b"], "event_date": days + [days[0]]})
    out = group_dates(frame, 42).sort("patient_id", "event_date").collect()
    assert out["group_date"].to_list() == [days[0], days[0], days[2], days[2], days[4],
                                           days[0]]


def test_progression_and_detection_within_window_form_one_assessment(derive, lesion):
    out = derive(metastases=[lesion("L1", "2024-01-05"), lesion("L2", "2024-09-20", "bone")],
                 disease_events=[{"event_id": "e1", "event_date": "2024-09-01",
                                  "event_type": "lesion_progression", "lesion_id": "L1"}])
    da = out["disease_assessments"]
    assert da["assessment_kind"].to_list() == ["detection", "detection_progression"]
    assert da["assessment_date"][1] == dt.date(2024, 9, 1)


def test_unconfirmed_immunotherapy_progression_is_not_a_progression(derive, lesion):
    out = derive(metastases=[lesion("L1", "2024-01-05")],
                 disease_events=[{"event_id": "e1", "event_date": "2024-09-01",
                                  "event_type": "lesion_progression", "lesion_id": "L1",
                                  "confirmed": False}])
    assert out["disease_assessments"].height == 1


def test_more_than_max_lesions_is_poly_and_sensitivity_parameter(derive, lesion):
    lesions = [lesion(f"L{i}", "2024-01-05") for i in range(4)]
    assert derive(metastases=lesions)["disease_assessments"]["assessment_state"].to_list() == [
        "oligo"]
    out = derive(ClinicalParameters(max_lesions=3), metastases=lesions)
    assert out["disease_assessments"]["assessment_state"].to_list() == ["poly"]
    assert out["omd_episodes"].height == 0


def test_max_organs_parameter(derive, lesion):
    lesions = [lesion("L1", "2024-01-05", "liver"), lesion("L2", "2024-01-05", "bone"),
               lesion("L3", "2024-01-05", "brain"), lesion("L4", "2024-01-05", "lung")]
    assert derive(metastases=lesions)["omd_episodes"].height == 1  # no organ limit
    out = derive(ClinicalParameters(max_organs=3), metastases=lesions)
    assert out["disease_assessments"]["assessment_state"].to_list() == ["poly"]


def test_diffuse_lesion_makes_state_not_omd_and_counts_as_prior_poly(derive, lesion):
    out = derive(metastases=[
        lesion("L1", "2024-01-05", "pleura", is_diffuse=True, resolved_date="2024-03-01"),
        lesion("L2", "2024-08-01", "bone"),
    ])
    assert out["disease_assessments"]["assessment_state"].to_list() == [
        "not_omd_diffuse", "oligo"]
    assert out["omd_episodes"]["omd_state"].to_list() == ["induced_oligorecurrence"]


def test_oligoprogression_counts_progressing_lesions_only(derive, lesion):
    # Under systemic therapy, 5 stable lesions and 2 progressing: 2 counted (CURB-style).
    lesions = [lesion(f"L{i}", "2024-01-05", "bone" if i < 3 else "liver") for i in range(7)]
    events = [{"event_id": f"e{i}", "event_date": "2024-10-01",
               "event_type": "lesion_progression", "lesion_id": f"L{i}"} for i in (0, 5)]
    out = derive(metastases=lesions, disease_events=events, systemic_therapies=[
        {"therapy_id": "s1", "drug_name": "osimertinib", "start_date": "2024-01-20"}])
    da = out["disease_assessments"].row(1, named=True)
    assert da["progression_count_basis"] == "progressing"
    assert (da["n_lesions"], da["n_organs"], da["n_stable_lesions"]) == (2, 2, 5)
    assert out["omd_episodes"]["omd_state"].to_list() == ["induced_oligoprogression"]


def test_progression_off_therapy_counts_all_active(derive, lesion):
    lesions = [lesion(f"L{i}", "2024-01-05") for i in range(5)]
    events = [{"event_id": "e1", "event_date": "2024-10-01",
               "event_type": "lesion_progression", "lesion_id": "L0"}]
    out = derive(metastases=[*lesions, lesion("L9", "2024-10-02")], disease_events=events)
    da = out["disease_assessments"].row(1, named=True)
    assert (da["progression_count_basis"], da["n_lesions"], da["assessment_state"]) == (
        "all_active", 6, "poly")


def test_treatment_decision_needs_no_event_in_preceding_window(derive, lesion):
    # Residual lesion of a poly state treated 30 days after a new detection: no decision.
    lesions = [lesion(f"P{i}", "2024-01-05", resolved_date="2024-04-01" if i else None)
               for i in range(6)]
    sbrt = {"course_id": "c1", "total_dose_gy": 50.0, "fractions": 5, "technique": "sbrt",
            "target": "P0", "start_date": "2024-06-01"}
    out = derive(metastases=[*lesions, lesion("N1", "2024-05-02", "bone")], radiotherapy=[sbrt])
    kinds = out["disease_assessments"]["assessment_kind"].to_list()
    assert kinds == ["detection", "detection"]
    out = derive(metastases=lesions, radiotherapy=[sbrt])
    assert out["disease_assessments"]["assessment_kind"].to_list() == [
        "detection", "treatment_decision"]


def test_local_therapy_of_primary_never_creates_an_assessment(derive):
    lesions = [{"lesion_id": f"P{i}", "organ": "liver", "detected_date": "2024-01-05"}
               for i in range(6)]
    out = derive(metastases=lesions, radiotherapy=[
        {"course_id": "c1", "total_dose_gy": 60.0, "fractions": 8, "technique": "sbrt",
         "target": "primary", "start_date": "2024-06-01"}])
    assert out["disease_assessments"].height == 1


def test_treatment_decision_on_a_resolved_lesion_is_no_assessment(derive, lesion):
    # Found by the property test: a diffuse lesion resolved, then treated.
    out = derive(metastases=[lesion("L1", "2024-01-05", "pleura", is_diffuse=True,
                                    resolved_date="2024-01-06")],
                 radiotherapy=[{"course_id": "c1", "total_dose_gy": 50.0, "fractions": 5,
                                "technique": "sbrt", "target": "L1",
                                "start_date": "2024-03-01"}])
    assert out["disease_assessments"]["assessment_kind"].to_list() == ["detection"]

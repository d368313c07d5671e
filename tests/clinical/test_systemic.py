"""Active systemic therapy (docs/clinical-rules.md section 3)."""

import datetime as dt

import polars as pl
import pytest

from pipelines.clinical.systemic import with_systemic_therapy


def _active(frame, drug, start, end, at="2024-06-01"):
    therapies = frame("systemic_therapies", [{"therapy_id": "s1", "patient_id": "p1",
                                              "drug_name": drug, "start_date": start,
                                              "end_date": end}])
    dates = pl.LazyFrame({"patient_id": ["p1"], "assessment_date": [dt.date.fromisoformat(at)]})
    return with_systemic_therapy(dates, therapies).collect()["on_systemic_therapy"][0]


@pytest.mark.parametrize(("start", "end", "expected"), [
    ("2024-01-01", None, True),  # ongoing
    ("2024-01-01", "2024-05-02", True),  # ended 30 days before: within the gap
    ("2024-01-01", "2024-05-01", False),  # ended 31 days before
    ("2024-06-01", None, False),  # starts on the day: not before it
])
def test_active_window(frame, start, end, expected):
    assert _active(frame, "carboplatin", start, end) is expected


@pytest.mark.parametrize("drug", ["denosumab", "zoledronic acid", "dexamethasone"])
def test_bone_agents_and_steroids_are_not_systemic_therapy(frame, drug):
    assert _active(frame, drug, "2024-01-01", None) is False


def test_bone_agent_does_not_turn_recurrence_into_progression(derive, lesion):
    out = derive(metastases=[lesion("L1", "2025-01-01", "bone")], systemic_therapies=[
        {"therapy_id": "s1", "drug_name": "denosumab", "atc_code": "M05BX04",
         "start_date": "2024-06-01"}])
    assert out["omd_episodes"]["omd_state"].to_list() == ["metachronous_oligorecurrence"]

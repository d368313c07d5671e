"""Section 6 of docs/clinical-rules.md: episode and lesion outcomes, case by case."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.clinical.lct import derive_episode_lct
from pipelines.clinical.lines import derive_therapy_lines
from pipelines.clinical.local_therapy import derive_local_treatments
from pipelines.clinical.outcomes import (
    EPISODE_OUTCOME_COLUMNS,
    LESION_OUTCOME_COLUMNS,
    derive_episode_outcomes,
    derive_lesion_outcomes,
)
from tests.clinical.fixtures_treatments import (
    disease_assessments,
    episode_lesions,
    omd_episodes,
    rows,
    staging,
)

EPISODE = dt.date(2024, 1, 1)
CUTOFF = dt.date(2025, 1, 1)  # 366 days after the episode (2024 is a leap year)


def day(offset: int) -> str:
    return (EPISODE + dt.timedelta(days=offset)).isoformat()


def _patient(death: int | None = None, last_contact: int = 366) -> dict:
    return {"patient_id": "P", "sex": "F", "birth_year": 1950,
            "vital_status": "dead" if death is not None else "alive",
            "death_date": None if death is None else day(death),
            "last_contact_date": day(death if death is not None else last_contact)}


def _lesion(lesion_id: str, detected: int, organ: str = "lung") -> dict:
    return {"lesion_id": lesion_id, "patient_id": "P", "organ": organ,
            "detected_date": day(detected)}


def _exam(offset: int, modality: str = "ct") -> dict:
    return {"exam_id": f"X{offset}{modality}", "patient_id": "P", "exam_date": day(offset),
            "modality": modality}


def _event(offset: int, kind: str = "lesion_progression", lesion: str | None = "L1",
           confirmed: bool = True) -> dict:
    return {"event_id": f"V{offset}{kind}", "patient_id": "P", "event_date": day(offset),
            "event_type": kind, "lesion_id": lesion if kind == "lesion_progression" else None,
            "confirmed": confirmed}


def _sbrt(target: str, offset: int) -> dict:
    return {"course_id": f"C{target}", "patient_id": "P", "target": target,
            "start_date": day(offset), "total_dose_gy": 54.0, "fractions": 3,
            "technique": "sbrt"}


def _drug(name: str, start: int, end: int | None = None) -> dict:
    return {"therapy_id": f"D{name}{start}", "patient_id": "P", "drug_name": name,
            "start_date": day(start), "end_date": None if end is None else day(end)}


def _outcomes(death=None, last_contact=366, exams=(), events=(), lesions=(), rt=(),
              drugs=(), assessments=(), group=("L1",)):
    s = staging(
        patients=[_patient(death, last_contact)],
        metastases=[_lesion("L1", 0), *lesions],
        imaging=list(exams), disease_events=list(events), radiotherapy=list(rt),
        systemic_therapies=list(drugs),
    )
    episodes = omd_episodes([{"patient_id": "P", "episode_id": "E", "episode_date": EPISODE}])
    lesion_rows = episode_lesions([
        {"episode_id": "E", "patient_id": "P", "lesion_id": lid, "organ": "lung",
         "is_in_detection_group": True}
        for lid in group
    ])
    lct = derive_episode_lct(episodes, lesion_rows, derive_local_treatments(s))
    out = derive_episode_outcomes(
        s, episodes, lesion_rows, disease_assessments(list(assessments)), lct,
        derive_therapy_lines(s["systemic_therapies"]), CUTOFF,
    )
    assert tuple(out.collect_schema().names()) == EPISODE_OUTCOME_COLUMNS
    return {r["origin"]: r for r in rows(out)}


def _episode(**kwargs) -> dict:
    return _outcomes(**kwargs)["episode"]


# --- OS -----------------------------------------------------------------------------------

def test_death_after_the_cutoff_is_ignored():
    row = _episode(death=400)
    assert (row["os_days"], row["os_event"]) == (366, 0)


def test_death_before_the_cutoff_is_an_event():
    row = _episode(death=200)
    assert (row["os_days"], row["os_event"]) == (200, 1)


def test_last_contact_before_the_cutoff_censors_os():
    row = _episode(last_contact=182)
    assert (row["os_days"], row["os_event"]) == (182, 0)


# --- PFS ----------------------------------------------------------------------------------

def test_no_imaging_after_the_origin_censors_pfs_at_the_origin():
    row = _episode(exams=[_exam(-10)])
    assert (row["pfs_days"], row["pfs_event"]) == (0, 0)


def test_pfs_censored_at_the_last_imaging_exam():
    row = _episode(exams=[_exam(-10), _exam(90), _exam(180)])
    assert (row["pfs_days"], row["pfs_event"]) == (180, 0)


def test_pfs_censored_at_last_contact_when_earlier_than_imaging():
    row = _episode(exams=[_exam(180)], last_contact=150)
    assert (row["pfs_days"], row["pfs_event"]) == (150, 0)


def test_death_long_after_the_last_imaging_is_censored_not_an_event():
    row = _episode(exams=[_exam(31)], death=31 + 183)
    assert (row["pfs_days"], row["pfs_event"]) == (31, 0)
    assert (row["os_days"], row["os_event"]) == (214, 1)


def test_death_within_the_window_after_the_last_imaging_is_a_progression_event():
    row = _episode(exams=[_exam(31)], death=31 + 182)
    assert (row["pfs_days"], row["pfs_event"]) == (213, 1)


def test_a_new_lesion_of_the_episodes_own_group_is_not_a_progression():
    row = _episode(exams=[_exam(20), _exam(200)], lesions=[_lesion("L2", 20)],
                   group=("L1", "L2"))
    assert (row["pfs_days"], row["pfs_event"]) == (200, 0)


def test_a_new_lesion_outside_the_group_is_a_progression():
    row = _episode(exams=[_exam(20), _exam(200)], lesions=[_lesion("L2", 120)])
    assert (row["pfs_days"], row["pfs_event"]) == (120, 1)


def test_an_unconfirmed_iupd_is_not_a_progression():
    row = _episode(exams=[_exam(100), _exam(200)], events=[_event(100, confirmed=False)])
    assert (row["pfs_days"], row["pfs_event"]) == (200, 0)


def test_confirmed_regional_and_primary_progressions_are_events():
    for kind in ("lesion_progression", "regional_progression", "primary_progression"):
        row = _episode(exams=[_exam(100), _exam(200)], events=[_event(100, kind)])
        assert (row["pfs_days"], row["pfs_event"]) == (100, 1), kind


def test_progression_after_the_cutoff_is_not_used():
    row = _episode(exams=[_exam(300)], events=[_event(370)], lesions=[_lesion("L2", 380)])
    assert (row["pfs_days"], row["pfs_event"]) == (300, 0)


# --- widespread progression ------------------------------------------------------------------

def _assessment(offset: int, state: str) -> dict:
    return {"patient_id": "P", "assessment_id": f"A{offset}", "assessment_date": day(offset),
            "assessment_kind": "detection", "assessment_state": state}


def test_widespread_progression_is_the_first_later_polymetastatic_assessment():
    row = _episode(exams=[_exam(300)], assessments=[
        _assessment(0, "oligo"), _assessment(150, "oligo"), _assessment(200, "poly"),
        _assessment(250, "not_omd_diffuse")])
    assert (row["wsp_days"], row["wsp_event"]) == (200, 1)


def test_widespread_progression_death_is_an_event_otherwise_censored_at_last_imaging():
    dead = _episode(exams=[_exam(50)], death=300)
    assert (dead["wsp_days"], dead["wsp_event"]) == (300, 1)
    alive = _episode(exams=[_exam(50)])
    assert (alive["wsp_days"], alive["wsp_event"]) == (50, 0)


# --- time to next systemic therapy -----------------------------------------------------------

def test_next_line_after_the_line_active_at_the_origin():
    row = _episode(drugs=[_drug("pembrolizumab", -100, 150), _drug("docetaxel", 200, 260)])
    assert (row["ttnt_days"], row["ttnt_status"]) == (200, 1)


def test_off_therapy_the_first_start_after_the_origin_is_next():
    row = _episode(drugs=[_drug("osimertinib", 45)])
    assert (row["ttnt_days"], row["ttnt_status"]) == (45, 1)


def test_death_before_next_therapy_competes():
    row = _episode(drugs=[_drug("pembrolizumab", -100)], death=120)
    assert (row["ttnt_days"], row["ttnt_status"]) == (120, 2)


def test_no_next_therapy_is_censored_at_last_contact():
    row = _episode(drugs=[_drug("pembrolizumab", -100)], last_contact=250)
    assert (row["ttnt_days"], row["ttnt_status"]) == (250, 0)


# --- origins ---------------------------------------------------------------------------------

def test_lct_origin_only_where_lct_started():
    assert set(_outcomes()) == {"episode"}
    both = _outcomes(rt=[_sbrt("L1", 20)], exams=[_exam(100)], death=150)
    assert set(both) == {"episode", "lct"}
    lct = both["lct"]
    assert lct["origin_date"] == EPISODE + dt.timedelta(days=20)
    assert (lct["os_days"], lct["os_event"], lct["pfs_days"], lct["pfs_event"]) == (
        130, 1, 130, 1)
    assert both["episode"]["is_first_episode"] and lct["is_first_episode"]


# --- local control -----------------------------------------------------------------------

def _lesion_outcomes(death=None, exams=(), events=(), rt=None, lesions=()):
    rt = [_sbrt("L1", 30)] if rt is None else rt
    s = staging(patients=[_patient(death)], metastases=[_lesion("L1", 0), *lesions],
                imaging=list(exams), disease_events=list(events), radiotherapy=list(rt))
    out = derive_lesion_outcomes(s, derive_local_treatments(s), CUTOFF)
    assert tuple(out.collect_schema().names()) == LESION_OUTCOME_COLUMNS
    return {r["lesion_id"]: r for r in rows(out)}


def test_local_failure_before_death():
    row = _lesion_outcomes(death=300, exams=[_exam(120)], events=[_event(120)])["L1"]
    assert (row["lf_days"], row["lf_status"]) == (90, 1)
    assert row["bed10_gy"] == pytest.approx(151.2)
    assert row["is_lung_bed10_adequate"] is True


def test_death_before_local_failure_competes():
    row = _lesion_outcomes(death=100, exams=[_exam(60)])["L1"]
    assert (row["lf_days"], row["lf_status"]) == (70, 2)


def test_unconfirmed_or_pre_treatment_progression_is_not_local_failure():
    row = _lesion_outcomes(exams=[_exam(200)],
                           events=[_event(10), _event(120, confirmed=False)])["L1"]
    assert (row["lf_days"], row["lf_status"]) == (170, 0)


def test_local_control_censored_at_the_last_exam_imaging_the_organ():
    out = _lesion_outcomes(
        rt=[_sbrt("L1", 30), _sbrt("B1", 30)],
        lesions=[_lesion("B1", 0, organ="brain")],
        exams=[_exam(130, "brain_mri"), _exam(200, "ct"), _exam(250, "bone_scan")],
    )
    # The lung lesion: last CT (a bone scan does not image the lung); the brain lesion: the
    # last brain MRI (a body CT does not count).
    assert (out["L1"]["lf_days"], out["L1"]["lf_status"]) == (170, 0)
    assert (out["B1"]["lf_days"], out["B1"]["lf_status"]) == (100, 0)
    assert out["B1"]["is_lung_bed10_adequate"] is None


def test_no_exam_after_therapy_censors_local_control_at_the_start():
    row = _lesion_outcomes(exams=[_exam(10)])["L1"]
    assert (row["lf_days"], row["lf_status"]) == (0, 0)


def test_palliative_or_untreated_lesions_have_no_row():
    palliative = {**_sbrt("L1", 30), "intent": "palliative"}
    assert _lesion_outcomes(rt=[palliative]) == {}


def test_outcome_mart_docs_cover_every_column():
    from pipelines.clinical.followup import PATIENT_FOLLOWUP_COLUMNS
    from pipelines.clinical.marts_outcomes import MART_DOCS
    from pipelines.clinical.toxicity import TOXICITY_SUMMARY_COLUMNS

    expected = {"episode_outcomes": EPISODE_OUTCOME_COLUMNS,
                "lesion_outcomes": LESION_OUTCOME_COLUMNS,
                "toxicity_summary": TOXICITY_SUMMARY_COLUMNS,
                "patient_followup": PATIENT_FOLLOWUP_COLUMNS}
    for table, columns in expected.items():
        doc = MART_DOCS[table]
        assert doc["grain"] and doc["description"]
        assert tuple(doc["columns"]) == columns, table
        assert all(doc["columns"].values())

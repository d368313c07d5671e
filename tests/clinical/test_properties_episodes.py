"""Properties of the episode derivation on random small registries (hypothesis)."""

import datetime as dt

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.clinical.episodes import OMD_STATES, UNCLASSIFIABLE_STATES

ORGANS = ["brain", "lung", "liver", "adrenal", "bone", "regional_lymph_node", "other", "pleura"]
START = dt.date(2024, 1, 1)


def _day(n: int) -> str:
    return (START + dt.timedelta(days=n)).isoformat()


lesion_st = st.fixed_dictionaries({
    "patient": st.sampled_from(["p1", "p2", "p3"]),
    "organ": st.sampled_from(ORGANS),
    "day": st.integers(-30, 900),
    "resolved_after": st.none() | st.integers(1, 300),
    "progress_after": st.none() | st.integers(1, 400),
    "diffuse": st.sampled_from([False, False, False, True]),
    "sbrt_after": st.none() | st.integers(0, 300),
})
registry_st = st.tuples(st.lists(lesion_st, max_size=10), st.none() | st.integers(-60, 600))


def _tables(lesions, drug_day):
    patients = [{"patient_id": p} for p in ("p1", "p2", "p3")]
    primaries = [{"tumor_id": f"t{p}", "patient_id": p, "diagnosis_date": "2024-01-10",
                  "topography_code": "C34.1", "morphology_code": "8140/3"}
                 for p in ("p1", "p2", "p3")]
    mets, events, rt = [], [], []
    for i, les in enumerate(lesions):
        lid = f"L{i}"
        mets.append({"lesion_id": lid, "patient_id": les["patient"], "organ": les["organ"],
                     "detected_date": _day(les["day"]), "is_diffuse": les["diffuse"],
                     "resolved_date": None if les["resolved_after"] is None
                     else _day(les["day"] + les["resolved_after"])})
        if les["progress_after"] is not None:
            events.append({"event_id": f"e{i}", "patient_id": les["patient"],
                           "event_type": "lesion_progression", "lesion_id": lid,
                           "event_date": _day(les["day"] + les["progress_after"])})
        if les["sbrt_after"] is not None:
            rt.append({"course_id": f"c{i}", "patient_id": les["patient"], "target": lid,
                       "start_date": _day(les["day"] + les["sbrt_after"]),
                       "total_dose_gy": 50.0, "fractions": 5, "technique": "sbrt"})
    drugs = [] if drug_day is None else [
        {"therapy_id": "s1", "patient_id": "p1", "drug_name": "carboplatin",
         "start_date": _day(drug_day)}]
    return {"patients": patients, "primary_tumors": primaries, "metastases": mets,
            "disease_events": events, "radiotherapy": rt, "systemic_therapies": drugs}


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(registry_st)
def test_episode_properties(derive, registry):
    lesions, drug_day = registry
    out = derive(**_tables(lesions, drug_day))
    episodes, assessments = out["omd_episodes"], out["disease_assessments"]
    counted = [les for les in lesions if les["organ"] != "regional_lymph_node"]
    first_day = {}
    for les in counted:
        first_day[les["patient"]] = min(first_day.get(les["patient"], 10**6), les["day"])

    # Episodes only for patients with counted lesions, never before the first lesion.
    for row in episodes.iter_rows(named=True):
        assert row["patient_id"] in first_day
        assert row["episode_date"] >= START + dt.timedelta(days=first_day[row["patient_id"]])
    # One state per episode, from the nine or an unclassifiable reason.
    assert episodes["episode_id"].n_unique() == episodes.height
    assert set(episodes["omd_state"]) <= set(OMD_STATES) | set(UNCLASSIFIABLE_STATES)
    # One assessment per patient and date; every oligo assessment is one episode.
    assert assessments.select("patient_id", "assessment_date").n_unique() == assessments.height
    oligo = assessments.filter(pl.col("assessment_state") == "oligo")
    assert sorted(oligo["episode_id"]) == sorted(episodes["episode_id"])
    assert (assessments["n_lesions"] >= 1).all()

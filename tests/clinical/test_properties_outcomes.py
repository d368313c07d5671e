"""Properties of the outcome and cohort tables on random small registries (hypothesis)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.clinical.cohort import build_episode_cohort
from pipelines.clinical.lct import derive_episode_lct
from pipelines.clinical.lines import derive_therapy_lines
from pipelines.clinical.local_therapy import derive_local_treatments
from pipelines.clinical.outcomes import derive_episode_outcomes, derive_lesion_outcomes
from tests.clinical.fixtures_treatments import (
    disease_assessments,
    episode_lesions,
    nsclc_population,
    omd_episodes,
    staging,
)

BASE = dt.date(2022, 1, 1)
CUTOFF = dt.date(2024, 1, 1)  # 730 days after BASE
ORGANS = ("lung", "bone", "brain", "liver", "adrenal")
MODALITIES = ("ct", "fdg_pet_ct", "brain_mri", "bone_scan")
DRUGS = ("carboplatin", "pembrolizumab", "docetaxel", "osimertinib", "denosumab")


def _day(offset: int) -> dt.date:
    return BASE + dt.timedelta(days=offset)


offsets = st.integers(min_value=0, max_value=900)  # dates beyond the cut-off included


@st.composite
def registries(draw):
    tables: dict[str, list] = {t: [] for t in (
        "patients", "metastases", "imaging", "disease_events", "radiotherapy",
        "systemic_therapies")}
    episodes, lesions, assessments, population = [], [], [], []
    for p in range(draw(st.integers(1, 4))):
        pid = f"P{p}"
        death = draw(st.one_of(st.none(), offsets))
        tables["patients"].append({
            "patient_id": pid, "sex": "F", "birth_year": 1950,
            "vital_status": "alive" if death is None else "dead",
            "death_date": None if death is None else _day(death),
            "last_contact_date": _day(draw(offsets) if death is None else death)})
        population.append({"patient_id": pid, "histology_group": "adenocarcinoma"})
        for e, e_day in enumerate(sorted(set(draw(st.lists(offsets, min_size=1, max_size=3))))):
            eid = f"{pid}E{e}"
            episodes.append({"patient_id": pid, "episode_id": eid, "episode_date": _day(e_day),
                             "episode_number": e + 1})
            assessments.append({"patient_id": pid, "assessment_id": f"A{eid}",
                                "assessment_date": _day(e_day), "assessment_state": "oligo",
                                "episode_id": eid})
            for n in range(draw(st.integers(1, 3))):
                lid = f"{eid}L{n}"
                organ = draw(st.sampled_from(ORGANS))
                tables["metastases"].append({"lesion_id": lid, "patient_id": pid,
                                             "organ": organ, "detected_date": _day(e_day)})
                lesions.append({"episode_id": eid, "patient_id": pid, "lesion_id": lid,
                                "organ": organ})
                if draw(st.booleans()):
                    tables["radiotherapy"].append({
                        "course_id": f"C{lid}", "patient_id": pid, "target": lid,
                        "start_date": _day(e_day + draw(st.integers(-40, 200))),
                        "total_dose_gy": 30.0, "fractions": 3, "technique": "sbrt"})
                if draw(st.booleans()):
                    tables["disease_events"].append({
                        "event_id": f"V{lid}", "patient_id": pid, "event_date": _day(draw(offsets)),
                        "event_type": "lesion_progression", "lesion_id": lid,
                        "confirmed": draw(st.booleans())})
        for x in range(draw(st.integers(0, 4))):
            tables["imaging"].append({"exam_id": f"{pid}X{x}", "patient_id": pid,
                                      "exam_date": _day(draw(offsets)),
                                      "modality": draw(st.sampled_from(MODALITIES))})
        for a in range(draw(st.integers(0, 2))):
            assessments.append({"patient_id": pid, "assessment_id": f"{pid}W{a}",
                                "assessment_date": _day(draw(offsets)),
                                "assessment_state": "poly"})
        for t in range(draw(st.integers(0, 3))):
            start = draw(offsets)
            tables["systemic_therapies"].append({
                "therapy_id": f"{pid}T{t}", "patient_id": pid,
                "drug_name": draw(st.sampled_from(DRUGS)), "start_date": _day(start),
                "end_date": draw(st.one_of(st.none(), st.just(_day(start + 60))))})
    return (staging(**tables), omd_episodes(episodes), episode_lesions(lesions),
            disease_assessments(assessments), nsclc_population(population))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(registries())
def test_outcome_and_cohort_properties(registry):
    s, episodes, lesions, assessments, population = registry
    local = derive_local_treatments(s)
    lct = derive_episode_lct(episodes, lesions, local)
    lines = derive_therapy_lines(s["systemic_therapies"])
    outcomes = derive_episode_outcomes(s, episodes, lesions, assessments, lct, lines,
                                       CUTOFF).collect()
    episode_ids = set(episodes.collect()["episode_id"])

    # One row per episode and origin; every episode has its episode-date origin.
    assert outcomes.select("episode_id", "origin").is_duplicated().sum() == 0
    assert set(outcomes.filter(origin="episode")["episode_id"]) == episode_ids
    lct_started = set(lct.collect().filter(pl.col("lct_start_date") <= CUTOFF)["episode_id"])
    assert set(outcomes.filter(origin="lct")["episode_id"]) == lct_started

    # Times never negative, and missing only for contradictory input (an origin after the
    # cut-off, a death before the origin); an event is dated on or before the cut-off.
    deaths = s["patients"].select(
        "patient_id", pl.when(pl.col("death_date") <= CUTOFF).then("death_date").alias("dd")
    ).collect()
    # Keep the outcomes' row order so the flags line up with outcomes[days].
    contradictory = outcomes.join(deaths, on="patient_id", how="left",
                                  maintain_order="left").select(
        ((pl.col("origin_date") > CUTOFF) | (pl.col("dd") < pl.col("origin_date")))
        .fill_null(False)
    ).to_series()
    for days, event in (("os_days", "os_event"), ("pfs_days", "pfs_event"),
                        ("wsp_days", "wsp_event"), ("ttnt_days", "ttnt_status")):
        assert (outcomes[days].is_null() == contradictory).all()
        assert (outcomes[days].drop_nulls() >= 0).all()
        end = outcomes.select(pl.col("origin_date") + pl.duration(days=pl.col(days)))
        happened = (outcomes[event] > 0).fill_null(False)
        assert (end.filter(happened).to_series() <= CUTOFF).all()

    lesion_out = derive_lesion_outcomes(s, local, CUTOFF).collect()
    assert lesion_out["lesion_id"].is_unique().all()
    assert (lesion_out["lf_days"].drop_nulls() >= 0).all()
    assert set(lesion_out["lf_status"].drop_nulls().to_list()) <= {0, 1, 2}
    assert (lesion_out["therapy_start_date"] <= CUTOFF).all()
    failed_or_died = lesion_out.filter(pl.col("lf_status") > 0)
    assert (failed_or_died.select(
        pl.col("therapy_start_date") + pl.duration(days=pl.col("lf_days"))
    ).to_series() <= CUTOFF).all()

    # episode_cohort: one row per episode, every episode present.
    cohort = build_episode_cohort(s, episodes, population, lesions, lct, lines).collect()
    assert cohort.height == len(episode_ids)
    assert set(cohort["episode_id"]) == episode_ids

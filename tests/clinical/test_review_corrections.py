"""Case tests of the corrections of issue 14 (an independent review rebuilt patient journeys
by hand from docs/clinical-rules.md): one test, or a few, per clarified rule."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from pipelines.clinical.cutoff import staging_at_cutoff
from pipelines.clinical.drugs import drug_class, is_antineoplastic, is_unrecognised_drug
from pipelines.clinical.lines import derive_therapy_lines
from pipelines.clinical.local_therapy import derive_local_treatments
from pipelines.clinical.parameters import ClinicalParameters
from tests.clinical.conftest import derive, lesion, staging
from tests.clinical.test_outcomes import _episode, _exam, _lesion, _sbrt

POLY = [lesion(f"P{i}", "2024-01-05", "liver" if i < 3 else "bone",
               resolved_date="2024-04-01" if i >= 2 else None) for i in range(7)]


def sbrt(target: str, start: str, **extra) -> dict:
    return {"course_id": f"c{target}{start}", "total_dose_gy": 50.0, "fractions": 5,
            "technique": "sbrt", "target": target, "start_date": start} | extra


def drug(name: str, start: str, end: str | None = None, atc: str | None = None,
         therapy_id: str | None = None) -> dict:
    return {"therapy_id": therapy_id or f"d{name}{start}", "drug_name": name,
            "atc_code": atc, "start_date": start, "end_date": end}


# --- 1. staggered local therapy ---------------------------------------------------------

def test_staggered_sbrt_of_residual_lesions_makes_one_treatment_decision():
    # Poly state (7 lesions), 5 resolve; the 2 residual ones get SBRT on 15 and 20 May.
    out = derive(metastases=POLY, radiotherapy=[sbrt("P0", "2024-05-15"),
                                                sbrt("P1", "2024-05-20")])
    da = out["disease_assessments"]
    assert da["assessment_kind"].to_list() == ["detection", "treatment_decision"]
    assert da["assessment_date"][1] == dt.date(2024, 5, 15)
    episodes = out["omd_episodes"]
    assert episodes["omd_state"].to_list() == ["induced_oligorecurrence"]
    assert episodes["n_lesions"].to_list() == [2]


def test_staggered_sbrt_is_all_sites_treated_once():
    from pipelines.clinical.lct import derive_episode_lct

    s = staging(metastases=POLY, radiotherapy=[sbrt("P0", "2024-05-15"),
                                               sbrt("P1", "2024-05-20")])
    out = derive(metastases=POLY, radiotherapy=[sbrt("P0", "2024-05-15"),
                                                sbrt("P1", "2024-05-20")])
    lct = derive_episode_lct(out["omd_episodes"].lazy(), out["episode_lesions"].lazy(),
                             derive_local_treatments(s)).collect()
    assert lct["all_sites_treated"].to_list() == [True]


def test_a_treatment_decision_that_stays_poly_does_not_absorb_later_starts():
    # 7 residual lesions: the first SBRT judges 7 (poly); the next start judges 6, still
    # poly, after a poly decision: a new decision (the rule is literal, see the docs).
    lesions = [lesion(f"P{i}", "2024-01-05", "liver") for i in range(7)]
    out = derive(metastases=lesions, radiotherapy=[sbrt("P0", "2024-05-15"),
                                                   sbrt("P1", "2024-05-20")])
    assert out["disease_assessments"]["assessment_state"].to_list() == ["poly", "poly", "poly"]


def test_route_ii_staggered_starts_make_one_decision():
    # Synchronous OMD under systemic therapy; SBRT of both lesions 200 and 205 days later.
    out = derive(metastases=[lesion("L1", "2024-01-05"), lesion("L2", "2024-01-05", "bone")],
                 systemic_therapies=[drug("osimertinib", "2024-01-20")],
                 radiotherapy=[sbrt("L1", "2024-07-23"), sbrt("L2", "2024-07-28")])
    da = out["disease_assessments"]
    assert da["assessment_kind"].to_list() == ["detection", "treatment_decision"]
    assert out["omd_episodes"]["omd_state"].to_list() == ["synchronous_omd",
                                                          "repeat_oligopersistence"]


@pytest.mark.parametrize(("drug_end", "n_decisions"), [("2024-01-04", 0), ("2024-01-06", 1)])
def test_route_ii_gap_tail_before_the_assessment_does_not_count(drug_end, n_decisions):
    # The drug ended the day before the assessment (its 30-day tail overlaps the days after
    # it, which does not count) or the day after (exposure after the assessment).
    out = derive(metastases=[lesion("L1", "2024-01-05")],
                 systemic_therapies=[drug("osimertinib", "2023-06-01", drug_end)],
                 radiotherapy=[sbrt("L1", "2024-08-01")])
    kinds = out["disease_assessments"]["assessment_kind"].to_list()
    assert kinds.count("treatment_decision") == n_decisions


# --- 2. drugs -------------------------------------------------------------------------------

REVIEW_DRUGS = ("capmatinib", "tepotinib", "selpercatinib", "pralsetinib", "dacomitinib",
                "ceritinib", "entrectinib", "adagrasib", "amivantamab", "lazertinib",
                "nintedanib", "ramucirumab")


def test_every_drug_the_review_found_unknown_is_antineoplastic_by_name():
    frame = pl.DataFrame({"drug_name": [n.title() for n in REVIEW_DRUGS],
                          "atc_code": [None] * len(REVIEW_DRUGS)}, schema_overrides={
                              "atc_code": pl.String})
    out = frame.select(is_antineoplastic(), is_unrecognised_drug(), drug_class())
    assert out["is_antineoplastic"].all() and not out["is_unrecognised_drug"].any()
    assert out["drug_class"].null_count() == 0


def test_site_mapping_names_and_unrecognised_rows():
    frame = pl.DataFrame({"drug_name": ["Tabrecta", "carboplatine", "drug zz", "drug zz",
                                        "denosumab"],
                          "atc_code": [None, None, None, "L01XX99", None]})
    out = frame.select(is_antineoplastic(), is_unrecognised_drug(), drug_class())
    assert out["is_antineoplastic"].to_list() == [True, True, False, True, False]
    assert out["is_unrecognised_drug"].to_list() == [False, False, True, False, False]
    assert out["drug_class"].to_list()[:2] == ["other_targeted", "platinum"]


def test_new_drug_makes_a_curb_oligoprogression_not_a_recurrence():
    lesions = [lesion(f"L{i}", "2024-01-05", "bone" if i < 3 else "liver") for i in range(7)]
    events = [{"event_id": "e1", "event_date": "2024-10-01",
               "event_type": "lesion_progression", "lesion_id": "L5"}]
    out = derive(metastases=lesions, disease_events=events,
                 systemic_therapies=[drug("tepotinib", "2024-01-20")])
    assert out["omd_episodes"]["omd_state"].to_list() == ["induced_oligoprogression"]


def test_an_unrecognised_drug_deciding_on_therapy_is_unclassifiable():
    lesions = [lesion(f"L{i}", "2024-01-05", "bone" if i < 3 else "liver") for i in range(7)]
    events = [{"event_id": "e1", "event_date": "2024-10-01",
               "event_type": "lesion_progression", "lesion_id": "L5"}]
    out = derive(metastases=lesions, disease_events=events,
                 systemic_therapies=[drug("investigational xy-123", "2024-01-20")])
    # Counted as therapy it is a CURB oligoprogression (1 lesion), as none a poly state:
    # the episode is kept, as unclassifiable, never "off therapy".
    episodes = out["omd_episodes"]
    assert episodes["omd_state"].to_list() == ["unclassifiable_unknown_drug"]
    assert episodes["n_lesions"].to_list() == [1]


def test_an_unrecognised_drug_that_decides_nothing_changes_nothing():
    out = derive(metastases=[lesion("L1", "2024-01-05")], systemic_therapies=[
        drug("investigational xy-123", "2024-01-20", "2024-02-20")])
    assert out["omd_episodes"]["omd_state"].to_list() == ["synchronous_omd"]


# --- 3. PFS and regional nodes --------------------------------------------------------------

@pytest.mark.parametrize(("node_day", "pfs"), [(5, (366, 0)), (42, (366, 0)), (43, (43, 1))])
def test_regional_node_in_the_grouping_window_belongs_to_staging(node_day, pfs):
    node = _lesion("N1", node_day, "regional_lymph_node")
    row = _episode(lesions=[node], exams=[_exam(366)])
    assert (row["pfs_days"], row["pfs_event"]) == pfs


def test_regional_node_of_staging_is_no_progression_from_the_lct_origin():
    node = _lesion("N1", 20, "regional_lymph_node")
    from tests.clinical.test_outcomes import _outcomes

    rows = _outcomes(lesions=[node], rt=[_sbrt("L1", 10)], exams=[_exam(366)])
    assert rows["lct"]["pfs_event"] == 0


# --- 4. nothing after the cut-off -----------------------------------------------------------

def test_a_lesion_after_the_cutoff_enters_no_episode():
    s = staging(metastases=[lesion("L1", "2024-01-05"), lesion("L2", "2024-11-05", "bone")],
                patients=[{"patient_id": "p1", "last_contact_date": "2024-12-01",
                           "death_date": "2024-11-20", "vital_status": "dead"}],
                systemic_therapies=[drug("osimertinib", "2024-01-20", "2024-12-01")])
    cut = {k: v.collect() for k, v in staging_at_cutoff(s, dt.date(2024, 10, 31)).items()}
    assert cut["metastases"]["lesion_id"].to_list() == ["L1"]
    assert cut["patients"].row(0, named=True)["death_date"] is None
    assert cut["patients"].row(0, named=True)["last_contact_date"] == dt.date(2024, 10, 31)
    assert cut["systemic_therapies"]["end_date"].to_list() == [None]  # ongoing at cut-off
    from pipelines.clinical.episodes import derive_episodes

    episodes = derive_episodes({k: v.lazy() for k, v in cut.items()})["omd_episodes"].collect()
    assert episodes["n_lesions"].to_list() == [1]


# --- 6. the other clarifications -------------------------------------------------------------

def _primary(tumor_id: str, diagnosed: str, morphology: str = "8140/3", **extra) -> dict:
    return {"tumor_id": tumor_id, "diagnosis_date": diagnosed, "topography_code": "C34.1",
            "morphology_code": morphology} | extra


def test_several_nsclc_primaries_all_linked_are_classifiable_from_the_earliest():
    out = derive(primary_tumors=[_primary("t1", "2023-01-10"),
                                 _primary("t2", "2024-01-10", "8070/3")],
                 metastases=[lesion("L1", "2024-02-01", tumor_id="t2"),
                             lesion("L2", "2024-02-01", "bone", tumor_id="t1")])
    pop = out["nsclc_population"].row(0, named=True)
    assert (pop["population_reason"], pop["primary_tumor_id"]) == ("nsclc", "t1")
    episode = out["omd_episodes"].row(0, named=True)
    # earliest diagnosis (2023-01-10): 13 months before, so metachronous, not synchronous
    assert episode["diagnosis_date"] == dt.date(2023, 1, 10)
    assert episode["omd_state"] == "metachronous_oligorecurrence"


def test_an_episode_dates_from_its_own_lesions_tumours():
    out = derive(primary_tumors=[_primary("t1", "2023-01-10"),
                                 _primary("t2", "2024-01-10", "8070/3")],
                 metastases=[lesion("L1", "2024-02-01", tumor_id="t2")])
    episode = out["omd_episodes"].row(0, named=True)
    assert (episode["primary_tumor_id"], episode["omd_state"]) == ("t2", "synchronous_omd")


def test_linked_primaries_not_all_nsclc_stay_ambiguous():
    out = derive(primary_tumors=[_primary("t1", "2023-01-10"),
                                 _primary("t2", "2024-01-10", "8720/3")],
                 metastases=[lesion("L1", "2024-02-01", tumor_id="t2"),
                             lesion("L2", "2024-02-01", tumor_id="t1")])
    reason = out["nsclc_population"]["population_reason"][0]
    assert reason == "unclassifiable_ambiguous_primary"


@pytest.mark.parametrize(("episode_date", "failed", "unverified"), [
    ("2024-04-10", None, True),     # dx 2024-01-?? (imputed 15th): +90 d may or may not hold
    ("2024-05-05", "found_at_initial_staging", False),  # after even 31 Jan + 90 days
])
def test_staging_decided_by_an_imputed_date_is_unverified(episode_date, failed, unverified):
    out = derive(primary_tumors=[_primary("t1", "2024-01-15", diagnosis_date_imputed=True)],
                 metastases=[lesion("L1", episode_date, "brain", detection_modality="brain_mri")],
                 imaging=[{"exam_id": "x1", "exam_date": episode_date, "modality": "fdg_pet_ct"}])
    episode = out["omd_episodes"].row(0, named=True)
    assert episode["omd_state"] == "synchronous_omd"
    assert episode["eortc_failed_criterion"] == failed
    assert ("found_at_initial_staging" in episode["eortc_unverified_criteria"]) is unverified


@pytest.mark.parametrize(("decision_day", "judged"), [(-61, False), (-60, True), (90, True),
                                                      (91, False)])
def test_mdt_window_minus_60_plus_90_days(decision_day, judged):
    decided = (dt.date(2024, 1, 10) + dt.timedelta(days=decision_day)).isoformat()
    out = derive(metastases=[lesion("L1", "2024-01-10", "brain", detection_modality="brain_mri")],
                 imaging=[{"exam_id": "x1", "exam_date": "2024-01-10", "modality": "fdg_pet_ct"}],
                 mdt_decisions=[{"decision_id": "m1", "decision_date": decided,
                                 "all_sites_radically_treatable": False}])
    failed = out["omd_episodes"]["eortc_failed_criterion"][0]
    assert (failed == "all_sites_radically_treatable") is judged


@pytest.mark.parametrize(("intent", "dose", "fractions", "radical"), [
    ("consolidative", 30.0, 10, True), ("palliative", 60.0, 30, False),
    (None, 45.0, 15, True),   # EQD2(10) 46.9 Gy
    (None, 40.0, 15, False),  # EQD2(10) 40.9 Gy
])
def test_primary_radiotherapy_radical_by_intent_or_eqd2(intent, dose, fractions, radical):
    s = staging(radiotherapy=[{"course_id": "c1", "target": "primary", "start_date": "2024-01-20",
                               "total_dose_gy": dose, "fractions": fractions, "intent": intent}])
    rows = derive_local_treatments(s).collect()
    assert rows["is_radical"].to_list() == [radical]
    stricter = derive_local_treatments(s, ClinicalParameters(radical_eqd2_min_gy=50.0)).collect()
    assert stricter["is_radical"].to_list() == [radical and intent is not None]


@pytest.mark.parametrize(("codes", "n_organs"), [(("C79.8", "C79.81"), 1),
                                                 (("C79", "C79"), 2), (("C79", None), 2)])
def test_other_site_code_shorter_than_4_characters_is_its_own_organ(codes, n_organs):
    out = derive(metastases=[lesion("L1", "2024-01-05", "other", site_code=codes[0]),
                             lesion("L2", "2024-01-05", "other", site_code=codes[1])])
    assert out["omd_episodes"]["n_organs"].to_list() == [n_organs]


def test_line_window_is_anchored_at_the_line_first_start():
    periods = staging(systemic_therapies=[
        drug("osimertinib", "2024-01-01", "2024-12-01"),
        drug("carboplatin", "2024-07-01", "2024-09-01"),    # new line, first start
        drug("pemetrexed", "2024-07-21", "2024-09-01"),     # day 20: joins it
        drug("pembrolizumab", "2024-08-10", "2024-12-01"),  # day 40 (20 after pemetrexed)
    ])["systemic_therapies"]
    lines = derive_therapy_lines(periods).collect()
    assert lines["drugs"].to_list() == [["osimertinib"], ["carboplatin", "pemetrexed"],
                                        ["pembrolizumab"]]


def test_widespread_progression_censored_at_last_contact_before_last_exam():
    row = _episode(last_contact=200, exams=[_exam(300)])
    assert (row["wsp_days"], row["wsp_event"]) == (200, 0)


@pytest.mark.parametrize(("death", "pfs_event"), [(182, 1), (183, 0)])
def test_pfs_death_window_from_the_origin_when_no_exam_follows_it(death, pfs_event):
    row = _episode(death=death)
    assert (row["pfs_days"], row["pfs_event"]) == ((death, 1) if pfs_event else (0, 0))


# --- 5. cohort attrition -------------------------------------------------------------------

def test_attrition_starts_with_the_opt_outs_and_reconciles():
    from pipelines.clinical.episodes import derive_episodes

    s = staging(patients=[{"patient_id": p} for p in ("p1", "p2")],
                primary_tumors=[_primary("t1", "2024-01-10"),
                                _primary("t2", "2024-01-10", "8041/3", patient_id="p2")],
                metastases=[lesion("L1", "2024-01-12")])
    a = derive_episodes(s, n_opted_out=3)["cohort_attrition"].collect()
    assert a["step"][:2].to_list() == ["registry_patients", "excluded_opt_out"]
    assert a["remaining"][:2].to_list() == [5, 2] and a["excluded"][:2].to_list() == [0, 3]
    assert (a["remaining"][1:] == (a["remaining"].shift(1) - a["excluded"])[1:]).all()
    excluded = dict(zip(a["step"], a["excluded"], strict=True))
    assert excluded["excluded_sclc"] == 1 and a["remaining"][-1] <= 1
    assert a["reason"].null_count() == 0


def test_opted_out_patients_read_from_the_ingest_table():
    import duckdb

    from pipelines.assets.clinical import opted_out_patients

    with duckdb.connect() as con:
        assert opted_out_patients(con, "b1") == 0  # an older warehouse: no table
        con.execute("create schema raw")
        con.execute("create table raw.opt_out_exclusions (batch_id varchar, "
                    "n_patients_excluded bigint)")
        con.execute("insert into raw.opt_out_exclusions values ('b1', 4), ('b0', 9)")
        assert opted_out_patients(con, "b1") == 4

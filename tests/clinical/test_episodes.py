"""ESTRO/EORTC 2020 classification: each of the nine states and each unclassifiable path."""

import datetime as dt

import polars as pl
import pytest

from pipelines.clinical.episodes import classify_episodes
from pipelines.clinical.parameters import ClinicalParameters

PEMBRO = {"therapy_id": "s1", "drug_name": "pembrolizumab", "start_date": "2024-02-01"}
SBRT = {"course_id": "c1", "phase": 1, "total_dose_gy": 50.0, "fractions": 5,
        "technique": "sbrt"}


def six_lesions(resolved: str | None = None, keep: int = 1):
    """Polymetastatic at 2024-01-05: six liver/bone lesions; all but `keep` resolve."""
    rows = []
    for i in range(6):
        rows.append({"lesion_id": f"P{i}", "organ": "bone" if i % 2 else "liver",
                     "detected_date": "2024-01-05",
                     "resolved_date": resolved if resolved and i >= keep else None})
    return rows


def states(out):
    return out["omd_episodes"]["omd_state"].to_list()


def test_synchronous_omd(derive, lesion):
    out = derive(metastases=[lesion("L1", "2024-01-05", "brain")])
    ep = out["omd_episodes"].row(0, named=True)
    assert ep["omd_state"] == "synchronous_omd" and ep["omd_family"] == "de_novo"
    assert ep["is_eortc_som_nsclc"] is not None


def test_metachronous_oligorecurrence(derive, lesion):
    assert states(derive(metastases=[lesion("L1", "2025-01-01")])) == [
        "metachronous_oligorecurrence"]


def test_metachronous_oligoprogression(derive, lesion):
    out = derive(metastases=[lesion("L1", "2025-01-01")], systemic_therapies=[PEMBRO])
    assert states(out) == ["metachronous_oligoprogression"]
    assert out["disease_assessments"]["progression_count_basis"].to_list() == ["progressing"]


def test_repeat_oligorecurrence(derive, lesion):
    out = derive(metastases=[lesion("L1", "2024-01-05"), lesion("L2", "2024-06-01", "bone")])
    assert states(out) == ["synchronous_omd", "repeat_oligorecurrence"]
    assert out["omd_episodes"]["episode_number"].to_list() == [1, 2]


def test_repeat_oligoprogression(derive, lesion):
    out = derive(metastases=[lesion("L1", "2024-01-05"), lesion("L2", "2024-06-01", "bone")],
                 systemic_therapies=[PEMBRO])
    assert states(out) == ["synchronous_omd", "repeat_oligoprogression"]


def test_repeat_oligopersistence_by_treatment_decision(derive, lesion):
    # Local therapy of a stable lesion more than lct_window_days after its oligometastatic
    # assessment, under systemic therapy since: a new assessment without progression.
    out = derive(metastases=[lesion("L1", "2024-01-05")], systemic_therapies=[PEMBRO],
                 radiotherapy=[SBRT | {"target": "L1", "start_date": "2024-09-01"}])
    assert states(out) == ["synchronous_omd", "repeat_oligopersistence"]
    assert out["disease_assessments"]["assessment_kind"].to_list() == [
        "detection", "treatment_decision"]


def test_induced_oligorecurrence(derive, lesion):
    out = derive(metastases=[*six_lesions(resolved="2024-04-01"),
                             lesion("L9", "2024-08-01", "brain")])
    assert out["disease_assessments"]["assessment_state"].to_list() == ["poly", "oligo"]
    assert states(out) == ["induced_oligorecurrence"]
    assert out["omd_episodes"]["n_lesions"].to_list() == [2]  # residual P0 + new L9


def test_induced_oligoprogression_counts_progressing_lesions_only(derive, lesion):
    out = derive(metastases=[*six_lesions(resolved="2024-04-01", keep=3),
                             lesion("L9", "2024-08-01", "brain")],
                 systemic_therapies=[PEMBRO])
    ep = out["omd_episodes"].row(0, named=True)
    assert ep["omd_state"] == "induced_oligoprogression"
    assert (ep["n_lesions"], ep["n_stable_lesions"], ep["organs"]) == (1, 3, ["brain"])


def test_induced_oligopersistence_residual_lesions_of_poly_state_start_new_one(derive):
    # Local therapy of the residual lesions of a polymetastatic state, under systemic therapy.
    out = derive(metastases=six_lesions(resolved="2024-04-01", keep=2),
                 systemic_therapies=[PEMBRO | {"start_date": "2024-01-20"}],
                 radiotherapy=[SBRT | {"target": "P0", "start_date": "2024-05-01"}])
    assert out["disease_assessments"]["assessment_kind"].to_list() == [
        "detection", "treatment_decision"]
    ep = out["omd_episodes"].row(0, named=True)
    assert ep["omd_state"] == "induced_oligopersistence"
    assert ep["episode_date"] == dt.date(2024, 5, 1) and ep["n_lesions"] == 2


def test_consolidation_after_induction_stays_in_its_episode(derive, lesion):
    out = derive(metastases=[lesion("L1", "2024-01-05"), lesion("L2", "2024-01-05", "bone")],
                 systemic_therapies=[PEMBRO],
                 radiotherapy=[SBRT | {"target": "L1", "start_date": "2024-04-15"},
                               SBRT | {"course_id": "c2", "target": "L2",
                                       "start_date": "2024-04-15"}])
    assert states(out) == ["synchronous_omd"]
    assert out["disease_assessments"].height == 1


@pytest.mark.parametrize(("diagnosis", "episode", "expected"), [
    ("2024-01-10", "2024-07-10", "synchronous_omd"),  # the last day included
    ("2024-01-10", "2024-07-11", "metachronous_oligorecurrence"),  # the next one not
    ("2023-08-31", "2024-02-29", "synchronous_omd"),  # 31 Aug + 6 months = 29 Feb (leap)
    ("2023-08-31", "2024-03-01", "metachronous_oligorecurrence"),
    ("2024-03-10", "2024-01-05", "synchronous_omd"),  # metastasis found first
])
def test_synchronous_boundary_on_calendar_months(derive, lesion, diagnosis, episode, expected):
    primary = {"tumor_id": "t1", "diagnosis_date": diagnosis, "topography_code": "C34.1",
               "morphology_code": "8140/3"}
    assert states(derive(primary_tumors=[primary],
                         metastases=[lesion("L1", episode)])) == [expected]


def test_unclassifiable_imputed_date_when_the_split_depends_on_it(derive, lesion):
    # Diagnosis known only as 2024-01 (imputed 15th): the episode on 2024-07-10 is
    # synchronous if diagnosed after the 10th, metachronous before.
    primary = {"tumor_id": "t1", "diagnosis_date": "2024-01-15", "diagnosis_date_imputed": True,
               "topography_code": "C34.1", "morphology_code": "8140/3"}
    out = derive(primary_tumors=[primary], metastases=[lesion("L1", "2024-07-10")])
    assert states(out) == ["unclassifiable_imputed_date"]
    assert out["omd_episodes"]["omd_family"].to_list() == [None]
    # Far from the boundary the imputation does not matter.
    out = derive(primary_tumors=[primary], metastases=[lesion("L1", "2024-03-01")])
    assert states(out) == ["synchronous_omd"]


def test_unclassifiable_imputed_detection_date(derive, lesion):
    # Lesion detected "2024" (imputed 1 July): anywhere in the year, across the boundary.
    out = derive(metastases=[lesion("L1", "2024-07-01", detected_date_imputed=True)])
    assert states(out) == ["unclassifiable_imputed_date"]


def test_unclassifiable_incomplete_record(derive, lesion):
    out = derive(patients=[{"patient_id": "p1", "is_incomplete": True}],
                 metastases=[lesion("L1", "2024-01-05")])
    assert states(out) == ["unclassifiable_incomplete_record"]


def _tree(**row):
    base = {"has_prior_poly": False, "has_prior_omd": False, "on_systemic_therapy": True,
            "has_progression": False, "episode_date": dt.date(2025, 1, 1),
            "diagnosis_date": dt.date(2024, 1, 1), "is_incomplete": False}
    base |= row
    base.setdefault("episode_date_low", base["episode_date"])
    base.setdefault("episode_date_high", base["episode_date"])
    base.setdefault("diagnosis_date_low", base["diagnosis_date"])
    base.setdefault("diagnosis_date_high", base["diagnosis_date"])
    dates = {k: pl.Date for k in base if k.endswith(("_date", "_low", "_high"))}
    frame = pl.LazyFrame([base], schema_overrides=dates)
    return classify_episodes(frame).collect().row(0, named=True)


def test_de_novo_metachronous_persistence_is_unclassifiable():
    row = _tree()
    assert row["omd_state"] == "unclassifiable_de_novo_metachronous_persistence"
    assert row["omd_family"] is None


def test_unclassifiable_missing_diagnosis_date():
    row = _tree(diagnosis_date=None)
    assert row["omd_state"] == "unclassifiable_missing_diagnosis_date"


def test_tree_order_induced_before_repeat():
    assert _tree(has_prior_poly=True, has_prior_omd=True)["omd_state"] == (
        "induced_oligopersistence")
    assert _tree(has_prior_omd=True, on_systemic_therapy=False)["omd_state"] == (
        "repeat_oligorecurrence")


def test_episode_id_is_stable_and_parameter_set_recorded(derive, lesion):
    tables = {"metastases": [lesion("L1", "2024-01-05")]}
    a = derive(**tables)["omd_episodes"]
    b = derive(ClinicalParameters(max_lesions=3), **tables)["omd_episodes"]
    assert a["episode_id"].to_list() == b["episode_id"].to_list()
    assert a["parameter_set"].to_list() == ["default"]
    assert b["parameter_set"][0].endswith("max_lesions=3")


def test_output_columns_follow_the_interface(derive, lesion):
    out = derive(metastases=[lesion("L1", "2024-01-05")])
    assert set(out) == {"nsclc_population", "disease_assessments", "omd_episodes",
                        "episode_lesions", "cohort_attrition"}
    assert out["omd_episodes"].columns[:4] == ["patient_id", "episode_id", "episode_date",
                                              "omd_state"]
    assert out["disease_assessments"]["episode_id"].to_list() == (
        out["omd_episodes"]["episode_id"].to_list())


def test_every_mart_column_is_documented(derive, lesion):
    from pipelines.clinical.marts_episodes import MART_DOCS

    out = derive(metastases=[lesion("L1", "2024-01-05")])
    for table, doc in MART_DOCS.items():
        assert doc["grain"] and doc["description"]
        assert list(doc["columns"]) == out[table].columns

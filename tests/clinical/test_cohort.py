"""The wide analysis table `episode_cohort`: one row per episode, every column derived."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from pipelines.clinical.cohort import (
    EPISODE_COHORT_COLUMNS,
    build_episode_cohort,
    driver_status,
    pdl1_category,
)
from pipelines.clinical.lct import derive_episode_lct
from pipelines.clinical.lines import derive_therapy_lines
from pipelines.clinical.local_therapy import derive_local_treatments
from pipelines.clinical.parameters import ClinicalParameters
from tests.clinical.fixtures_treatments import (
    episode_lesions,
    nsclc_population,
    omd_episodes,
    rows,
    staging,
)


def _cohort(drugs=(), rt=(), params=None) -> dict[str, dict]:
    params = params or ClinicalParameters()
    s = staging(
        patients=[
            {"patient_id": p, "sex": "F", "birth_year": 1950, "center_id": "c1",
             "smoking_status": "former", "vital_status": "alive",
             "last_contact_date": "2025-01-01"} for p in ("P", "Q")
        ],
        primary_tumors=[
            {"tumor_id": "TP", "patient_id": "P", "diagnosis_date": "2023-11-15",
             "topography_code": "C34.1", "morphology_code": "8140/3", "egfr": "positive",
             "pdl1_tps_percent": 0.0, "stage_group": "IVA", "ecog_at_diagnosis": 1},
            {"tumor_id": "TQ", "patient_id": "Q", "diagnosis_date": "2020-03-01",
             "topography_code": "C34.1", "morphology_code": "8070/3"},
        ],
        metastases=[
            {"lesion_id": "L1", "patient_id": "P", "organ": "brain", "detected_date": "2024-01-01"},
            {"lesion_id": "L2", "patient_id": "P", "organ": "bone", "detected_date": "2024-01-01"},
            {"lesion_id": "L3", "patient_id": "P", "organ": "liver", "detected_date": "2025-01-01"},
            {"lesion_id": "M1", "patient_id": "Q", "organ": "adrenal", "detected_date": "2024-06-01"},
        ],
        radiotherapy=list(rt),
        systemic_therapies=list(drugs),
    )
    episodes = omd_episodes([
        {"patient_id": "P", "episode_id": "P1", "episode_date": "2024-01-01",
         "primary_tumor_id": "TP", "n_lesions": 2, "n_organs": 2, "is_eortc_som_nsclc": True},
        {"patient_id": "P", "episode_id": "P2", "episode_date": "2025-01-01",
         "primary_tumor_id": "TP", "omd_state": "repeat_oligorecurrence",
         "omd_family": "repeat", "episode_number": 2},
        {"patient_id": "Q", "episode_id": "Q1", "episode_date": "2024-06-01",
         "primary_tumor_id": "TQ", "omd_state": "unclassifiable_imputed_date",
         "omd_family": None},
    ])
    lesions = episode_lesions([
        {"episode_id": "P1", "patient_id": "P", "lesion_id": "L1", "organ": "brain"},
        {"episode_id": "P1", "patient_id": "P", "lesion_id": "L2", "organ": "bone"},
        {"episode_id": "P2", "patient_id": "P", "lesion_id": "L3", "organ": "liver"},
        {"episode_id": "P2", "patient_id": "P", "lesion_id": "L2", "organ": "bone",
         "is_counted": False, "is_in_detection_group": False},
        {"episode_id": "Q1", "patient_id": "Q", "lesion_id": "M1", "organ": "adrenal"},
    ])
    population = nsclc_population([
        {"patient_id": "P", "histology_group": "adenocarcinoma", "primary_tumor_id": "TP"},
        {"patient_id": "Q", "histology_group": "squamous", "primary_tumor_id": "TQ"},
    ])
    lct = derive_episode_lct(episodes, lesions, derive_local_treatments(s, params), params)
    lines = derive_therapy_lines(s["systemic_therapies"], params)
    out = build_episode_cohort(s, episodes, population, lesions, lct, lines, params)
    assert tuple(out.collect_schema().names()) == EPISODE_COHORT_COLUMNS
    return {r["episode_id"]: r for r in rows(out)}


def _sbrt(target: str, start: str) -> dict:
    return {"course_id": f"C{target}", "patient_id": "P", "target": target,
            "start_date": start, "total_dose_gy": 24.0, "fractions": 1, "technique": "srs"}


def test_one_row_per_episode_with_patient_and_tumour_columns():
    out = _cohort()
    assert set(out) == {"P1", "P2", "Q1"}
    p1 = out["P1"]
    assert (p1["sex"], p1["age_at_episode"], p1["smoking_status"], p1["center_id"]) == (
        "F", 74, "former", "c1")
    assert (p1["histology_group"], p1["driver_status"], p1["pdl1_category"]) == (
        "adenocarcinoma", "egfr", "<1%")
    assert (p1["diagnosis_year"], p1["stage_group"], p1["ecog_at_diagnosis"]) == (2023, "IVA", 1)
    assert out["Q1"]["driver_status"] == "not_tested"
    assert out["Q1"]["pdl1_category"] == "unknown"


def test_episode_columns():
    out = _cohort()
    assert out["P1"]["is_synchronous"] is True and out["P2"]["is_synchronous"] is False
    assert out["Q1"]["is_synchronous"] is None  # unclassifiable: not guessed
    assert [out[e]["is_first_episode"] for e in ("P1", "P2", "Q1")] == [True, False, True]
    assert (out["P1"]["has_brain"], out["P1"]["has_bone"], out["P1"]["has_liver"]) == (
        True, True, False)
    # Only counted lesions make the organ flags.
    assert (out["P2"]["has_liver"], out["P2"]["has_bone"]) == (True, False)
    assert out["Q1"]["has_adrenal"] is True
    assert out["P1"]["is_eortc_som_nsclc"] is True


def test_treatment_strategy_and_lct_columns():
    out = _cohort(
        rt=[_sbrt("L1", "2024-01-20"), _sbrt("L2", "2024-02-01")],
        drugs=[{"therapy_id": "d1", "patient_id": "Q", "drug_name": "osimertinib",
                "start_date": "2024-06-20"}],
    )
    p1 = out["P1"]
    assert (p1["treatment_strategy"], p1["all_sites_treated"], p1["has_sbrt"]) == (
        "lct_all_sites", True, True)
    assert p1["lct_start_date"] == dt.date(2024, 1, 20)
    assert out["P2"]["treatment_strategy"] == "none"
    assert out["Q1"]["treatment_strategy"] == "systemic_only"
    partial = _cohort(rt=[_sbrt("L1", "2024-01-20")])["P1"]
    assert (partial["treatment_strategy"], partial["fraction_lesions_treated"]) == (
        "lct_partial", 0.5)


def test_line_at_episode_and_immunotherapy_after():
    drugs = [
        {"therapy_id": "d1", "patient_id": "P", "drug_name": "carboplatin",
         "start_date": "2023-12-01", "end_date": "2024-02-01"},
        {"therapy_id": "d2", "patient_id": "P", "drug_name": "pembrolizumab",
         "atc_code": "L01FF02", "start_date": "2023-12-01", "end_date": "2024-06-01"},
        {"therapy_id": "d3", "patient_id": "Q", "drug_name": "nivolumab",
         "start_date": "2022-01-01", "end_date": "2023-01-01"},
    ]
    out = _cohort(drugs=drugs)
    assert (out["P1"]["line_number_at_episode"], out["P1"]["has_immunotherapy_after"]) == (
        1, True)
    assert (out["P2"]["line_number_at_episode"], out["P2"]["has_immunotherapy_after"]) == (
        None, False)
    assert (out["Q1"]["line_number_at_episode"], out["Q1"]["has_immunotherapy_after"]) == (
        None, False)
    assert out["P1"]["treatment_strategy"] == "systemic_only"


def test_parameter_set_is_recorded():
    assert _cohort()["P1"]["parameter_set"] == "default"
    assert _cohort(params=ClinicalParameters(max_lesions=3))["P1"]["parameter_set"] != "default"


@pytest.mark.parametrize(
    ("markers", "expected"),
    [
        ({"egfr": "positive", "alk": "positive"}, "egfr"),
        ({"egfr": "negative", "alk": "positive"}, "alk"),
        ({"egfr": "negative", "kras_g12c": "positive"}, "other_driver"),
        ({"ret": "positive"}, "other_driver"),
        ({"egfr": "negative", "alk": "negative"}, "none"),
        ({"egfr": "not_tested"}, "not_tested"),
        ({}, "not_tested"),
    ],
)
def test_driver_status(markers, expected):
    names = ("egfr", "alk", "ros1", "kras_g12c", "braf_v600e", "met_ex14", "ret")
    frame = pl.DataFrame({m: [markers.get(m)] for m in names}, schema=dict.fromkeys(names,
                                                                                   pl.String))
    assert frame.select(driver_status()).item() == expected


@pytest.mark.parametrize(
    ("tps", "expected"),
    [(0.0, "<1%"), (0.9, "<1%"), (1.0, "1-49%"), (49.0, "1-49%"), (50.0, ">=50%"),
     (None, "unknown")],
)
def test_pdl1_category(tps, expected):
    frame = pl.DataFrame({"pdl1_tps_percent": [tps]}, schema={"pdl1_tps_percent": pl.Float64})
    assert frame.select(pdl1_category()).item() == expected


def test_treatment_mart_docs_cover_every_column():
    from pipelines.clinical.lines import THERAPY_LINE_COLUMNS
    from pipelines.clinical.local_therapy import LOCAL_TREATMENT_COLUMNS
    from pipelines.clinical.marts_treatments import MART_DOCS

    expected = {"local_treatments": LOCAL_TREATMENT_COLUMNS,
                "therapy_lines": THERAPY_LINE_COLUMNS,
                "episode_cohort": EPISODE_COHORT_COLUMNS}
    for table, columns in expected.items():
        doc = MART_DOCS[table]
        assert doc["grain"] and doc["description"]
        assert tuple(doc["columns"]) == columns, table
        assert all(doc["columns"].values())

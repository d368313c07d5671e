"""The NSCLC population (docs/clinical-rules.md section 1)."""

import pytest

from pipelines.clinical.parameters import ClinicalParameters


def _primary(tumor_id="t1", morphology="8140/3", topography="C34.1", **extra):
    return {"tumor_id": tumor_id, "diagnosis_date": "2024-01-10", "topography_code": topography,
            "morphology_code": morphology} | extra


def _reason(derive, primaries, metastases=(), params=None):
    out = derive(params, primary_tumors=list(primaries), metastases=list(metastases))
    return out["nsclc_population"].row(0, named=True), out


@pytest.mark.parametrize(("morphology", "reason", "group"), [
    ("8140/3", "nsclc", "adenocarcinoma"),
    ("8070/3", "nsclc", "squamous"),
    ("8046/3", "nsclc", "nsclc_nos"),
    ("8560/3", "nsclc", "adenosquamous"),
    ("8041/3", "excluded_sclc", None),
    ("8013/3", "excluded_lcnec_carcinoid", None),
    ("8240/3", "excluded_lcnec_carcinoid", None),
    ("8010/3", "review_8000_8010", None),
    ("8140/2", "excluded_not_invasive", None),
    ("8720/3", "excluded_other_histology", None),
])
def test_histology(derive, morphology, reason, group):
    row, _ = _reason(derive, [_primary(morphology=morphology)])
    assert (row["population_reason"], row["histology_group"]) == (reason, group)
    assert row["is_nsclc"] is (reason == "nsclc")


def test_lcnec_included_when_parameter_off(derive):
    row, _ = _reason(derive, [_primary(morphology="8013/3")],
                     params=ClinicalParameters(exclude_lcnec_and_carcinoids=False))
    assert row["is_nsclc"]


def test_topography_outside_lung(derive):
    row, _ = _reason(derive, [_primary(topography="C18.0")])
    assert row["population_reason"] == "excluded_other_topography"


def test_several_primaries_and_lesion_without_tumor_is_ambiguous(derive, lesion):
    row, out = _reason(derive, [_primary("t1"), _primary("t2", morphology="8070/3")],
                       [lesion("L1", "2024-01-05")])
    assert row["population_reason"] == "unclassifiable_ambiguous_primary"
    assert out["omd_episodes"].height == 0


def test_several_primaries_lesions_linked_to_one(derive, lesion):
    row, out = _reason(derive, [_primary("t1"), _primary("t2", morphology="8070/3")],
                       [lesion("L1", "2024-01-05", tumor_id="t2")])
    assert (row["population_reason"], row["primary_tumor_id"]) == ("nsclc", "t2")
    assert out["omd_episodes"].height == 1


def test_nsclc_and_sclc_together_is_ambiguous(derive, lesion):
    row, _ = _reason(derive, [_primary("t1"), _primary("t2", morphology="8041/3")],
                     [lesion("L1", "2024-01-05", tumor_id="t1")])
    assert row["population_reason"] == "unclassifiable_ambiguous_primary"


def test_excluded_patients_appear_in_attrition(derive, lesion):
    out = derive(
        patients=[{"patient_id": p} for p in ("p1", "p2", "p3", "p4")],
        primary_tumors=[_primary("t1"), _primary("t2", morphology="8041/3", patient_id="p2"),
                        _primary("t3", patient_id="p3")],
        metastases=[lesion("L1", "2024-01-05", "brain", detection_modality="brain_mri"),
                    lesion("L2", "2024-01-05", patient_id="p2")],
        imaging=[{"exam_id": "e1", "exam_date": "2024-01-02", "modality": "fdg_pet_ct"}],
    )
    attrition = out["cohort_attrition"]
    remaining = dict(zip(attrition["step"], attrition["remaining"], strict=True))
    excluded = dict(zip(attrition["step"], attrition["excluded"], strict=True))
    assert remaining["registry_patients"] == 4 and excluded["excluded_opt_out"] == 0
    assert excluded["excluded_sclc"] == 1 and excluded["excluded_no_primary"] == 1
    assert (remaining["nsclc"], remaining["metastatic_nsclc"],
            remaining["with_omd_episode"]) == (2, 1, 1)
    assert remaining["with_eortc_synchronous_omd"] == 1
    assert out["cohort_attrition"]["step_order"].is_sorted()

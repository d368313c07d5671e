"""EORTC-LCG 2019 flag on synchronous episodes (docs/clinical-rules.md section 4)."""

import pytest

from pipelines.clinical.parameters import ClinicalParameters

PET = {"exam_id": "x1", "exam_date": "2024-01-02", "modality": "fdg_pet_ct"}
MRI = {"exam_id": "x2", "exam_date": "2024-01-20", "modality": "brain_mri"}


def _flag(derive, lesions, imaging=(PET, MRI), params=None, **tables):
    out = derive(params, metastases=lesions, imaging=list(imaging), **tables)
    return out["omd_episodes"].row(0, named=True)


def test_flag_true_with_staging_imaging(derive, lesion):
    ep = _flag(derive, [lesion("L1", "2024-01-05", "bone"), lesion("L2", "2024-01-05")])
    assert (ep["is_eortc_som_nsclc"], ep["eortc_failed_criterion"]) == (True, None)
    assert ep["eortc_unverified_criteria"] == ["all_sites_radically_treatable"]


@pytest.mark.parametrize(("imaging", "failed"), [
    ((MRI,), "fdg_pet_ct"),
    ((PET,), "brain_imaging"),
    ((PET, MRI | {"modality": "brain_ct"}), "brain_imaging"),
    ((PET | {"exam_date": "2023-11-01"}, MRI), "fdg_pet_ct"),  # outside -60 days
])
def test_missing_staging_imaging(derive, lesion, imaging, failed):
    ep = _flag(derive, [lesion("L1", "2024-01-05", "bone")], imaging)
    assert (ep["is_eortc_som_nsclc"], ep["eortc_failed_criterion"]) == (False, failed)


def test_brain_ct_allowed_by_parameter(derive, lesion):
    ep = _flag(derive, [lesion("L1", "2024-01-05", "bone")],
               (PET, MRI | {"modality": "brain_ct"}), ClinicalParameters(allow_brain_ct=True))
    assert ep["is_eortc_som_nsclc"] is True


def test_four_organs_fails_whatever_max_organs(derive, lesion):
    lesions = [lesion("L1", "2024-01-05", "bone"), lesion("L2", "2024-01-05", "liver"),
               lesion("L3", "2024-01-05", "brain"), lesion("L4", "2024-01-05", "adrenal")]
    ep = _flag(derive, lesions, ())  # imaging also missing: the first failure is reported
    assert (ep["omd_state"], ep["eortc_failed_criterion"]) == ("synchronous_omd", "max_3_organs")


def test_episode_after_initial_staging_window(derive, lesion):
    ep = _flag(derive, [lesion("L1", "2024-05-01", "bone")],
               (PET | {"exam_date": "2024-04-20"}, MRI | {"exam_date": "2024-04-20"}))
    assert (ep["omd_state"], ep["eortc_failed_criterion"]) == (
        "synchronous_omd", "found_at_initial_staging")


def test_solitary_liver_lesion_unverified_criteria_and_mdt(derive, lesion):
    mdt = [{"decision_id": "m1", "decision_date": "2024-01-25",
            "all_sites_radically_treatable": True}]
    ep = _flag(derive, [lesion("L1", "2024-01-05", "liver")], mdt_decisions=mdt)
    assert ep["is_eortc_som_nsclc"] is True
    assert ep["eortc_unverified_criteria"] == ["biopsy_of_solitary_metastasis",
                                               "liver_mri_for_solitary_liver_lesion"]
    ep = _flag(derive, [lesion("L1", "2024-01-05", "liver")],
               mdt_decisions=[mdt[0] | {"all_sites_radically_treatable": False}])
    assert ep["eortc_failed_criterion"] == "all_sites_radically_treatable"


def test_flag_null_unless_synchronous(derive, lesion):
    ep = _flag(derive, [lesion("L1", "2025-01-05", "liver")])
    assert ep["omd_state"] == "metachronous_oligorecurrence"
    assert ep["is_eortc_som_nsclc"] is None and ep["eortc_unverified_criteria"] is None

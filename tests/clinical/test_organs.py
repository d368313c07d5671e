"""Organ counting (docs/clinical-rules.md section 2)."""

import polars as pl
import pytest

from pipelines.clinical.organs import organ_label
from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters


def _n_organs(rows, params=DEFAULT_PARAMETERS):
    df = pl.DataFrame(
        [{"lesion_id": f"L{i}", "laterality": None, "site_laterality": None, "site_code": None}
         | r for i, r in enumerate(rows)],
        schema={"lesion_id": pl.String, "organ": pl.String, "site_code": pl.String,
                "laterality": pl.String, "site_laterality": pl.String},
    )
    return df.select(organ_label(params).n_unique()).item()


@pytest.mark.parametrize("organ", ["bone", "lung", "distant_lymph_node", "liver"])
def test_many_lesions_of_one_organ_are_one_organ(organ):
    assert _n_organs([{"organ": organ}] * 4) == 1


def test_both_adrenals_are_one_organ_unless_parameter():
    rows = [{"organ": "adrenal", "laterality": "left"}, {"organ": "adrenal",
                                                         "laterality": "right"}]
    assert _n_organs(rows) == 1
    assert _n_organs(rows, ClinicalParameters(adrenals_one_organ=False)) == 2
    unknown_side = [*rows, {"organ": "adrenal"}]
    assert _n_organs(unknown_side, ClinicalParameters(adrenals_one_organ=False)) == 3


def test_other_counts_by_four_character_site_code():
    assert _n_organs([{"organ": "other", "site_code": "C79.81"},
                      {"organ": "other", "site_code": "C79.82"}]) == 1
    assert _n_organs([{"organ": "other", "site_code": "C79.8"},
                      {"organ": "other", "site_code": "C79.7"}]) == 2


def test_other_without_code_is_its_own_organ():
    assert _n_organs([{"organ": "other"}, {"organ": "other"},
                      {"organ": "other", "site_code": "C79.8"}]) == 3


def test_organs_in_episode(derive, lesion):
    out = derive(metastases=[lesion("L1", "2024-01-05", "bone"),
                             lesion("L2", "2024-01-05", "bone"),
                             lesion("L3", "2024-01-05", "lung", laterality="left"),
                             lesion("L4", "2024-01-05", "lung", laterality="right")])
    ep = out["omd_episodes"].row(0, named=True)
    assert (ep["n_lesions"], ep["n_organs"], ep["organs"]) == (4, 2, ["bone", "lung"])

"""Section 5 of docs/clinical-rules.md: local consolidative therapy of an episode."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.clinical.lct import EPISODE_LCT_COLUMNS, derive_episode_lct
from pipelines.clinical.local_therapy import derive_local_treatments
from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters
from tests.clinical.fixtures_treatments import (
    episode_lesions,
    omd_episodes,
    rows,
    staging,
)

EPISODE_DATE = dt.date(2024, 1, 1)
METASTASES = [
    {"lesion_id": f"L{i}", "patient_id": "P", "organ": organ, "detected_date": "2023-12-20"}
    for i, organ in enumerate(["lung", "bone", "liver", "regional_lymph_node"], start=1)
]


def _day(offset: int) -> str:
    return (EPISODE_DATE + dt.timedelta(days=offset)).isoformat()


def _sbrt(target: str, offset: int, **extra) -> dict:
    return {"course_id": f"C-{target}-{offset}", "patient_id": "P", "target": target,
            "start_date": _day(offset), "total_dose_gy": 30.0, "fractions": 3,
            "technique": "sbrt", **extra}


def _lct(radiotherapy=(), procedures=(), counted=("L1", "L2"), params=DEFAULT_PARAMETERS):
    s = staging(metastases=METASTASES, radiotherapy=list(radiotherapy),
                local_procedures=list(procedures))
    episodes = omd_episodes([{"patient_id": "P", "episode_id": "E", "episode_date": EPISODE_DATE,
                              "n_lesions": len(counted)}])
    lesions = episode_lesions(
        [{"episode_id": "E", "patient_id": "P", "lesion_id": lid, "organ": "x",
          "is_counted": lid in counted} for lid in ("L1", "L2", "L4")]
    )
    out = derive_episode_lct(episodes, lesions, derive_local_treatments(s, params), params)
    assert tuple(out.collect_schema().names()) == EPISODE_LCT_COLUMNS
    (row,) = rows(out)
    return row


def test_all_sites_treated_when_every_counted_lesion_is_radically_treated():
    row = _lct([_sbrt("L1", 10), _sbrt("L2", 20)])
    assert row["all_sites_treated"] is True
    assert row["fraction_lesions_treated"] == 1.0
    assert row["lct_start_date"] == EPISODE_DATE + dt.timedelta(days=10)
    assert row["has_sbrt"] is True
    assert row["lct_modalities"] == ["radiotherapy"]


def test_partial_lct_gives_the_fraction_treated():
    row = _lct([_sbrt("L1", 10)])
    assert row["all_sites_treated"] is False
    assert row["fraction_lesions_treated"] == 0.5
    assert row["n_lesions_treated"] == 1 and row["n_counted_lesions"] == 2


def test_no_lct():
    row = _lct()
    assert row["all_sites_treated"] is False
    assert row["fraction_lesions_treated"] == 0.0
    assert row["lct_start_date"] is None
    assert row["lct_modalities"] == []
    assert row["has_sbrt"] is False


@pytest.mark.parametrize(
    ("offset", "inside"),
    [(-31, False), (-30, True), (0, True), (180, True), (181, False)],
)
def test_lct_window_edges(offset, inside):
    row = _lct([_sbrt("L1", offset)], counted=("L1",))
    assert row["all_sites_treated"] is inside
    expected = EPISODE_DATE + dt.timedelta(days=offset) if inside else None
    assert row["lct_start_date"] == expected


def test_window_follows_the_parameters():
    params = ClinicalParameters(lct_window_days=90, lct_before_days=0)
    assert _lct([_sbrt("L1", 91)], counted=("L1",), params=params)["all_sites_treated"] is False
    assert _lct([_sbrt("L1", -1)], counted=("L1",), params=params)["all_sites_treated"] is False
    assert _lct([_sbrt("L1", 90)], counted=("L1",), params=params)["all_sites_treated"] is True


def test_palliative_therapy_does_not_count():
    row = _lct([_sbrt("L1", 10), _sbrt("L2", 10, intent="palliative")])
    assert row["all_sites_treated"] is False


def test_uncounted_lesions_do_not_have_to_be_treated():
    row = _lct([_sbrt("L1", 10)], counted=("L1",))
    assert row["all_sites_treated"] is True


def test_surgery_and_ablation_modalities():
    procedures = [
        {"procedure_id": "S", "patient_id": "P", "target": "L1", "procedure_date": _day(5),
         "modality": "surgery"},
        {"procedure_id": "A", "patient_id": "P", "target": "L2", "procedure_date": _day(40),
         "modality": "cryoablation"},
    ]
    row = _lct(procedures=procedures)
    assert row["all_sites_treated"] is True
    assert row["lct_modalities"] == ["surgery", "thermal_ablation"]
    assert (row["has_surgery"], row["has_thermal_ablation"], row["has_sbrt"]) == (True, True,
                                                                                   False)


def test_primary_and_regional_nodes_treated_flags():
    rt = [
        _sbrt("primary", 15, course_id="P1", intent="ablative"),
        _sbrt("regional_nodes", 400, course_id="N1", intent="consolidative"),  # outside
    ]
    row = _lct(rt)
    assert row["is_primary_treated"] is True
    assert row["is_regional_nodes_treated"] is False
    # Primary therapy alone is not LCT of the metastases.
    assert row["lct_start_date"] is None
    row = _lct([_sbrt("L4", 15)])  # a regional node lesion treated radically
    assert row["is_regional_nodes_treated"] is True

"""Section 5 of docs/clinical-rules.md: dose, BED, SBRT/SRS, radical intent, lung adequacy."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.clinical.local_therapy import LOCAL_TREATMENT_COLUMNS, derive_local_treatments
from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters
from pipelines.clinical.radical import radical_lesion_therapy
from tests.clinical.fixtures_treatments import d, rows, staging

METASTASES = [
    {"lesion_id": "L1", "patient_id": "P", "organ": "lung", "detected_date": "2024-01-01"},
    {"lesion_id": "L2", "patient_id": "P", "organ": "bone", "detected_date": "2024-01-01"},
    {"lesion_id": "L3", "patient_id": "P", "organ": "brain", "detected_date": "2024-01-01"},
]


def _rt(target="L1", total=54.0, fractions=3, **extra) -> dict:
    return {"course_id": extra.pop("course_id", f"C-{target}-{total}-{fractions}"),
            "patient_id": "P", "target": target, "start_date": "2024-02-01",
            "total_dose_gy": total, "fractions": fractions, **extra}


def _treat(radiotherapy=(), procedures=(), params=DEFAULT_PARAMETERS):
    s = staging(metastases=METASTASES, radiotherapy=list(radiotherapy),
                local_procedures=list(procedures))
    return rows(derive_local_treatments(s, params), ["treatment_id", "phase"])


@pytest.mark.parametrize(
    ("total", "fractions", "bed10"),
    [(54, 3, 151.2), (48, 4, 105.6), (50, 5, 100.0), (60, 8, 105.0), (24, 1, 81.6),
     (30, 10, 39.0), (8, 1, 14.4)],
)
def test_bed10_of_standard_schemes(total, fractions, bed10):
    (row,) = _treat([_rt(total=float(total), fractions=fractions)])
    assert row["bed10_gy"] == pytest.approx(bed10)
    assert row["dose_per_fraction_gy"] == pytest.approx(total / fractions)
    assert row["eqd2_gy"] == pytest.approx(bed10 / 1.2)
    d_ = total / fractions
    assert row["bed3_gy"] == pytest.approx(total * (1 + d_ / 3))


def test_output_columns_are_the_interface():
    out = derive_local_treatments(staging(metastases=METASTASES))
    assert tuple(out.collect_schema().names()) == LOCAL_TREATMENT_COLUMNS


def test_phases_of_a_course_and_target_sum_their_bed():
    out = _treat([
        _rt(total=50.0, fractions=25, course_id="C", phase=1, intent="consolidative"),
        _rt(total=16.0, fractions=2, course_id="C", phase=2),
        _rt(target="L2", total=8.0, fractions=1, course_id="C", phase=1),  # other target
    ])
    l1 = [r for r in out if r["target"] == "L1"]
    assert [r["bed10_gy"] for r in l1] == pytest.approx([60.0, 28.8])
    assert all(r["course_bed10_gy"] == pytest.approx(88.8) for r in l1)
    (l2,) = [r for r in out if r["target"] == "L2"]
    assert l2["course_bed10_gy"] == pytest.approx(14.4)
    # A course is radical on its target when any phase is: the boost phase too.
    assert [r["is_radical"] for r in l1] == [True, True]


@pytest.mark.parametrize(
    ("total", "fractions", "expected"),
    [
        (15.0, 1, True),    # SRS 15 Gy/1 kept
        (30.0, 5, True),    # bone 30 Gy/5 kept
        (8.0, 1, False),    # palliative 8 Gy/1 dropped (BED10 14.4 < 35)
        (20.0, 5, False),   # 20 Gy/5: d = 4 Gy < 5 Gy
        (25.0, 5, True),    # d = 5 Gy exactly, BED10 37.5
        (24.9, 5, False),   # d just below 5 Gy
        (40.0, 8, True),    # 8 fractions exactly
        (45.0, 9, False),   # 9 fractions: too many
        (20.0, 4, False),   # d = 5 Gy, 4 fractions, BED10 30 < 35
    ],
)
def test_sbrt_inferred_at_its_boundaries(total, fractions, expected):
    (row,) = _treat([_rt(total=total, fractions=fractions)])
    assert row["is_sbrt_inferred"] is expected
    assert row["is_sbrt"] is expected
    # No intent recorded: radical exactly when SBRT.
    assert row["is_radical"] is expected


def test_sbrt_bed_floor_is_inclusive():
    params = ClinicalParameters(sbrt_min_bed10_gy=37.5)
    (row,) = _treat([_rt(total=25.0, fractions=5)], params=params)  # BED10 = 37.5
    assert row["is_sbrt_inferred"] is True
    params = ClinicalParameters(sbrt_min_bed10_gy=37.6)
    (row,) = _treat([_rt(total=25.0, fractions=5)], params=params)
    assert row["is_sbrt_inferred"] is False


def test_recorded_technique_is_not_inferred():
    out = _treat([
        _rt(total=8.0, fractions=1, technique="srs"),
        _rt(target="L2", total=30.0, fractions=5, technique="imrt"),
    ])
    by_target = {r["target"]: r for r in out}
    assert by_target["L1"]["is_sbrt"] and not by_target["L1"]["is_sbrt_inferred"]
    assert not by_target["L2"]["is_sbrt"] and not by_target["L2"]["is_sbrt_inferred"]


@pytest.mark.parametrize(
    ("extra", "radical"),
    [
        ({"intent": "ablative", "technique": "imrt"}, True),
        ({"intent": "consolidative", "technique": "3dcrt"}, True),
        ({"intent": "palliative", "technique": "sbrt"}, False),
        ({"technique": "sbrt"}, True),
        ({"technique": "imrt"}, False),
    ],
)
def test_radical_versus_palliative_radiotherapy(extra, radical):
    (row,) = _treat([_rt(total=30.0, fractions=10, **extra)])
    assert row["is_radical"] is radical


def test_surgery_and_thermal_ablation_rows():
    out = _treat(procedures=[
        {"procedure_id": "S1", "patient_id": "P", "target": "L1",
         "procedure_date": "2024-03-01", "modality": "surgery"},
        {"procedure_id": "S2", "patient_id": "P", "target": "L2",
         "procedure_date": "2024-03-02", "modality": "microwave_ablation",
         "intent": "palliative"},
        {"procedure_id": "S3", "patient_id": "P", "target": "primary",
         "procedure_date": "2024-03-03", "modality": "cryoablation", "intent": "ablative"},
    ])
    s1, s2, s3 = out
    assert (s1["modality"], s1["is_radical"], s1["start_date"]) == ("surgery", True,
                                                                     d("2024-03-01"))
    assert (s2["modality"], s2["is_radical"]) == ("thermal_ablation", False)
    assert (s3["modality"], s3["target_kind"], s3["organ"]) == ("thermal_ablation",
                                                                "primary", "lung")
    assert s1["bed10_gy"] is None and s1["is_lung_bed10_adequate"] is None


def test_lung_adequacy_only_for_lung_targets():
    out = _treat([
        _rt(target="L1", total=50.0, fractions=5),      # lung, BED10 100: adequate
        _rt(target="L1", total=48.0, fractions=6, course_id="C2"),  # lung, 86.4: not
        _rt(target="primary", total=54.0, fractions=3),  # primary is a lung target
        _rt(target="L2", total=50.0, fractions=5),      # bone: not applied
        _rt(target="L3", total=24.0, fractions=1),      # brain: not applied
        _rt(target="regional_nodes", total=60.0, fractions=30, intent="consolidative"),
    ])
    flag = {(r["target"], r["treatment_id"]): r["is_lung_bed10_adequate"] for r in out}
    assert flag[("L1", "C-L1-50.0-5")] is True
    assert flag[("L1", "C2")] is False
    assert flag[("primary", "C-primary-54.0-3")] is True
    assert flag[("L2", "C-L2-50.0-5")] is None
    assert flag[("L3", "C-L3-24.0-1")] is None
    assert flag[("regional_nodes", "C-regional_nodes-60.0-30")] is None
    kinds = {r["target"]: (r["target_kind"], r["lesion_id"], r["organ"]) for r in out}
    assert kinds["L3"] == ("lesion", "L3", "brain")
    assert kinds["regional_nodes"] == ("regional_nodes", None, "regional_lymph_node")


def test_radical_lesion_starts_agree_with_radical_module():
    """One rule in one place: local_treatments and radical_lesion_therapy agree."""
    rt = [
        _rt(total=50.0, fractions=25, course_id="C", phase=1, intent="consolidative"),
        _rt(total=16.0, fractions=2, course_id="C", phase=2, start_date="2024-03-20"),
        _rt(target="L2", total=8.0, fractions=1),
        _rt(target="L3", total=24.0, fractions=1, intent="palliative", technique="srs"),
        _rt(target="primary", total=54.0, fractions=3),
    ]
    procs = [{"procedure_id": "S1", "patient_id": "P", "target": "L2",
              "procedure_date": "2024-04-01", "modality": "radiofrequency_ablation"}]
    s = staging(metastases=METASTASES, radiotherapy=rt, local_procedures=procs)
    ours = (
        derive_local_treatments(s)
        .filter("is_radical", target_kind="lesion")
        .group_by("patient_id", "lesion_id", "treatment_id", "modality")
        .agg(therapy_start_date=pl.col("start_date").min())
        .collect()
    )
    theirs = radical_lesion_therapy(s["radiotherapy"], s["local_procedures"]).collect()
    key = ["lesion_id", "therapy_start_date", "modality"]
    assert sorted(ours.select(key).rows()) == sorted(theirs.select(key).rows())

from datetime import date

from pipelines.clinical.radical import radical_lesion_therapy


def _rt(frame, rows):
    base = {"patient_id": "p1", "phase": 1, "fractions": 5, "total_dose_gy": 40.0}
    return frame("radiotherapy", [base | r for r in rows])


def _proc(frame, rows):
    base = {"patient_id": "p1", "modality": "surgery"}
    return frame("local_procedures", [base | r for r in rows])


def _run(rt, proc):
    return radical_lesion_therapy(rt, proc).sort("lesion_id", "therapy_start_date").collect()


def test_course_phases_form_one_therapy_starting_at_first_start(frame):
    rt = _rt(frame, [
        {"course_id": "c1", "target": "L1", "phase": 1, "start_date": "2024-01-10",
         "intent": "consolidative", "total_dose_gy": 45.0, "fractions": 15},
        {"course_id": "c1", "target": "L1", "phase": 2, "start_date": "2024-02-01",
         "intent": "consolidative", "total_dose_gy": 15.0, "fractions": 5},
    ])
    out = _run(rt, _proc(frame, []))
    assert out.rows() == [("p1", "L1", date(2024, 1, 10), "radiotherapy")]


def test_primary_regional_nodes_and_palliative_excluded(frame):
    rt = _rt(frame, [
        {"course_id": "c1", "target": "primary", "start_date": "2024-01-10", "technique": "sbrt"},
        {"course_id": "c2", "target": "regional_nodes", "start_date": "2024-01-10",
         "intent": "ablative"},
        {"course_id": "c3", "target": "L2", "start_date": "2024-01-10", "technique": "sbrt",
         "intent": "palliative"},
        {"course_id": "c4", "target": "L3", "start_date": "2024-01-10", "total_dose_gy": 8.0,
         "fractions": 1},  # palliative 8 Gy/1 inferred not SBRT
        {"course_id": "c5", "target": "L4", "start_date": "2024-03-01", "total_dose_gy": 30.0,
         "fractions": 5},  # bone 30 Gy/5 inferred SBRT
    ])
    proc = _proc(frame, [
        {"procedure_id": "s1", "target": "primary", "procedure_date": "2024-01-05"},
        {"procedure_id": "s2", "target": "L5", "procedure_date": "2024-01-05",
         "modality": "microwave_ablation"},
        {"procedure_id": "s3", "target": "L6", "procedure_date": "2024-01-05",
         "intent": "palliative"},
    ])
    out = _run(rt, proc)
    assert out.select("lesion_id", "modality").rows() == [
        ("L4", "radiotherapy"), ("L5", "thermal_ablation")]

"""Row defects and cross-record warnings: each kind reported with the right table, row,
column, rule and record key. One hand-made batch carries one defect per extra row (rows
chosen so that no defect cascades), validated once for speed; one test per kind."""

from __future__ import annotations

import pytest

from pipelines.contract.dialects import DEFAULT
from pipelines.contract.rules import RULES
from pipelines.contract.tables import TABLES_BY_NAME
from pipelines.ingest.validate import validate_batch
from tests.ingest.ingest_batches import clean_tables, write_batch

P = "patient_id,sex,birth_year,center_id,smoking_status,pack_years,vital_status,death_date,last_contact_date"
T = "tumor_id,patient_id,diagnosis_date,topography_code,morphology_code,pdl1_tps_percent"
M = "lesion_id,patient_id,tumor_id,organ,detected_date,is_diffuse"
R = "course_id,phase,patient_id,target,start_date,end_date,total_dose_gy,fractions"

# (table, columns, values, expected defects as (column, rule)); rows appended in this order.
EXTRA_ROWS = [
    ("patients", P, "P004,Q,1950,,,,alive,,2025-01-01", [("sex", "code_list")]),
    ("patients", P, "P005,F,19x0,,,,alive,,2025-01-01", [("birth_year", "type_int")]),
    ("patients", P, "P006,F,1950,,,,dead,,2025-01-01", [("death_date", "required_if")]),
    ("patients", P, "P007,F,1950,,,-1,alive,,2025-01-01", [("pack_years", "range")]),
    ("patients", P, "P008,F,1950,,,,alive,,", [("last_contact_date", "required")]),
    ("patients", P, "P009,F,1950,,,,alive,,2025-02-30", [("last_contact_date", "type_date")]),
    ("patients", P, "P010,F,1950,,,,alive,,2025-06",
     [("last_contact_date", "partial_date_not_allowed")]),
    ("patients", P, "P011,F,1950,,,,alive,,2025-01-01", [("patient_id", "duplicate_key")]),
    ("patients", P, "P011,M,1951,,,,alive,,2025-01-01", [("patient_id", "duplicate_key")]),
    ("patients", P, "P012, f ,1950,,Never,,ALIVE,,2025-01-01", []),  # stray case and blanks
    ("patients", P, "P013,F,1950,,,,dead,2020-01-01,2020-01-01",
     [("death_date", "death_before_diagnosis")]),
    ("patients", P, "P014,F,1990,,,,alive,,2025-01-01", []),
    ("patients", P, "P015,F,1950,,,,dead,2024-01-01,2024-06-01",
     [("last_contact_date", "last_contact_after_death")]),
    ("primary_tumors", T, "T004,P001,2024-01-10,C50.1,8140/3,", [("topography_code",
                                                                  "code_pattern")]),
    ("primary_tumors", T, "T005,P001,2024-13,C34.1,8140/3,", [("diagnosis_date", "type_date")]),
    ("primary_tumors", T, "T006,P001,2024-01-10,C34.1,8140/3,50,5",
     [("pdl1_tps_percent", "type_decimal")]),
    ("primary_tumors", T, "T007,P999,2024-01-10,C34.1,8140/3,",
     [("patient_id", "orphan_reference")]),
    ("primary_tumors", T, "T008,P012,2023,c341 ,8140/3,", []),  # partial date: imputed
    ("primary_tumors", T, "T010,P013,2021-01-01,C34.1,8140/3,", []),
    ("primary_tumors", T, "T011,P014,1985-05-05,C34.1,8140/3,",
     [("diagnosis_date", "event_before_birth")]),
    ("metastases", M, "L005,P002,T001,bone,2024-03-20,no",
     [("tumor_id", "reference_other_patient")]),
    ("metastases", M, "L006,P001,T001,Brain,2024-01-20,maybe", [("is_diffuse", "type_bool")]),
    ("metastases", M, "L007,P001,T404,liver,2024-01-20,no", [("tumor_id", "orphan_reference")]),
    ("radiotherapy", R, "R003,1,P001,L001,2024-02-01,2024-02-01,3000,1",
     [("total_dose_gy", "dose_in_cgy")]),
    ("radiotherapy", R, "R004,1,P001,L001,2024-02-10,2024-02-01,30,5",
     [("end_date", "end_before_start")]),
    ("radiotherapy", R, "R005,1,P001,Primary,2024-02-01,,30,0", [("fractions", "range")]),
    ("radiotherapy", R, "R006,1,P001,L404,2024-02-01,,30,5", [("target", "orphan_reference")]),
    ("radiotherapy", R, "R007,1,P002,primary,2024-02-01,,30,5",
     [("start_date", "radiotherapy_before_diagnosis")]),
    ("disease_events", "event_id,patient_id,event_date,event_type,lesion_id",
     "V003,P001,2024-09-01,lesion_progression,", [("lesion_id", "required_if")]),
    ("disease_events", "event_id,patient_id,event_date,event_type,lesion_id",
     "V004,P001,,regional_progression,", [("event_date", "required")]),
    ("systemic_therapies", "therapy_id,patient_id,drug_name,atc_code,start_date",
     "D004,P001,cisplatin,XYZ,2024-02-20", [("atc_code", "code_pattern")]),
    ("systemic_therapies", "therapy_id,patient_id,drug_name,atc_code,start_date",
     "D005,P001,cisplatin,,1800-01-01", [("start_date", "range")]),  # before 1900
    ("imaging", "exam_id,patient_id,exam_date,modality", "E004,P001,2024-01-15,xray",
     [("modality", "code_list")]),
    ("imaging", "exam_id,patient_id,exam_date,modality", "E005,P002,2025-04-01,ct",
     [("exam_date", "imaging_after_last_contact")]),
    ("toxicities", "toxicity_id,patient_id,course_id,onset_date,ctcae_term,grade",
     "X003,P001,R999,2024-03-01,Fatigue,1", [("course_id", "orphan_reference")]),
    ("toxicities", "toxicity_id,patient_id,course_id,onset_date,ctcae_term,grade",
     "X004,P001,,2024-03-01,Fatigue,7", [("grade", "range")]),
    ("toxicities", "toxicity_id,patient_id,course_id,onset_date,ctcae_term,grade",
     "X005,P001,,2024-03-01,Pneumonitis,5", [("grade", "grade5_alive")]),
]


def _messy_tables():
    tables = clean_tables()
    expected = []
    for table, header, line, defects in EXTRA_ROWS:
        columns = header.split(",")
        values = line.split(",")
        if len(values) > len(columns):  # a decimal comma in the last column
            values = values[:len(columns) - 1] + [",".join(values[len(columns) - 1:])]
        row = {c: "" for c in tables[table][0]} | dict(zip(columns, values, strict=True))
        tables[table].append(row)
        row_number = len(tables[table]) + 1  # header is line 1
        key = "|".join(row[k].strip() for k in TABLES_BY_NAME[table].key)
        expected += [(table, row_number, column, rule, key) for column, rule in defects]
    return tables, expected


_, EXPECTED = _messy_tables()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tables, _ = _messy_tables()
    return validate_batch(write_batch(tmp_path_factory.mktemp("messy"), tables), DEFAULT)


def _found(report):
    return {
        (r["table_name"], r["row_number"], r["column_name"], r["rule_id"], r["record_key"])
        for r in report.row_defects.iter_rows(named=True)
    }


@pytest.mark.parametrize("defect", EXPECTED, ids=[f"{d[3]}-{d[0]}-{d[1]}" for d in EXPECTED])
def test_defect_reported_with_rule_row_column_and_key(report, defect):
    assert defect in _found(report)


def test_nothing_else_is_reported(report):
    assert _found(report) == set(EXPECTED)


def test_every_row_rule_kind_is_covered():
    covered = {d[3] for d in EXPECTED}
    row_rules = {r for r, rule in RULES.items() if rule.disposition != "batch_refusal"}
    assert row_rules - covered == {"parent_quarantined"}  # tested in the cascade tests


def test_defect_rows_carry_disposition_and_plain_reason(report):
    for row in report.row_defects.iter_rows(named=True):
        assert row["disposition"] == RULES[row["rule_id"]].disposition
        assert row["reason"] == RULES[row["rule_id"]].reason
        assert row["file"] == f"{row['table_name']}.csv"


def test_too_many_quarantined_rows_refuse_the_batch(report):
    assert not report.ok
    assert {d.rule_id for d in report.batch_defects} == {"quarantine_rate"}

"""A tiny hand-made clean batch (3 patients) and helpers to write it in any dialect and
format, or with one cell changed. Values are in the default dialect's spelling."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import hashlib
import json
from pathlib import Path

import polars as pl

from pipelines.contract.dialects import Dialect
from pipelines.contract.tables import TABLES, TABLES_BY_NAME

BATCH_ID = "2026-11-01"


def _rows(header: str, *lines: str) -> list[dict[str, str]]:
    names = header.split(",")
    return [dict(zip(names, line.split(","), strict=True)) for line in lines]


CLEAN: dict[str, list[dict[str, str]]] = {
    "patients": _rows(
        "patient_id,sex,birth_year,center_id,smoking_status,pack_years,vital_status,"
        "death_date,last_contact_date",
        "P001,F,1950,C01,former,30.5,alive,,2025-06-01",
        "P002,M,1960,C01,never,,dead,2025-03-01,2025-03-01",
        "P003,F,1955,C02,current,40,alive,,2025-05-01",
    ),
    "primary_tumors": _rows(
        "tumor_id,patient_id,diagnosis_date,topography_code,morphology_code,laterality,"
        "tnm_edition,clinical_t,clinical_n,clinical_m,stage_group,ecog_at_diagnosis,egfr,alk,"
        "ros1,kras_g12c,braf_v600e,met_ex14,ret,pdl1_tps_percent",
        "T001,P001,2024-01-10,C34.1,8140/3,left,8,cT2a,cN0,cM1b,IVA,1,negative,negative,"
        "negative,negative,negative,negative,negative,50",
        "T002,P002,2024-03-05,C341,8070/3,right,,cT3,cN2,cM1c,IVB,0,not_tested,not_tested,"
        "not_tested,not_tested,not_tested,not_tested,not_tested,",
        "T003,P003,2024-05-02,C34.3,8140/3,right,9,cT1,cN1,cM1b,IVA,1,positive,negative,"
        "negative,negative,negative,negative,negative,5.5",
    ),
    "metastases": _rows(
        "lesion_id,patient_id,tumor_id,organ,site_code,laterality,detected_date,"
        "detection_modality,biopsy_confirmed,is_diffuse,resolved_date",
        "L001,P001,T001,brain,C79.31,left,2024-01-20,brain_mri,no,no,",
        "L002,P001,T001,adrenal,C7972,left,2024-01-20,fdg_pet_ct,yes,no,",
        "L003,P002,T002,bone,C79.5,midline,2024-03-20,fdg_pet_ct,no,no,",
        "L004,P003,T003,liver,C78.7,unknown,2024-05-10,ct,,,",
    ),
    "imaging": _rows(
        "exam_id,patient_id,exam_date,modality,purpose,response",
        "E001,P001,2024-01-15,fdg_pet_ct,staging,",
        "E002,P001,2024-04-15,ct,response,iCR",
        "E003,P003,2024-05-05,brain_mri,staging,",
    ),
    "disease_events": _rows(
        "event_id,patient_id,event_date,event_type,lesion_id,basis,confirmed",
        "V001,P001,2024-09-01,lesion_progression,L001,imaging,",
        "V002,P003,2024-10-01,regional_progression,,imaging,true",
    ),
    "radiotherapy": _rows(
        "course_id,phase,patient_id,target,start_date,end_date,total_dose_gy,fractions,"
        "technique,intent,dose_reference",
        "R001,1,P001,L001,2024-02-01,2024-02-01,24,1,srs,ablative,",
        "R001,2,P001,L002,2024-02-05,2024-02-12,37.5,5,sbrt,ablative,isocenter",
        "R002,1,P002,primary,2024-04-01,2024-05-10,60,30,vmat,consolidative,prescription",
    ),
    "local_procedures": _rows(
        "procedure_id,patient_id,target,procedure_date,modality,intent",
        "S001,P003,L004,2024-06-01,microwave_ablation,ablative",
    ),
    "systemic_therapies": _rows(
        "therapy_id,patient_id,drug_name,atc_code,start_date,end_date,line_number,stop_reason",
        "D001,P001,pembrolizumab,L01XC18,2024-02-20,,1,",
        "D002,P002,carboplatin,L01XA02,2024-04-01,2024-06-01,1,completed",
        "D003,P003,osimertinib,L01EB04,2024-05-20,,1,",
    ),
    "toxicities": _rows(
        "toxicity_id,patient_id,course_id,onset_date,ctcae_term,grade,attribution,"
        "ctcae_version",
        "X001,P002,R002,2024-05-20,Pneumonitis,2,radiotherapy,",
        "X002,P001,,2024-03-01,Fatigue,1,systemic,5.0",
    ),
    "mdt_decisions": _rows(
        "decision_id,patient_id,decision_date,all_sites_radically_treatable,decision",
        "M001,P001,2024-01-25,yes,radical_local_therapy",
    ),
}


def clean_tables() -> dict[str, list[dict[str, str]]]:
    return copy.deepcopy(CLEAN)


def in_dialect(tables: dict[str, list[dict[str, str]]], dialect: Dialect):
    """The same values spelt as `dialect` writes them (dates, decimal mark)."""
    out = copy.deepcopy(tables)
    for name, rows in out.items():
        table = TABLES_BY_NAME[name]
        for row in rows:
            for column, value in row.items():
                if column not in table.column_names or not value:
                    continue
                kind = table.column(column).type
                if kind == "date" and len(value) == 10:
                    row[column] = dt.date.fromisoformat(value).strftime(dialect.date_format)
                elif kind == "decimal":
                    row[column] = value.replace(".", dialect.decimal_mark)
    return out


def write_batch(root: Path, tables: dict[str, list[dict[str, str]]],
                dialect: Dialect | None = None, fmt: str = "csv", manifest: bool = True,
                batch_id: str = BATCH_ID, header_aliases: dict[str, dict[str, str]] | None = None,
                ) -> Path:
    """Write the batch folder; returns it. `header_aliases`: table -> column -> header."""
    delimiter = dialect.delimiter if dialect else ","
    encoding = dialect.encoding if dialect else "utf-8"
    batch_dir = root / batch_id
    batch_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, rows in tables.items():
        columns = list(rows[0]) if rows else list(TABLES_BY_NAME[name].column_names)
        renamed = [(header_aliases or {}).get(name, {}).get(c, c) for c in columns]
        path = batch_dir / f"{name}.{fmt}"
        if fmt == "csv":
            with path.open("w", encoding=encoding, newline="") as f:
                writer = csv.writer(f, delimiter=delimiter, lineterminator="\n")
                writer.writerow(renamed)
                writer.writerows([[row.get(c, "") for c in columns] for row in rows])
        else:
            frame = pl.DataFrame({new: [row.get(c) or None for row in rows]
                                  for c, new in zip(columns, renamed, strict=True)},
                                 schema={new: pl.String for new in renamed})
            if fmt == "parquet":
                frame.write_parquet(path)
            else:
                frame.write_excel(path)
        files[path.name] = {"rows": len(rows), "sha256": hashlib.sha256(
            path.read_bytes()).hexdigest()}
    if manifest:
        (batch_dir / "manifest.json").write_text(json.dumps({
            "contract_version": "1", "registry": "TEST", "batch_id": batch_id,
            "data_cutoff_date": "2025-06-30", "files": files,
        }))
    return batch_dir


def with_cell(tables, table: str, key: str, column: str, value: str):
    """A copy with one cell changed (row found by its first key column)."""
    out = copy.deepcopy(tables)
    key_column = TABLES_BY_NAME[table].key[0]
    rows = [r for r in out[table] if r[key_column] == key]
    assert rows, (table, key)
    for row in rows:
        row[column] = value
    return out


ALL_TABLES = [t.name for t in TABLES]

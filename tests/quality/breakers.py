"""How to break each check of the catalogue on the tiny warehouse: one mutation per check,
derived from the check's kind for generated checks, written by hand for clinical ones."""

from __future__ import annotations

import duckdb

from pipelines.contract.tables import TABLES_BY_NAME
from pipelines.quality.contract_suites import expected_staging_types
from pipelines.quality.relations import default_relations, qualified
from pipelines.quality.specs import CheckSpec
from pipelines.sql_quoting import quote_ident
from tests.quality.tiny_warehouse import BATCH_ID

S = "staging"
BY_CHECK_ID: dict[str, str] = {
    "systemic_therapies__start_date__before_first_diagnosis":
        "update staging.systemic_therapies set start_date = date '2020-01-01' "
        "where therapy_id = 'X1'",
    "patients__death_before_diagnosis":
        "update staging.patients set death_date = date '2023-01-01' where patient_id = 'P2'",
    "patients__last_contact_after_death":
        "update staging.patients set last_contact_date = date '2024-06-01' where patient_id = 'P2'",
    "patients__death_date_for_living":
        "update staging.patients set death_date = date '2025-01-01' where patient_id = 'P1'",
    "patients__pack_years_never_smoker":
        "update staging.patients set pack_years = 10 where patient_id = 'P3'",
    "patients__without_primary": "delete from staging.primary_tumors where patient_id = 'P3'",
    "primary_tumors__age_at_diagnosis":
        "update staging.patients set birth_year = 2015 where patient_id = 'P1'",
    "primary_tumors__m1_without_metastasis":
        "delete from staging.metastases where patient_id = 'P2'",
    "metastases__resolved_before_detected":
        "update staging.metastases set resolved_date = date '2023-12-01' where lesion_id = 'L1'",
    "disease_events__progression_before_detection":
        "update staging.disease_events set event_date = date '2024-01-01' where event_id = 'D1'",
    "radiotherapy__dose_per_fraction":
        "update staging.radiotherapy set total_dose_gy = 40 where course_id = 'C1'",
    "radiotherapy__course_total_dose":
        "update staging.radiotherapy set total_dose_gy = 150 where course_id = 'C3' and phase = 2",
    "toxicities__grade5_alive": "update staging.toxicities set grade = 5 where toxicity_id = 'TX1'",
    "systemic_therapies__unrecognised_drug":
        "update staging.systemic_therapies set atc_code = null, drug_name = 'drug zz' "
        "where therapy_id = 'X1'",
    "toxicities__before_course":
        "update staging.toxicities set onset_date = date '2024-01-01' where toxicity_id = 'TX1'",
    "systemic_therapies__drug_period_too_long":
        "update staging.systemic_therapies set end_date = date '2027-01-01' where therapy_id = 'X1'",
    "omd_episodes__omd_family_consistent":
        "update marts.omd_episodes set omd_family = 'repeat' where episode_id = 'EP3'",
    "omd_episodes__eortc_flag_on_synchronous":
        "update marts.omd_episodes set is_eortc_som_nsclc = null where episode_id = 'EP1'",
    "omd_episodes__synchronous_staging_imaging":
        "delete from staging.imaging where exam_id = 'E2'",
    "omd_episodes__unclassifiable_share":
        "update marts.omd_episodes set omd_state = 'unclassifiable_imputed_date', "
        "omd_family = null where episode_id = 'EP3'",
    "cohort_attrition__attrition_non_increasing":
        "update marts.cohort_attrition set remaining = 5 where step_order = 3",
    "therapy_lines__line_end_before_start":
        "update marts.therapy_lines set line_end_date = date '2023-01-01' "
        "where patient_id = 'P1'",
    "episode_outcomes__pfs_not_after_os":
        "update marts.episode_outcomes set pfs_days = 600 where episode_id = 'EP1'",
}


def _first(rel: str, where: str = "true") -> str:
    return f"rowid = (select min(rowid) from {rel} where {where})"


def break_check(con: duckdb.DuckDBPyConnection, spec: CheckSpec) -> None:
    """Mutate the clean tiny warehouse so that `spec` fails."""
    if spec.check_id in BY_CHECK_ID:
        con.execute(BY_CHECK_ID[spec.check_id])
        return
    rel = qualified(default_relations()[spec.table])
    col = quote_ident(spec.column) if spec.column else None
    kind = spec.kind
    if kind == "not_null":
        con.execute(f"update {rel} set {col} = null where {_first(rel)}")
    elif kind == "in_set":
        bad = "'zzz'" if isinstance(spec.params["value_set"][0], str) else "9"
        con.execute(f"update {rel} set {col} = {bad} where {_first(rel)}")
    elif kind == "regex":
        con.execute(f"update {rel} set {col} = 'not a code' where {_first(rel)}")
    elif kind == "between":
        low, high = spec.params["min_value"], spec.params["max_value"]
        bad = high + 1 if high is not None else low - 1
        con.execute(f"update {rel} set {col} = {bad} where {_first(rel)}")
    elif kind == "schema":
        last = list(expected_staging_types(TABLES_BY_NAME[spec.table]))[-1]
        con.execute(f"alter table {rel} drop column {quote_ident(last)}")
    elif kind == "key_unique":
        con.execute(f"insert into {rel} select * from {rel} where {_first(rel)}")
    elif kind in ("reference", "same_patient"):
        literals = spec.params.get("literals") or ["-"]
        quoted = ", ".join("'" + v + "'" for v in literals)
        where = f"{col} is not null and {col} not in ({quoted})"
        if kind == "reference":
            con.execute(f"update {rel} set {col} = 'no_such_parent' where {_first(rel, where)}")
        else:
            con.execute(f"update {rel} set patient_id = case patient_id when 'P1' then 'P2' "
                        f"else 'P1' end where {_first(rel, where)}")
    elif kind == "required_if":
        other, value = spec.columns["condition_column"], spec.params["condition_value"]
        con.execute(f"update {rel} set {col} = null where {quote_ident(other)} = '{value}'")
    elif kind == "end_before_start":
        start = quote_ident(spec.columns["start_column"])
        con.execute(f"update {rel} set {col} = {start} - 10 where {_first(rel, f'{col} is not null')}")
    elif kind in ("quarantine_rule", "quarantine_rate"):
        rule_id = spec.params.get("rule_id", "required")
        con.execute(
            "insert into ops.quarantine (batch_id, table_name, file, row_number, rule_id, "
            "disposition, record_key) values (?, ?, ?, 7, ?, 'row_quarantine', 'K7')",
            [BATCH_ID, spec.table, f"{spec.table}.csv", rule_id],
        )
    elif kind == "after_last_contact":
        con.execute(f"update {rel} set {col} = date '2030-01-01' where {_first(rel, f'{col} is not null')}")
    elif kind == "after_cutoff":  # the tiny warehouse's cut-off is 2026-10-31
        con.execute(f"update {rel} set {col} = date '2026-11-30' where {_first(rel, f'{col} is not null')}")
    elif kind == "before_birth":
        con.execute(f"update {rel} set {col} = date '1901-01-01' where {_first(rel, f'{col} is not null')}")
    elif kind in ("before_first_diagnosis", "before_lesion_detection"):
        con.execute(f"update {rel} set {col} = date '2000-01-01' where {_first(rel, f'{col} is not null')}")
    else:
        raise AssertionError(f"no way to break {spec.check_id} ({kind})")

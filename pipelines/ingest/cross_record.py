"""Cross-record implausibilities (disposition `cross_record_warning`, docs/data-dictionary.md): the rows load, the keys are listed, the patients are flagged.

Each check reads the `loaded_<table>` views (raw rows not quarantined) and reports rows of
the first table named for the rule in CROSS_RECORD_RULES (the record to review). A partial
diagnosis or detection date counts as its earliest possible day when the question is "before
diagnosis", and its latest when the question is "before birth", so imputation alone never
raises a warning.
"""

from __future__ import annotations

from pipelines.contract.tables import TABLES_BY_NAME
from pipelines.ingest.row_rules import record_key_sql

PARTIAL = "$date_format, $month_format, $year_format"


def _select(table_name: str, alias: str, column: str, rule_id: str, where: str,
            join: str = "") -> str:
    return (
        f"SELECT '{rule_id}' AS rule_id, '{table_name}' AS table_name, {alias}._file AS file, "
        f"{alias}._row_number AS row_number, '{column}' AS column_name, "
        f"{record_key_sql(TABLES_BY_NAME[table_name], alias)} AS record_key, "
        f"oligo_text({alias}.patient_id) AS patient_id FROM loaded_{table_name} {alias} "
        f"{join} WHERE {where}"
    )


def _first_diagnosis(alias: str) -> str:
    return (f"(SELECT min(oligo_date_earliest(t.diagnosis_date, {PARTIAL})) "
            f"FROM loaded_primary_tumors t WHERE oligo_text(t.patient_id) = "
            f"oligo_text({alias}.patient_id))")


def _patient(alias: str, condition: str) -> str:
    """A semi join (EXISTS, as a join: the rows are not looked up one by one) to the row's
    loaded patient meeting `condition`."""
    return (f"SEMI JOIN loaded_patients pt ON oligo_text(pt.patient_id) = "
            f"oligo_text({alias}.patient_id) AND {condition}")


# rule id -> statements (constant text; $-parameters bound from the dialect and $dead).
CHECKS: dict[str, tuple[str, ...]] = {
    "death_before_diagnosis": (
        _select("patients", "x", "death_date", "death_before_diagnosis",
                f"oligo_date(x.death_date, $date_format) < {_first_diagnosis('x')}"),
    ),
    "radiotherapy_before_diagnosis": (
        _select("radiotherapy", "x", "start_date", "radiotherapy_before_diagnosis",
                f"oligo_date(x.start_date, $date_format) < {_first_diagnosis('x')}"),
    ),
    "grade5_alive": (
        _select("toxicities", "x", "grade", "grade5_alive", "oligo_int(x.grade) = 5",
                _patient("x", "lower(oligo_trim(pt.vital_status)) <> $dead")),
    ),
    "imaging_after_last_contact": (
        _select("imaging", "x", "exam_date", "imaging_after_last_contact", "true",
                _patient("x", "oligo_date(x.exam_date, $date_format) "
                         "> oligo_date(pt.last_contact_date, $date_format)")),
    ),
    "last_contact_after_death": (
        _select("patients", "x", "last_contact_date", "last_contact_after_death",
                "oligo_date(x.last_contact_date, $date_format) > "
                "oligo_date(x.death_date, $date_format)"),
    ),
    "event_before_birth": (
        _select("primary_tumors", "x", "diagnosis_date", "event_before_birth", "true",
                _patient("x", f"year(oligo_date_latest(x.diagnosis_date, {PARTIAL})) "
                         "< oligo_int(pt.birth_year)")),
        _select("metastases", "x", "detected_date", "event_before_birth", "true",
                _patient("x", f"year(oligo_date_latest(x.detected_date, {PARTIAL})) "
                         "< oligo_int(pt.birth_year)")),
    ),
}
EXTRA_PARAMETERS = {"dead": "dead"}  # the vital_status code meaning dead (contract VITAL)

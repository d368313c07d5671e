"""Hand-written cross-record plausibility and completeness checks on staging (warnings: the
rows load, the check fails with the keys listed; docs/data-dictionary.md).

Sources: docs/data-dictionary.md (column meanings), docs/clinical-rules.md, CTCAE v5.0 (grade 5 =
death), TNM 8th edition (cM1 = distant metastasis), and the thresholds of
pipelines/quality/thresholds.py, each cited there.
"""

from __future__ import annotations

from pipelines.contract.rules import RULES
from pipelines.contract.tables import TABLES
from pipelines.quality.relations import asset_key
from pipelines.quality.specs import CheckSpec, Engine, Severity
from pipelines.quality.thresholds import DEFAULT_THRESHOLDS, QualityThresholds

PLAUSIBILITY = "plausibility"
COMPLETENESS = "completeness"


def _warn(check_id: str, table: str, sql_file: str, description: str, *,
          subcategory: str = "temporal", category: str = PLAUSIBILITY,
          reads: tuple[str, ...] = (), threshold_pct: float = 0.0,
          params: dict | None = None, columns: dict | None = None,
          column: str | None = None, rule_id: str | None = None) -> CheckSpec:
    if rule_id is not None:  # a contract cross-record rule: its category is declared there
        category, subcategory = str(RULES[rule_id].kahn_category), RULES[rule_id].kahn_subcategory
    return CheckSpec(
        check_id=check_id, asset=asset_key(table), severity=Severity.WARN,
        threshold_pct=threshold_pct, kahn_category=category, kahn_subcategory=subcategory,
        description=description, engine=Engine.SQL, kind=check_id.split("__")[-1],
        table=table, column=column, sql_file=f"clinical/{sql_file}.sql",
        relations={"t": table, **{name: name for name in reads}},
        columns=columns or {}, params=params or {},
        deps=tuple(asset_key(name) for name in reads if name != table), rule_id=rule_id,
    )


def dated_columns() -> list[tuple[str, str]]:
    """(table, date column) of every dated event in the contract, patients excepted."""
    return [(t.name, c.name) for t in TABLES if t.name != "patients"
            for c in t.columns if c.type == "date"]


def clinical_checks(t: QualityThresholds = DEFAULT_THRESHOLDS) -> list[CheckSpec]:
    specs: list[CheckSpec] = []
    for table, column in dated_columns():
        specs.append(_warn(
            f"{table}__{column}__after_last_contact", table, "after_last_contact",
            f"{table}.{column} is on or before the patient's last contact date",
            reads=("patients",), columns={"date_column": column}, column=column,
            rule_id="imaging_after_last_contact" if table == "imaging" else None))
        specs.append(_warn(
            f"{table}__{column}__before_birth", table, "before_birth",
            f"{table}.{column} is not in a year before the patient's birth year",
            reads=("patients",), columns={"date_column": column}, column=column,
            rule_id="event_before_birth"))
    specs += _clinical_rule_checks()
    for table, column in (("radiotherapy", "start_date"), ("local_procedures", "procedure_date")):
        specs.append(_warn(
            f"{table}__{column}__before_first_diagnosis", table, "before_first_diagnosis",
            f"{table}.{column} is not before the patient's first diagnosis",
            reads=("primary_tumors",), columns={"date_column": column}, column=column,
            rule_id="radiotherapy_before_diagnosis" if table == "radiotherapy" else None))
    for table, column in (("radiotherapy", "start_date"), ("local_procedures", "procedure_date")):
        specs.append(_warn(
            f"{table}__{column}__before_lesion_detection", table,
            "treatment_before_lesion_detection",
            f"local therapy of a lesion ({table}.{column}) does not start before the lesion "
            "was first seen", reads=("metastases",), columns={"date_column": column},
            column=column))
    specs += [
        _warn("systemic_therapies__start_date__before_first_diagnosis", "systemic_therapies",
              "antineoplastic_before_diagnosis", "an antineoplastic drug (ATC L01) does not "
              "start before the patient's first diagnosis", reads=("primary_tumors",),
              column="start_date"),
        _warn("patients__death_before_diagnosis", "patients", "death_before_diagnosis",
              "death on or after the diagnosis of every primary", reads=("primary_tumors",),
              rule_id="death_before_diagnosis"),
        _warn("patients__last_contact_after_death", "patients", "last_contact_after_death",
              "the last contact of a dead patient is not after the death date",
              rule_id="last_contact_after_death"),
        _warn("patients__death_date_for_living", "patients", "death_date_for_living",
              "only a patient recorded as dead has a death date", subcategory="atemporal"),
        _warn("patients__pack_years_never_smoker", "patients", "pack_years_never_smoker",
              "pack-years are recorded only for ever smokers (former, current)",
              subcategory="atemporal"),
        _warn("patients__without_primary", "patients", "patient_without_primary",
              "every patient has at least one primary lung tumour", category=COMPLETENESS,
              subcategory="atemporal", reads=("primary_tumors",)),
        _warn("primary_tumors__age_at_diagnosis", "primary_tumors", "age_at_diagnosis",
              f"age at diagnosis within {t.min_age_at_diagnosis}-{t.max_age_at_diagnosis} years",
              subcategory="atemporal", reads=("patients",),
              params={"min_age_at_diagnosis": t.min_age_at_diagnosis,
                      "max_age_at_diagnosis": t.max_age_at_diagnosis}),
        _warn("primary_tumors__m1_without_metastasis", "primary_tumors", "m1_without_metastasis",
              "a primary staged cM1 has at least one distant metastasis recorded (at most "
              f"{t.m1_without_metastasis_allowed_pct} % without)", category=COMPLETENESS,
              subcategory="atemporal", reads=("metastases",),
              threshold_pct=t.m1_without_metastasis_allowed_pct),
        _warn("metastases__resolved_before_detected", "metastases", "resolved_before_detected",
              "a lesion is not resolved before it was detected"),
        _warn("disease_events__progression_before_detection", "disease_events",
              "progression_before_detection",
              "a lesion_progression is not before the lesion was detected",
              reads=("metastases",)),
        _warn("radiotherapy__dose_per_fraction", "radiotherapy", "dose_per_fraction_range",
              f"dose per fraction within {t.min_dose_per_fraction_gy}-"
              f"{t.max_dose_per_fraction_gy} Gy", subcategory="atemporal",
              params={"min_dose_per_fraction_gy": t.min_dose_per_fraction_gy,
                      "max_dose_per_fraction_gy": t.max_dose_per_fraction_gy}),
        _warn("radiotherapy__course_total_dose", "radiotherapy", "course_total_dose",
              f"total physical dose of a course and target, phases summed, at most "
              f"{t.max_course_dose_gy} Gy", subcategory="atemporal",
              params={"max_course_dose_gy": t.max_course_dose_gy}),
        _warn("toxicities__grade5_alive", "toxicities", "grade5_alive",
              "CTCAE grade 5 only for a patient recorded as dead", reads=("patients",),
              rule_id="grade5_alive"),
        _warn("toxicities__before_course", "toxicities", "toxicity_before_course",
              "a toxicity attributed to a course does not start before the course",
              reads=("radiotherapy",)),
        _warn("systemic_therapies__drug_period_too_long", "systemic_therapies",
              "drug_period_too_long",
              f"drug periods longer than {t.max_drug_period_days} days are flagged "
              f"(at most {t.long_drug_period_allowed_pct} % allowed)", reads=("patients",),
              threshold_pct=t.long_drug_period_allowed_pct,
              params={"max_drug_period_days": t.max_drug_period_days}),
    ]
    return specs


def _clinical_rule_checks() -> list[CheckSpec]:
    """Rows the clinical rules leave out or cannot judge (docs/clinical-rules.md sections 3
    and 6): every dated column after the batch's cut-off; drug rows recognised neither by
    ATC code nor by name."""
    from pipelines.clinical.drugs import drug_code_set, site_drug_names

    specs = [_warn(f"{table}__{column}__after_cutoff", table, "after_cutoff",
                   f"{table}.{column} is not after the batch's data cut-off (such rows are "
                   "not used)", columns={"date_column": column}, column=column)
             for table, column in [*dated_columns(), ("patients", "death_date"),
                                   ("patients", "last_contact_date")]]
    names = sorted({*drug_code_set()["drug_name"].to_list(), *site_drug_names()})
    specs.append(_warn(
        "systemic_therapies__unrecognised_drug", "systemic_therapies", "unrecognised_drug",
        "every drug row has an ATC code or a name of the drug code set or the site mapping",
        category=COMPLETENESS, subcategory="atemporal", column="drug_name",
        params={"known_drug_names": names}))
    return specs

"""Checks on the marts (names and grains from docs/marts-interface.md).

Structural invariants block publishing (a broken mart must not reach a clinician): keys
unique and present, codes in their lists, counts and durations in range, the ESTRO/EORTC 2020
family consistent with the state, the EORTC-LCG flag set exactly on synchronous episodes.
Shares that describe the data rather than the code warn: synchronous episodes staged with
FDG-PET/CT and brain MRI (EORTC-LCG 2019), unclassifiable episodes (clinical-rules.md).
"""

from __future__ import annotations

from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters
from pipelines.contract.tables import SEX
from pipelines.quality.relations import MART_KEYS, asset_key
from pipelines.quality.specs import CheckSpec, Engine, Severity
from pipelines.quality.thresholds import DEFAULT_THRESHOLDS, QualityThresholds

OMD_STATES = (
    "synchronous_omd", "metachronous_oligorecurrence", "metachronous_oligoprogression",
    "repeat_oligorecurrence", "repeat_oligoprogression", "repeat_oligopersistence",
    "induced_oligorecurrence", "induced_oligoprogression", "induced_oligopersistence",
)
OMD_STATE_PATTERN = "^(" + "|".join(OMD_STATES) + r"|unclassifiable_[a-z0-9_]+)$"

_KAHN = {
    "not_null": ("completeness", "atemporal"),
    "in_set": ("conformance", "value"),
    "regex": ("conformance", "value"),
    "between": ("plausibility", "atemporal"),
}


def _gx(mart: str, column: str, expectation: str, description: str, **params) -> CheckSpec:
    category, subcategory = _KAHN[expectation]
    suffix = {"not_null": "not_null", "in_set": "code_list", "regex": "code_pattern",
              "between": "range"}[expectation]
    return CheckSpec(
        check_id=f"{mart}__{column}__{suffix}", asset=asset_key(mart), severity=Severity.BLOCK,
        threshold_pct=0.0, kahn_category=category, kahn_subcategory=subcategory,
        description=description, engine=Engine.GX, kind=expectation, table=mart,
        column=column, expectation=expectation, params=params,
    )


def _sql(mart: str, name: str, description: str, severity: Severity, category: str,
         subcategory: str, *, threshold_pct: float = 0.0, params: dict | None = None,
         reads: tuple[str, ...] = (), sql_file: str | None = None) -> CheckSpec:
    return CheckSpec(
        check_id=f"{mart}__{name}", asset=asset_key(mart), severity=severity,
        threshold_pct=threshold_pct, kahn_category=category, kahn_subcategory=subcategory,
        description=description, engine=Engine.SQL, kind=name, table=mart,
        sql_file=sql_file or f"marts/{name}.sql",
        relations={"t": mart, **{r: r for r in reads}}, params=params or {},
        deps=tuple(asset_key(r) for r in reads),
    )


def _not_null(mart: str, *columns: str) -> list[CheckSpec]:
    return [_gx(mart, c, "not_null", f"{mart}.{c} is never empty") for c in columns]


def _in_set(mart: str, column: str, values) -> CheckSpec:
    return _gx(mart, column, "in_set", f"{mart}.{column} is one of {', '.join(map(str, values))}",
               value_set=list(values))


def _between(mart: str, column: str, low, high=None) -> CheckSpec:
    return _gx(mart, column, "between", f"{mart}.{column} is within [{low}, {high}]",
               min_value=low, max_value=high)


def mart_checks(p: ClinicalParameters = DEFAULT_PARAMETERS,
                t: QualityThresholds = DEFAULT_THRESHOLDS) -> list[CheckSpec]:
    specs = [
        _sql(m, "key_unique", f"the key ({', '.join(k)}) identifies one row of marts.{m}",
             Severity.BLOCK, "conformance", "relational", sql_file="contract/key_unique.sql")
        for m, k in MART_KEYS.items()
    ]
    e = "omd_episodes"
    specs += [
        *_not_null(e, "patient_id", "episode_id", "episode_date", "omd_state", "n_lesions",
                   "parameter_set"),
        _gx(e, "omd_state", "regex", "omd_state is one of the nine ESTRO/EORTC 2020 states or "
            "unclassifiable_<reason>", regex=OMD_STATE_PATTERN),
        _in_set(e, "omd_family", ("de_novo", "repeat", "induced")),
        _between(e, "n_lesions", 1, p.max_lesions),
        _between(e, "n_organs", 1, p.max_organs),
        _between(e, "episode_number", 1),
        _sql(e, "omd_family_consistent", "the family matches the state (null when "
             "unclassifiable)", Severity.BLOCK, "conformance", "computational"),
        _sql(e, "eortc_flag_on_synchronous", "the EORTC-LCG flag is set on every synchronous "
             "episode and only there", Severity.BLOCK, "completeness", "atemporal"),
        _sql(e, "synchronous_staging_imaging",
             f"at least {t.min_staged_synchronous_pct} % of synchronous episodes are staged with "
             "FDG-PET/CT and brain MRI (EORTC-LCG 2019)", Severity.WARN, "completeness",
             "temporal", threshold_pct=100.0 - t.min_staged_synchronous_pct, reads=("imaging",),
             params={"imaging_before_days": p.staging_imaging_before_days,
                     "imaging_after_days": p.staging_imaging_after_days,
                     "allow_brain_ct": p.allow_brain_ct}),
        _sql(e, "unclassifiable_share",
             f"at most {t.max_unclassifiable_pct} % of episodes are unclassifiable",
             Severity.WARN, "plausibility", "atemporal", threshold_pct=t.max_unclassifiable_pct),
    ]
    a = "disease_assessments"
    specs += [
        *_not_null(a, "patient_id", "assessment_id", "assessment_date", "assessment_kind",
                   "assessment_state"),
        _in_set(a, "assessment_kind",
                ("detection", "progression", "detection_progression", "treatment_decision")),
        _in_set(a, "assessment_state", ("oligo", "poly", "not_omd_diffuse")),
        _in_set(a, "progression_count_basis", ("all_active", "progressing")),
        _between(a, "n_lesions", 0),
    ]
    c = "cohort_attrition"
    specs += [
        *_not_null(c, "step", "remaining", "excluded"),
        _between(c, "remaining", 0),
        _between(c, "excluded", 0),
        _sql(c, "attrition_non_increasing", "each attrition step's remaining patients are "
             "the previous step's minus those it excludes", Severity.BLOCK, "conformance",
             "computational"),
    ]
    lt = "local_treatments"
    specs += [
        *_not_null(lt, "patient_id", "treatment_id", "target", "start_date"),
        _in_set(lt, "target_kind", ("lesion", "primary", "regional_nodes")),
        _in_set(lt, "modality", ("radiotherapy", "surgery", "thermal_ablation")),
        _between(lt, "fractions", 1),
        _between(lt, "bed10_gy", 0),
    ]
    tl = "therapy_lines"
    specs += [
        *_not_null(tl, "line_start_date"),
        _between(tl, "line_number", 1),
        _sql(tl, "line_end_before_start", "a line does not end before it starts", Severity.BLOCK,
             "plausibility", "temporal"),
    ]
    ec = "episode_cohort"
    specs += [
        _in_set(ec, "treatment_strategy", ("lct_all_sites", "lct_partial", "systemic_only", "none")),
        _in_set(ec, "driver_status", ("egfr", "alk", "other_driver", "none", "not_tested")),
        _in_set(ec, "pdl1_category", ("<1%", "1-49%", ">=50%", "unknown")),
        _in_set(ec, "sex", SEX),
        _between(ec, "fraction_lesions_treated", 0, 1),
        _between(ec, "age_at_episode", t.min_age_at_diagnosis, t.max_age_at_diagnosis + 50),
    ]
    eo = "episode_outcomes"
    specs += [
        _in_set(eo, "origin", ("episode", "lct")),
        *[_between(eo, f"{x}_days", 0) for x in ("os", "pfs", "wsp", "ttnt")],
        *[_in_set(eo, f"{x}_event", (0, 1)) for x in ("os", "pfs", "wsp")],
        _in_set(eo, "ttnt_status", (0, 1, 2)),
        _sql(eo, "pfs_not_after_os", "PFS time does not exceed OS time from the same origin",
             Severity.WARN, "plausibility", "temporal"),
    ]
    lo = "lesion_outcomes"
    specs += [
        *_not_null(lo, "therapy_start_date"),
        _between(lo, "lf_days", 0),
        _in_set(lo, "lf_status", (0, 1, 2)),
    ]
    ts = "toxicity_summary"
    # 0 = no adverse event in that window (pipelines/clinical/toxicity.py convention).
    specs += [_between(ts, col, 0, 5) for col in ("max_grade_acute", "max_grade_late")]
    pf = "patient_followup"
    specs += [_between(pf, "followup_days", 0), _in_set(pf, "followup_event", (0, 1))]
    return specs

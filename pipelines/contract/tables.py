"""The registry export contract, version 1, as data (docs/data-dictionary.md).

Every later part (generator, validator, loader, quality checks, data dictionary) reads these
declarations; nothing else restates a column, a type or a code list.
"""

from __future__ import annotations

from dataclasses import dataclass

CONTRACT_VERSION = "1"
KNOWN_CONTRACT_VERSIONS = ("1",)

TYPES = ("text", "int", "decimal", "date", "bool", "code")


@dataclass(frozen=True)
class Reference:
    """`column` refers to `table.key_column`; `same_patient` requires both rows to belong to
    the same patient; values listed in `literals` are not references (e.g. `primary`)."""

    table: str
    key_column: str
    same_patient: bool = True
    literals: tuple[str, ...] = ()


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    required: bool = False
    required_if: tuple[str, str] | None = None  # (other column, value) that makes it required
    codes: tuple[str, ...] = ()  # for type "code": canonical spellings
    pattern: str | None = None  # regex (on the normalised value) for coded text
    pattern_hint: str = ""
    min_value: float | None = None
    max_value: float | None = None
    partial_date_ok: bool = False  # YYYY-MM and YYYY accepted, imputed, flagged
    references: Reference | None = None
    default: str | None = None  # value used when empty (documented in the contract)
    max_value_rule: str = "range"  # rule id when above max_value (e.g. dose_in_cgy)


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    grain: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    required_file: bool = True
    end_before_start: tuple[str, str] | None = None  # (start column, end column)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name}.{name}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


SEX = ("F", "M", "X", "U")
SMOKING = ("never", "former", "current", "unknown")
VITAL = ("alive", "dead", "unknown")
LATERALITY_PRIMARY = ("left", "right", "unknown")
LATERALITY_LESION = ("left", "right", "midline", "unknown")
BIOMARKER = ("positive", "negative", "not_tested")
ORGANS = ("brain", "lung", "pleura", "liver", "adrenal", "bone", "distant_lymph_node",
          "regional_lymph_node", "other")
MODALITIES = ("fdg_pet_ct", "brain_mri", "brain_ct", "ct", "mri", "bone_scan", "other")
PURPOSES = ("staging", "response", "surveillance")
RESPONSES = ("CR", "PR", "SD", "PD", "NE", "iCR", "iPR", "iSD", "iUPD", "iCPD")
EVENT_TYPES = ("lesion_progression", "regional_progression", "primary_progression")
BASIS = ("imaging", "pathology", "clinical")
TECHNIQUES = ("sbrt", "srs", "imrt", "vmat", "3dcrt", "protons", "other")
RT_INTENTS = ("ablative", "consolidative", "palliative")
DOSE_REFERENCES = ("prescription", "isocenter")
PROCEDURE_MODALITIES = ("surgery", "radiofrequency_ablation", "microwave_ablation", "cryoablation")
PROCEDURE_INTENTS = ("ablative", "palliative")
STOP_REASONS = ("completed", "progression", "toxicity", "patient_choice", "death", "other")
ATTRIBUTIONS = ("radiotherapy", "systemic", "both", "unrelated", "unknown")
DECISIONS = ("radical_local_therapy", "systemic_therapy", "combined", "best_supportive_care",
             "other")
TARGET_LITERALS = ("primary", "regional_nodes")

_PATIENT_REF = Reference("patients", "patient_id", same_patient=False)


def _patient_id() -> Column:
    return Column("patient_id", "text", "registry pseudonym of the patient", required=True,
                  references=_PATIENT_REF)


def _biomarker(name: str, label: str) -> Column:
    return Column(name, "code", f"{label} status", codes=BIOMARKER)


TABLES: tuple[Table, ...] = (
    Table(
        "patients", "Patients of the registry with NSCLC and metastatic disease, or at risk of it.",
        "one row per patient", ("patient_id",),
        (
            Column("patient_id", "text", "registry pseudonym; never a name, address, phone or "
                   "national id", required=True),
            Column("sex", "code", "F, M, X (other), U (unknown)", required=True, codes=SEX),
            Column("birth_year", "int", "year of birth only; full birth dates are not accepted",
                   required=True, min_value=1900, max_value=2030),
            Column("center_id", "text", "treating centre"),
            Column("smoking_status", "code", "smoking history", codes=SMOKING),
            Column("pack_years", "decimal", "pack-years smoked", min_value=0, max_value=300),
            Column("vital_status", "code", "vital status at the cut-off", required=True,
                   codes=VITAL),
            Column("death_date", "date", "date of death; required if dead",
                   required_if=("vital_status", "dead")),
            Column("last_contact_date", "date", "last date known alive, or the death date",
                   required=True),
        ),
    ),
    Table(
        "primary_tumors", "Primary lung tumours (a patient may have several).",
        "one row per primary lung tumour", ("tumor_id",),
        (
            Column("tumor_id", "text", "key of the primary tumour", required=True),
            _patient_id(),
            Column("diagnosis_date", "date", "date of diagnosis of this primary; YYYY-MM or "
                   "YYYY accepted (imputed to the 15th or 1 July, flagged)", required=True,
                   partial_date_ok=True),
            Column("topography_code", "text", "ICD-O-3 / ICD-10 topography C34.0-C34.9 "
                   "(C34.1 or C341)", required=True, pattern=r"^C34\.?[0-389]$",
                   pattern_hint="C34.0-C34.9"),
            Column("morphology_code", "text", "ICD-O-3 histology/behaviour, e.g. 8140/3",
                   required=True, pattern=r"^[89][0-9]{3}/[0-39]$", pattern_hint="NNNN/B"),
            Column("laterality", "code", "side of the primary", codes=LATERALITY_PRIMARY),
            Column("tnm_edition", "int", "TNM edition (8 if absent; 9 accepted)", min_value=8,
                   max_value=9, default="8"),
            Column("clinical_t", "text", "clinical T category, e.g. cT2a"),
            Column("clinical_n", "text", "clinical N category, e.g. cN2"),
            Column("clinical_m", "text", "clinical M category, e.g. cM1b"),
            Column("stage_group", "text", "stage group, e.g. IVA"),
            Column("ecog_at_diagnosis", "int", "ECOG performance status at diagnosis",
                   min_value=0, max_value=4),
            _biomarker("egfr", "EGFR mutation"),
            _biomarker("alk", "ALK rearrangement"),
            _biomarker("ros1", "ROS1 rearrangement"),
            _biomarker("kras_g12c", "KRAS G12C mutation"),
            _biomarker("braf_v600e", "BRAF V600E mutation"),
            _biomarker("met_ex14", "MET exon 14 skipping"),
            _biomarker("ret", "RET rearrangement"),
            Column("pdl1_tps_percent", "decimal", "PD-L1 tumour proportion score, %",
                   min_value=0, max_value=100),
        ),
    ),
    Table(
        "metastases", "Metastatic lesions ever seen; the unit of counting. Regional nodes are "
        "locoregional disease: accepted, never counted as metastases.",
        "one row per metastatic lesion", ("lesion_id",),
        (
            Column("lesion_id", "text", "key of the lesion", required=True),
            _patient_id(),
            Column("tumor_id", "text", "primary the lesion comes from (the patient's only "
                   "primary if absent)", references=Reference("primary_tumors", "tumor_id")),
            Column("organ", "code", "organ of the lesion", required=True, codes=ORGANS),
            Column("site_code", "text", "ICD-10 C77-C79 site code (C79.3, C79.31)",
                   pattern=r"^C7[789]\.?[0-9]{0,2}$", pattern_hint="C77-C79 with subsite"),
            Column("laterality", "code", "side of the lesion", codes=LATERALITY_LESION),
            Column("detected_date", "date", "date of the imaging that first showed the lesion; "
                   "YYYY-MM or YYYY accepted (imputed, flagged)", required=True,
                   partial_date_ok=True),
            Column("detection_modality", "code", "imaging that showed it", codes=MODALITIES),
            Column("biopsy_confirmed", "bool", "histologically confirmed"),
            Column("is_diffuse", "bool", "diffuse serosal spread (malignant effusion, "
                   "carcinomatosis, leptomeningeal disease)"),
            Column("resolved_date", "date", "date the lesion was no longer visible, if known"),
        ),
    ),
    Table(
        "imaging", "Staging, response and surveillance imaging exams.",
        "one row per imaging exam", ("exam_id",),
        (
            Column("exam_id", "text", "key of the exam", required=True),
            _patient_id(),
            Column("exam_date", "date", "date of the exam", required=True),
            Column("modality", "code", "imaging modality", required=True, codes=MODALITIES),
            Column("purpose", "code", "why the exam was done", codes=PURPOSES),
            Column("response", "code", "RECIST 1.1 or iRECIST response", codes=RESPONSES),
        ),
    ),
    Table(
        "disease_events", "Progressions seen at follow-up (new metastases are rows of "
        "metastases instead).", "one row per progression event", ("event_id",),
        (
            Column("event_id", "text", "key of the event", required=True),
            _patient_id(),
            Column("event_date", "date", "date of the exam that showed it", required=True),
            Column("event_type", "code", "kind of progression", required=True,
                   codes=EVENT_TYPES),
            Column("lesion_id", "text", "lesion that progressed; required for "
                   "lesion_progression", required_if=("event_type", "lesion_progression"),
                   references=Reference("metastases", "lesion_id")),
            Column("basis", "code", "how the progression was established", codes=BASIS),
            Column("confirmed", "bool", "false for an unconfirmed immunotherapy progression "
                   "(iUPD not followed by iCPD); true if absent", default="true"),
        ),
    ),
    Table(
        "radiotherapy", "Radiotherapy courses by target and phase.",
        "one row per course, target and phase", ("course_id", "target", "phase"),
        (
            Column("course_id", "text", "course key (with target and phase)", required=True),
            Column("phase", "int", "1 if absent; a boost or second phase is 2, 3, ...",
                   min_value=1, max_value=20, default="1"),
            _patient_id(),
            Column("target", "text", "a lesion_id, or primary, or regional_nodes", required=True,
                   references=Reference("metastases", "lesion_id", literals=TARGET_LITERALS)),
            Column("start_date", "date", "first fraction", required=True),
            Column("end_date", "date", "last fraction"),
            Column("total_dose_gy", "decimal", "physical dose in Gy (values above 200 are cGy "
                   "and refused)", required=True, min_value=0.1, max_value=200,
                   max_value_rule="dose_in_cgy"),
            Column("fractions", "int", "number of fractions", required=True, min_value=1,
                   max_value=60),
            Column("technique", "code", "radiotherapy technique", codes=TECHNIQUES),
            Column("intent", "code", "treatment intent", codes=RT_INTENTS),
            Column("dose_reference", "code", "where the dose is prescribed", codes=DOSE_REFERENCES,
                   default="prescription"),
        ),
        end_before_start=("start_date", "end_date"),
    ),
    Table(
        "local_procedures", "Surgery and thermal ablation of a target.",
        "one row per procedure", ("procedure_id",),
        (
            Column("procedure_id", "text", "key of the procedure", required=True),
            _patient_id(),
            Column("target", "text", "a lesion_id, or primary, or regional_nodes", required=True,
                   references=Reference("metastases", "lesion_id", literals=TARGET_LITERALS)),
            Column("procedure_date", "date", "date of the procedure", required=True),
            Column("modality", "code", "kind of procedure", required=True,
                   codes=PROCEDURE_MODALITIES),
            Column("intent", "code", "treatment intent", codes=PROCEDURE_INTENTS),
        ),
    ),
    Table(
        "systemic_therapies", "Systemic drug periods.", "one row per drug period",
        ("therapy_id",),
        (
            Column("therapy_id", "text", "key of the drug period", required=True),
            _patient_id(),
            Column("drug_name", "text", "international non-proprietary name, e.g. "
                   "pembrolizumab", required=True),
            Column("atc_code", "text", "WHO ATC code; codes from before the 2021-2022 L01 "
                   "restructure are accepted and normalised", pattern=r"^[A-Z][0-9]{2}[A-Z]{0,2}[0-9]{0,2}$",
                   pattern_hint="ATC, e.g. L01FF02"),
            Column("start_date", "date", "first day of the drug", required=True),
            Column("end_date", "date", "last day; empty = ongoing at the cut-off"),
            Column("line_number", "int", "line of therapy as recorded; derived when absent",
                   min_value=1, max_value=30),
            Column("stop_reason", "code", "why the drug was stopped", codes=STOP_REASONS),
        ),
        end_before_start=("start_date", "end_date"),
    ),
    Table(
        "toxicities", "Adverse events graded with CTCAE.", "one row per adverse event",
        ("toxicity_id",),
        (
            Column("toxicity_id", "text", "key of the adverse event", required=True),
            _patient_id(),
            Column("course_id", "text", "radiotherapy course it is attributed to",
                   references=Reference("radiotherapy", "course_id")),
            Column("onset_date", "date", "date of onset", required=True),
            Column("ctcae_term", "text", "CTCAE term, e.g. Pneumonitis", required=True),
            Column("grade", "int", "CTCAE grade 1-5 (5 requires the patient to be dead)",
                   required=True, min_value=1, max_value=5),
            Column("attribution", "code", "what caused it", codes=ATTRIBUTIONS),
            Column("ctcae_version", "text", "CTCAE version (5.0 if absent)", default="5.0"),
        ),
    ),
    Table(
        "mdt_decisions", "Optional: multidisciplinary team decisions.",
        "one row per MDT decision", ("decision_id",),
        (
            Column("decision_id", "text", "key of the decision", required=True),
            _patient_id(),
            Column("decision_date", "date", "date of the MDT meeting", required=True),
            Column("all_sites_radically_treatable", "bool", "the MDT judged radical treatment "
                   "of every site feasible"),
            Column("decision", "code", "what the MDT decided", codes=DECISIONS),
        ),
        required_file=False,
    ),
)

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}

# Cross-record implausibilities (disposition: cross_record_warning). Implemented as SQL by
# the loader's checks; declared here so the dictionary and the quality suites list them.
CROSS_RECORD_RULES: dict[str, tuple[str, ...]] = {
    "death_before_diagnosis": ("patients", "primary_tumors"),
    "radiotherapy_before_diagnosis": ("radiotherapy", "primary_tumors"),
    "grade5_alive": ("toxicities", "patients"),
    "imaging_after_last_contact": ("imaging", "patients"),
    "last_contact_after_death": ("patients",),
    "event_before_birth": ("primary_tumors", "metastases", "patients"),
}


def table(name: str) -> Table:
    return TABLES_BY_NAME[name]


def children_of(parent: str) -> list[tuple[Table, Column]]:
    """(child table, referencing column) pairs: quarantining a parent row cascades to them."""
    return [
        (t, c)
        for t in TABLES
        for c in t.columns
        if c.references is not None and c.references.table == parent
    ]

"""Local therapy of a target: radiotherapy dose, SBRT/SRS, radical intent; surgery and ablation.

Sources: docs/clinical-rules.md section 5; the linear-quadratic model
(BED = D(1 + d/(alpha/beta)), EQD2 = BED / (1 + 2/(alpha/beta)); Fowler JF, Br J Radiol
1989;62:679-694) with alpha/beta 10 for tumour and 3 for late effects; the lung dose-adequacy
threshold BED10 >= 100 Gy (Onishi H et al., Cancer 2004;101:1623-1631), applied to lung
targets only. The SBRT/SRS inference and the meaning of "radical" are the project's
conventions written in docs/clinical-rules.md and coded once in `pipelines/clinical/dose.py`.
For the primary and the regional nodes (target `primary`, `regional_nodes`, or a lesion of
organ `regional_lymph_node`) "radical" means intent curative, ablative or consolidative, or,
with no intent recorded, a course EQD2(10) of at least `radical_eqd2_min_gy` (45 Gy).

Output grain: one row per treated target, course and phase (radiotherapy) or procedure.
"""

from __future__ import annotations

import polars as pl

from pipelines.clinical import dose
from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters
from pipelines.clinical.radical import THERMAL_ABLATIONS
from pipelines.contract.tables import TARGET_LITERALS

# The primary of this registry is a lung tumour: a target "primary" is a lung target.
PRIMARY_ORGAN = "lung"
REGIONAL_NODES_ORGAN = "regional_lymph_node"

LOCAL_TREATMENT_COLUMNS = (
    "patient_id", "treatment_id", "phase", "target", "target_kind", "lesion_id", "organ",
    "modality", "start_date", "total_dose_gy", "fractions", "dose_per_fraction_gy",
    "bed10_gy", "eqd2_gy", "bed3_gy", "course_bed10_gy", "is_sbrt", "is_sbrt_inferred",
    "is_radical", "is_lung_bed10_adequate",
)


def target_kind() -> pl.Expr:
    """`primary`, `regional_nodes`, or `lesion` (the target is a lesion_id)."""
    return (
        pl.when(pl.col("target").is_in(TARGET_LITERALS))
        .then(pl.col("target"))
        .otherwise(pl.lit("lesion"))
        .alias("target_kind")
    )


def _with_target_organ(frame: pl.LazyFrame, metastases: pl.LazyFrame) -> pl.LazyFrame:
    """Attach lesion_id and organ: the lesion's organ, lung for the primary, regional nodes."""
    organs = metastases.select(
        pl.col("lesion_id"), pl.col("organ").alias("_lesion_organ")
    )
    return (
        frame.with_columns(
            target_kind(),
            pl.when(~pl.col("target").is_in(TARGET_LITERALS))
            .then(pl.col("target"))
            .alias("lesion_id"),
        )
        .join(organs, on="lesion_id", how="left")
        .with_columns(
            pl.when(pl.col("target_kind") == "primary")
            .then(pl.lit(PRIMARY_ORGAN))
            .when(pl.col("target_kind") == "regional_nodes")
            .then(pl.lit(REGIONAL_NODES_ORGAN))
            .otherwise(pl.col("_lesion_organ"))
            .alias("organ")
        )
        .drop("_lesion_organ")
    )


def derive_radiotherapy_rows(
    radiotherapy: pl.LazyFrame,
    metastases: pl.LazyFrame,
    params: ClinicalParameters = DEFAULT_PARAMETERS,
) -> pl.LazyFrame:
    """Per course, target and phase: d, BED10, EQD2, BED3, SBRT, radical, lung adequacy.

    `is_sbrt` and `is_sbrt_inferred` are per phase; `is_radical` is per course and target.
    Phases of one course and target sum their BED10 into `course_bed10_gy` (BED is additive,
    physical dose is not). The lung adequacy flag compares the course BED10 with
    `lung_bed10_adequate_gy` and is null for any target that is not in the lung.
    """
    p = params
    course_key = ["patient_id", "course_id", "target"]
    return (
        _with_target_organ(radiotherapy, metastases)
        .with_columns(
            pl.col("course_id").alias("treatment_id"),
            pl.lit("radiotherapy").alias("modality"),
            dose.dose_per_fraction().alias("dose_per_fraction_gy"),
            dose.bed(p.alpha_beta_tumour).alias("bed10_gy"),
            dose.eqd2(p.alpha_beta_tumour).alias("eqd2_gy"),
            dose.bed(p.alpha_beta_late).alias("bed3_gy"),
            dose.is_sbrt(p).alias("is_sbrt"),
            dose.is_sbrt_inferred(p).alias("is_sbrt_inferred"),
            dose.is_radical_radiotherapy(p).alias("is_radical"),
        )
        .with_columns(
            pl.col("bed10_gy").sum().over(course_key).alias("course_bed10_gy"),
            pl.col("eqd2_gy").sum().over(course_key).alias("_course_eqd2_gy"),
        )
        .with_columns(
            pl.when(pl.col("organ") == REGIONAL_NODES_ORGAN)
            .then(dose.is_radical_locoregional_course(p, "_course_eqd2_gy"))
            .when(pl.col("target_kind") == "primary")
            .then(dose.is_radical_locoregional_course(p, "_course_eqd2_gy"))
            .otherwise(pl.col("is_radical"))
            .alias("is_radical")
        )
        .with_columns(
            # As in `radical.radical_lesion_therapy`: a course is radical on its target when
            # any phase is (a boost phase does not make an ablative course palliative).
            pl.col("is_radical").any().over(course_key),
        )
        .with_columns(
            pl.when(pl.col("organ") == PRIMARY_ORGAN)
            .then(pl.col("course_bed10_gy") >= p.lung_bed10_adequate_gy)
            .alias("is_lung_bed10_adequate")
        )
        .select(LOCAL_TREATMENT_COLUMNS)
    )


def derive_procedure_rows(
    local_procedures: pl.LazyFrame, metastases: pl.LazyFrame
) -> pl.LazyFrame:
    """Surgery and thermal ablation (RFA, microwave, cryoablation): radical unless palliative."""
    null_float = pl.lit(None, dtype=pl.Float64)
    return (
        _with_target_organ(local_procedures, metastases)
        .with_columns(
            pl.col("procedure_id").alias("treatment_id"),
            pl.lit(None, dtype=pl.Int64).alias("phase"),
            pl.when(pl.col("modality").is_in(THERMAL_ABLATIONS))
            .then(pl.lit("thermal_ablation"))
            .otherwise(pl.col("modality"))
            .alias("modality"),
            pl.col("procedure_date").alias("start_date"),
            null_float.alias("total_dose_gy"),
            pl.lit(None, dtype=pl.Int64).alias("fractions"),
            null_float.alias("dose_per_fraction_gy"),
            null_float.alias("bed10_gy"),
            null_float.alias("eqd2_gy"),
            null_float.alias("bed3_gy"),
            null_float.alias("course_bed10_gy"),
            pl.lit(False).alias("is_sbrt"),
            pl.lit(False).alias("is_sbrt_inferred"),
            dose.is_radical_procedure().alias("is_radical"),
            pl.lit(None, dtype=pl.Boolean).alias("is_lung_bed10_adequate"),
        )
        .select(LOCAL_TREATMENT_COLUMNS)
    )


def derive_local_treatments(
    staging: dict[str, pl.LazyFrame], params: ClinicalParameters = DEFAULT_PARAMETERS
) -> pl.LazyFrame:
    """`local_treatments`: radiotherapy rows and procedures in one frame (section 5)."""
    metastases = staging["metastases"]
    return pl.concat(
        [
            derive_radiotherapy_rows(staging["radiotherapy"], metastases, params),
            derive_procedure_rows(staging["local_procedures"], metastases),
        ],
        how="vertical",
    )

"""Radical local therapy of a metastatic lesion: when each therapy started.

Source: docs/clinical-rules.md section 5 (project convention): radiotherapy is
radical when its intent is ablative or consolidative, or when it is SBRT/SRS (recorded or
inferred) not marked palliative; surgery or thermal ablation is radical unless marked
palliative (predicates in `pipelines/clinical/dose.py`). The phases of one course on one
target form one therapy, starting at the first start of any phase. Therapy of the `primary`
or of `regional_nodes` is not lesion therapy and is left out here.
"""

from __future__ import annotations

import polars as pl

from pipelines.clinical.dose import is_radical_procedure, is_radical_radiotherapy
from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters
from pipelines.contract.tables import TARGET_LITERALS

THERMAL_ABLATIONS = ("radiofrequency_ablation", "microwave_ablation", "cryoablation")
RADICAL_THERAPY_COLUMNS = ("patient_id", "lesion_id", "therapy_start_date", "modality")


def radical_lesion_therapy(
    radiotherapy: pl.LazyFrame,
    local_procedures: pl.LazyFrame,
    params: ClinicalParameters = DEFAULT_PARAMETERS,
) -> pl.LazyFrame:
    """One row per radical therapy of a lesion: patient_id, lesion_id, therapy_start_date,
    modality (`radiotherapy`, `surgery`, `thermal_ablation`)."""
    courses = (
        radiotherapy.filter(~pl.col("target").is_in(TARGET_LITERALS))
        .with_columns(is_radical_radiotherapy(params).alias("_radical"))
        # A course is radical on a target when any of its phases is (a boost phase of an
        # ablative course does not make the course palliative).
        .group_by("patient_id", "course_id", "target")
        .agg(
            pl.col("start_date").min().alias("therapy_start_date"),
            pl.col("_radical").any().alias("_radical"),
        )
        .filter(pl.col("_radical"))
        .select(
            "patient_id",
            pl.col("target").alias("lesion_id"),
            "therapy_start_date",
            pl.lit("radiotherapy").alias("modality"),
        )
    )
    procedures = local_procedures.filter(
        ~pl.col("target").is_in(TARGET_LITERALS) & is_radical_procedure()
    ).select(
        "patient_id",
        pl.col("target").alias("lesion_id"),
        pl.col("procedure_date").alias("therapy_start_date"),
        pl.when(pl.col("modality").is_in(THERMAL_ABLATIONS))
        .then(pl.lit("thermal_ablation"))
        .otherwise(pl.col("modality"))
        .alias("modality"),
    )
    return pl.concat([courses, procedures], how="vertical")

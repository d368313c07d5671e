"""Toxicity of a radiotherapy course: worst CTCAE grade, acute and late, by attribution.

Sources: CTCAE v5.0 (US NCI, 2017) for grades 1-5; docs/clinical-rules.md section 6
("maximum CTCAE grade per course, acute (onset <= 90 days after start) and late; grade >= 3
rates by attribution"); the 90-day acute/late split is the radiotherapy convention
(RTOG/EORTC late radiation morbidity scoring, Cox JD et al., Int J Radiat Oncol Biol Phys
1995;31:1341-1346), parameter `acute_toxicity_days`.

Days are counted from the course's first fraction (the earliest start of its phases): onset
on day 0 to `acute_toxicity_days` is acute, later is late. An adverse event with its onset
before the course started cannot be caused by it and is left out; so is one after the
cut-off. Attribution `radiotherapy` or `both` counts for the `_rt` columns; every attribution
(including unrelated and unknown) counts for the all-cause columns. A grade of 0 means no
adverse event recorded in that window.

Output grain: one row per radiotherapy course (every course, with or without toxicity).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters

TOXICITY_SUMMARY_COLUMNS = (
    "patient_id", "course_id", "max_grade_acute", "max_grade_late", "max_grade_acute_rt",
    "max_grade_late_rt", "has_grade3plus", "has_pneumonitis_grade2plus",
)
RT_ATTRIBUTIONS = ("radiotherapy", "both")
PNEUMONITIS_TERM = "pneumonitis"


def _worst(condition: pl.Expr) -> pl.Expr:
    return pl.col("grade").filter(condition).max()


def derive_toxicity_summary(
    staging: dict[str, pl.LazyFrame],
    data_cutoff_date: dt.date,
    params: ClinicalParameters = DEFAULT_PARAMETERS,
) -> pl.LazyFrame:
    """`toxicity_summary`: worst grade per course, acute and late, all causes and RT."""
    courses = staging["radiotherapy"].group_by("patient_id", "course_id").agg(
        pl.col("start_date").min().alias("_course_start")
    )
    events = (
        staging["toxicities"]
        .filter(
            pl.col("course_id").is_not_null()
            & (pl.col("onset_date") <= pl.lit(data_cutoff_date, dtype=pl.Date))
        )
        .join(courses, on=["patient_id", "course_id"])
        .with_columns(
            (pl.col("onset_date") - pl.col("_course_start")).dt.total_days().alias("_day")
        )
        .filter(pl.col("_day") >= 0)
    )
    acute = pl.col("_day") <= params.acute_toxicity_days
    by_rt = pl.col("attribution").is_in(RT_ATTRIBUTIONS).fill_null(False)
    pneumonitis = pl.col("ctcae_term").str.to_lowercase().str.contains(PNEUMONITIS_TERM)
    worst = events.group_by("patient_id", "course_id").agg(
        _worst(acute).alias("max_grade_acute"),
        _worst(~acute).alias("max_grade_late"),
        _worst(acute & by_rt).alias("max_grade_acute_rt"),
        _worst(~acute & by_rt).alias("max_grade_late_rt"),
        (pl.col("grade") >= 3).any().alias("has_grade3plus"),
        (pneumonitis & (pl.col("grade") >= 2)).any().alias("has_pneumonitis_grade2plus"),
    )
    grades = [c for c in TOXICITY_SUMMARY_COLUMNS if c.startswith("max_grade")]
    flags = ["has_grade3plus", "has_pneumonitis_grade2plus"]
    return (
        courses.join(worst, on=["patient_id", "course_id"], how="left")
        .with_columns(
            *(pl.col(c).fill_null(0) for c in grades),
            *(pl.col(c).fill_null(False) for c in flags),
        )
        .select(TOXICITY_SUMMARY_COLUMNS)
    )

"""Local control per treated lesion (ESTRO-ASTRO OMD consensus endpoint: Lievens et al.,
Radiother Oncol 2020;148:157–166): the rows of the Local control page.

One row per radically treated lesion from `marts.lesion_outcomes` (time from the first day
of the lesion's first radical therapy; `lf_status` 0 censored, 1 local failure, 2 death
first), with the technique of that first radical therapy from `marts.local_treatments`
(SBRT, conventional radiotherapy, surgery, thermal ablation) and the lung BED10 adequacy
(course BED10 ≥ 100 Gy; Onishi et al., Cancer 2004;101:1623–1631; docs/treatments.md).

The sidebar filter selects episodes; a lesion is kept when its patient has an episode
matching the filter (lesions are not tied to a single episode in the marts).
"""

from __future__ import annotations

import polars as pl

from dashboards.labels import label_column

GROUPINGS = {  # page choice -> column of the rows
    "none": None,
    "organ": "organ",
    "technique": "technique",
    "bed10_adequacy": "bed10_adequacy",
}
GROUPING_TITLES = {
    "none": "All treated lesions",
    "organ": "Organ",
    "technique": "Technique",
    "bed10_adequacy": "BED10 adequacy (lung lesions, radiotherapy)",
}
TECHNIQUE_ORDER = ("SBRT", "Conventional radiotherapy", "Surgery", "Thermal ablation")
ADEQUACY_ORDER = ("BED10 ≥ 100 Gy", "BED10 < 100 Gy")


def first_radical_technique(local_treatments: pl.LazyFrame) -> pl.LazyFrame:
    """lesion_id, therapy_start_date, technique code of each lesion's first radical therapy."""
    return (
        local_treatments.filter(
            (pl.col("target_kind") == "lesion") & pl.col("is_radical").fill_null(False)
            & pl.col("lesion_id").is_not_null()
        )
        .sort("start_date", "phase", "treatment_id", nulls_last=True)
        .group_by("lesion_id", maintain_order=True)
        .first()
        .select(
            "lesion_id",
            therapy_start_date="start_date",
            technique=pl.when(pl.col("modality") == "radiotherapy")
            .then(pl.when(pl.col("is_sbrt").fill_null(False)).then(pl.lit("sbrt"))
                  .otherwise(pl.lit("conventional_rt")))
            .otherwise(pl.col("modality")),
        )
    )


def lesion_rows(lesion_outcomes: pl.LazyFrame, local_treatments: pl.LazyFrame,
                patients: pl.LazyFrame | None) -> pl.DataFrame:
    """One row per treated lesion: patient_id, lesion_id, organ, technique, bed10_adequacy
    (words), time_days, status. `patients`: patient_id of the filtered cohort (None: all)."""
    rows = lesion_outcomes
    if patients is not None:
        rows = rows.join(patients.select("patient_id").unique(), on="patient_id", how="semi")
    technique = first_radical_technique(local_treatments)
    return (
        rows.join(technique, on=["lesion_id", "therapy_start_date"], how="left")
        .select(
            "patient_id",
            "lesion_id",
            organ=label_column(pl.col("organ"), "organ"),
            technique=label_column(pl.col("technique"), "technique"),
            bed10_adequacy=pl.when(pl.col("is_lung_bed10_adequate"))
            .then(pl.lit(ADEQUACY_ORDER[0]))
            .when(~pl.col("is_lung_bed10_adequate"))
            .then(pl.lit(ADEQUACY_ORDER[1])),
            time_days=pl.col("lf_days").cast(pl.Float64),
            status=pl.col("lf_status").cast(pl.Int64),
        )
        .collect()
    )


def rows_for_grouping(rows: pl.DataFrame, grouping: str) -> pl.DataFrame:
    """BED10 adequacy is defined for lung lesions treated with radiotherapy only: that
    grouping analyses those lesions alone."""
    if grouping == "bed10_adequacy":
        return rows.filter(pl.col("bed10_adequacy").is_not_null())
    return rows


def group_order(grouping: str) -> list[str] | None:
    if grouping == "technique":
        return list(TECHNIQUE_ORDER)
    if grouping == "bed10_adequacy":
        return list(ADEQUACY_ORDER)
    return None

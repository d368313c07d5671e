"""Counted metastatic lesions and their status (active, resolved, controlled) at a date.

Sources: ESTRO/EORTC 2020 (Guckenberger et al., Lancet Oncol 2020;21:e18-e28): the
oligometastatic burden is the number of metastatic lesions; RECIST 1.1 (Eisenhauer 2009) and
iRECIST (Seymour 2017): an unconfirmed immunotherapy progression is not a progression;
docs/clinical-rules.md section 2:
- counted lesions are `metastases` rows whose organ is not `regional_lymph_node`;
- a lesion is *active* at t when detected on or before t, not resolved before t (a
  progression after its resolved date makes it active again) and not *controlled*;
- it is *controlled* at t when radical local therapy (section 5) started before t and no
  progression of the lesion came after that start, on or before t.
"""

from __future__ import annotations

import polars as pl

from pipelines.clinical.organs import organ_label
from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters
from pipelines.clinical.population import REGIONAL_NODE

LESION_COLUMNS = ("patient_id", "lesion_id", "tumor_id", "organ", "organ_label",
                  "detected_date", "detected_date_imputed", "resolved_date", "is_diffuse",
                  "biopsy_confirmed")


def counted_lesions(
    metastases: pl.LazyFrame,
    population: pl.LazyFrame,
    params: ClinicalParameters = DEFAULT_PARAMETERS,
) -> pl.LazyFrame:
    """The metastases of NSCLC patients that count: every organ but regional nodes."""
    nsclc = population.filter(pl.col("is_nsclc")).select("patient_id")
    return (
        metastases.filter(pl.col("organ") != REGIONAL_NODE)
        .join(nsclc, on="patient_id", how="semi")
        .with_columns(
            organ_label(params),
            pl.col("is_diffuse").fill_null(False),
            pl.col("detected_date_imputed").fill_null(False),
        )
        .select(LESION_COLUMNS)
    )


def lesion_progressions(disease_events: pl.LazyFrame, lesions: pl.LazyFrame) -> pl.LazyFrame:
    """Confirmed `lesion_progression` events of counted lesions: patient_id, lesion_id,
    progression_date (an unconfirmed immunotherapy progression is not a progression)."""
    return (
        disease_events.filter(
            (pl.col("event_type") == "lesion_progression") & pl.col("confirmed").ne_missing(False)
        )
        .join(lesions.select("lesion_id"), on="lesion_id", how="semi")
        .select("patient_id", "lesion_id", pl.col("event_date").alias("progression_date"))
        .unique()
    )


def _latest_before(
    pairs: pl.LazyFrame, events: pl.LazyFrame, at: str, event_date: str, alias: str,
    strictly_before: bool,
) -> pl.LazyFrame:
    """Per pair, the latest event date of the same lesion on or before (or before) `at`."""
    right = events.select("lesion_id", pl.col(event_date).alias(alias)).sort(alias)
    return pairs.sort(at).join_asof(
        right, left_on=at, right_on=alias, by="lesion_id", strategy="backward",
        allow_exact_matches=not strictly_before, coalesce=False, check_sortedness=False,
    ).drop("lesion_id_right", strict=False)


def lesion_status(
    pairs: pl.LazyFrame,
    progressions: pl.LazyFrame,
    therapies: pl.LazyFrame,
    at: str = "assessment_date",
    group_end: str = "group_end_date",
) -> pl.LazyFrame:
    """Status of each (assessment, lesion) pair at date `at`, with the assessment's grouping
    window ending at `group_end`. Adds is_active, is_resolved, is_controlled,
    is_new_in_group, is_progressing_in_group, is_progressing, in_burden."""
    pairs = _latest_before(pairs, progressions, at, "progression_date", "_last_prog_at", False)
    pairs = _latest_before(pairs, progressions, group_end, "progression_date", "_last_prog_end",
                           False)
    pairs = _latest_before(pairs, therapies, at, "therapy_start_date", "_last_therapy", True)
    t = pl.col(at)
    last_prog = pl.col("_last_prog_at")
    resolved = (pl.col("resolved_date") < t) & ~(last_prog > pl.col("resolved_date")).fill_null(
        False
    )
    controlled = pl.col("_last_therapy").is_not_null() & ~(
        last_prog > pl.col("_last_therapy")
    ).fill_null(False)
    return (
        pairs.with_columns(
            resolved.fill_null(False).alias("is_resolved"),
            controlled.alias("is_controlled"),
            ((pl.col("detected_date") >= t) & (pl.col("detected_date") <= pl.col(group_end)))
            .alias("is_new_in_group"),
            (pl.col("_last_prog_end") >= t).fill_null(False).alias("is_progressing_in_group"),
        )
        .with_columns(
            ((pl.col("detected_date") <= t) & ~pl.col("is_resolved") & ~pl.col("is_controlled"))
            .alias("is_active"),
            (pl.col("is_new_in_group") | pl.col("is_progressing_in_group"))
            .alias("is_progressing"),
        )
        .with_columns((pl.col("is_active") | pl.col("is_progressing")).alias("in_burden"))
        .drop("_last_prog_at", "_last_prog_end", "_last_therapy")
    )

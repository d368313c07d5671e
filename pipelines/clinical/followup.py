"""Vital status at the data cut-off, and follow-up for the reverse Kaplan-Meier.

Sources: docs/clinical-rules.md section 6 (administrative censoring at the batch's
`data_cutoff_date`, nothing after it used; "Follow-up: median by reverse Kaplan-Meier");
Schemper M, Smith TL, Control Clin Trials 1996;17:343-346 (reverse Kaplan-Meier: the
censoring indicator is reversed, so being alive at the last contact is the "event").

Output grain of `derive_patient_followup`: one row per patient with at least one OMD
episode; origin = the patient's first episode date.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

PATIENT_FOLLOWUP_COLUMNS = ("patient_id", "followup_days", "followup_event")


def vital_status_at_cutoff(patients: pl.LazyFrame, data_cutoff_date: dt.date) -> pl.LazyFrame:
    """Per patient: `death_date` (null unless on or before the cut-off) and
    `last_alive_date` = min(last_contact_date, cut-off). A death after the cut-off is not
    known at the cut-off: the patient counts as alive then."""
    cutoff = pl.lit(data_cutoff_date, dtype=pl.Date)
    death = pl.col("death_date")
    return patients.select(
        "patient_id",
        pl.when(death <= cutoff).then(death).alias("death_date"),
        pl.min_horizontal(pl.col("last_contact_date"), cutoff).alias("last_alive_date"),
    )


def days_between(start: str | pl.Expr, end: str | pl.Expr) -> pl.Expr:
    """Whole days from start to end, never negative (an end before its origin is day 0)."""
    start = pl.col(start) if isinstance(start, str) else start
    end = pl.col(end) if isinstance(end, str) else end
    return (end - start).dt.total_days().clip(lower_bound=0)


def derive_patient_followup(
    patients: pl.LazyFrame, omd_episodes: pl.LazyFrame, data_cutoff_date: dt.date
) -> pl.LazyFrame:
    """`patient_followup`: days from the first episode to death or to the last date known
    alive (at most the cut-off); `followup_event` 1 = censored alive (the reverse-KM event),
    0 = died."""
    first = omd_episodes.group_by("patient_id").agg(
        pl.col("episode_date").min().alias("_origin")
    )
    vital = vital_status_at_cutoff(patients, data_cutoff_date)
    died = pl.col("death_date").is_not_null()
    return (
        first.join(vital, on="patient_id", how="left")
        .with_columns(
            days_between(
                "_origin",
                pl.when(died).then(pl.col("death_date")).otherwise(pl.col("last_alive_date")),
            ).alias("followup_days"),
            pl.when(died).then(0).otherwise(1).cast(pl.Int8).alias("followup_event"),
        )
        .select(PATIENT_FOLLOWUP_COLUMNS)
    )

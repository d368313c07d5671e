"""Lines of systemic therapy, and the line active at a date.

Source: docs/clinical-rules.md section 6 ("Lines of therapy"), a real-world-data
convention in the spirit of the line-of-therapy algorithms used with oncology EHR data
(e.g. Flatiron Health: drugs started within a 28-day window form the regimen; a new drug
after the window, or a restart after a gap, starts a new line; dropping a drug is
maintenance). Thresholds: `line_regimen_window_days` (28), `line_restart_gap_days` (120).

Only antineoplastic drugs (`drugs.is_antineoplastic()`) make lines: bone agents and steroids
never do. A patient whose every antineoplastic drug period carries the registry's
`line_number` keeps the recorded lines (`is_line_derived` false); otherwise all the patient's
lines are derived, in start order:
- the first drug period starts line 1;
- a period starting more than `line_restart_gap_days` after the latest end of every earlier
  period (ongoing periods have no end) is a restart after a gap: a new line;
- a drug not given earlier since the last gap, starting more than `line_regimen_window_days`
  after the start of that stretch of therapy, is a new drug: a new line. New drugs starting
  within the window of that new line's first start join it (day 28 inside); the window is
  anchored at the line's first start, not chained from one new drug to the next;
- anything else (the same drugs continued or restarted within the gap, fewer drugs:
  maintenance, a drug added within the window) stays in the current line.
Drug periods starting on the same day as a new line belong to that line.

Output grain: one row per patient and line.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from pipelines.clinical.assessments import group_dates
from pipelines.clinical.drugs import with_drug_facts
from pipelines.clinical.frames import materialise
from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters

THERAPY_LINE_COLUMNS = (
    "patient_id", "line_number", "line_start_date", "line_end_date", "drugs",
    "drug_classes", "has_platinum", "has_anti_pd1_pdl1", "has_egfr_alk_inhibitor",
    "is_line_derived",
)
IMMUNOTHERAPY_CLASSES = ("anti_pd1_pdl1", "other_immunotherapy")
_OPEN_END = dt.date(9999, 12, 31)  # an ongoing period never leaves a gap
_EPOCH = dt.date(1900, 1, 1)
_KEY_SPAN = 10_000_000  # more days than from _EPOCH to _OPEN_END


def _days(expr: pl.Expr) -> pl.Expr:
    return expr.dt.total_days()


def _assign_lines(periods: pl.LazyFrame, params: ClinicalParameters) -> pl.LazyFrame:
    """`_line` for each drug period of the patients whose lines are derived (module doc).

    Sorted by patient, start and drug, every step is a global cumulative operation whose
    value is reset where a patient (or a stretch of therapy) begins."""
    window = params.line_regimen_window_days
    start = pl.col("start_date")
    new_patient = pl.col("_patient") != pl.col("_patient").shift(1)
    # Latest end of the patient's earlier periods: a running max of (patient, end) keys.
    end_key = pl.col("_patient").cast(pl.Int64) * _KEY_SPAN + _days(
        pl.col("end_date").fill_null(_OPEN_END) - _EPOCH
    )
    previous_end_key = end_key.cum_max().shift(1)
    previous_end_days = previous_end_key - pl.col("_patient").cast(pl.Int64) * _KEY_SPAN
    start_days = _days(start - _EPOCH)
    restart = (
        ~pl.col("_new_patient")
        & (previous_end_days >= 0)
        & (start_days - previous_end_days > params.line_restart_gap_days)
    )
    line_id = pl.col("_line_break").cast(pl.Int64).cum_sum()
    flagged = (
        periods.sort("patient_id", "start_date", "_drug")
        .with_columns(pl.col("patient_id").rle_id().alias("_patient"))
        .with_columns(new_patient.fill_null(True).alias("_new_patient"))
        .with_columns(restart.fill_null(False).alias("_restart"))
        .with_columns(
            (pl.col("_new_patient") | pl.col("_restart")).cast(pl.Int64).cum_sum()
            .alias("_stretch")
        )
        .with_columns(
            pl.when(pl.col("_new_patient") | pl.col("_restart")).then(start).forward_fill()
            .alias("_stretch_start")
        )
        .with_columns(
            (
                pl.struct("_stretch", "_drug").is_first_distinct()
                & (_days(start - pl.col("_stretch_start")) > window)
            ).alias("_new_drug")
        )
    )
    # A new line's regimen is every new drug starting within `window` days of the line's
    # first start (anchored, not chained): greedy groups of the new drugs' starts.
    stretch_key = pl.col("_stretch").cast(pl.String).alias("patient_id")
    new_drug_lines = group_dates(
        flagged.filter(pl.col("_new_drug")).select(stretch_key, "start_date"), window,
        date="start_date",
    ).select(pl.col("patient_id").cast(pl.Int64).alias("_stretch"),
             pl.col("group_date").alias("_line_first_start"), "start_date").unique()
    return (
        flagged.join(new_drug_lines, on=["_stretch", "start_date"], how="left")
        .sort("patient_id", "start_date", "_drug")
        .with_columns(
            (
                pl.col("_new_patient")
                | pl.col("_restart")
                | (pl.col("_new_drug") & (pl.col("_line_first_start") == start).fill_null(False))
            ).alias("_line_break")
        )
        .with_columns(
            (line_id - pl.when(pl.col("_new_patient")).then(line_id).forward_fill() + 1)
            .alias("_line")
        )
        # Periods starting on the day a line starts belong to it.
        .with_columns(
            pl.col("_line").max().over(pl.struct("_patient", "start_date").rle_id())
        )
    )


def derive_therapy_lines(
    systemic_therapies: pl.LazyFrame, params: ClinicalParameters = DEFAULT_PARAMETERS
) -> pl.LazyFrame:
    """`therapy_lines`: recorded lines when complete for the patient, derived lines otherwise."""
    periods, = materialise(
        with_drug_facts(systemic_therapies).filter(pl.col("is_antineoplastic")).with_columns(
            pl.col("drug_class").alias("_class"),
            pl.col("drug_name").str.strip_chars().str.to_lowercase().alias("_drug"),
            pl.col("line_number").is_null().any().over("patient_id").alias("is_line_derived"),
        )
    )
    recorded = periods.filter(~pl.col("is_line_derived")).with_columns(
        pl.col("line_number").alias("_line")
    )
    derived = _assign_lines(periods.filter(pl.col("is_line_derived")), params)
    columns = ["patient_id", "_line", "_drug", "_class", "start_date", "end_date",
               "is_line_derived"]
    assigned = pl.concat([recorded.select(columns), derived.select(columns)])
    classes = pl.col("drug_classes")
    return (
        assigned.group_by("patient_id", "_line")
        .agg(
            pl.col("start_date").min().alias("line_start_date"),
            pl.when(pl.col("end_date").is_null().any())
            .then(pl.lit(None, dtype=pl.Date))
            .otherwise(pl.col("end_date").max())
            .alias("line_end_date"),
            pl.col("_drug").unique().sort().alias("drugs"),
            pl.col("_class").drop_nulls().unique().sort().alias("drug_classes"),
            pl.col("is_line_derived").first(),
        )
        .rename({"_line": "line_number"})
        .with_columns(
            classes.list.contains("platinum").alias("has_platinum"),
            classes.list.contains("anti_pd1_pdl1").alias("has_anti_pd1_pdl1"),
            classes.list.contains("egfr_alk_inhibitor").alias("has_egfr_alk_inhibitor"),
        )
        .select(THERAPY_LINE_COLUMNS)
        .sort("patient_id", "line_number")
    )


def is_line_active_at(date_col: str, params: ClinicalParameters) -> pl.Expr:
    """The line started on or before the date and had not ended more than
    `systemic_gap_days` before it (docs/clinical-rules.md section 3, active systemic therapy; a line started on
    the date itself is the line at that date, so it is not 'next' therapy)."""
    t = pl.col(date_col)
    return (pl.col("line_start_date") <= t) & (
        pl.col("line_end_date").is_null()
        | (pl.col("line_end_date") >= t - pl.duration(days=params.systemic_gap_days))
    )


def line_at(
    frame: pl.LazyFrame,
    therapy_lines: pl.LazyFrame,
    date_col: str,
    params: ClinicalParameters = DEFAULT_PARAMETERS,
    name: str = "line_number_at",
) -> pl.LazyFrame:
    """`frame` (with patient_id and `date_col`) plus `name`: the highest line active at that
    date, null when none. Rows of `frame` are kept as they are, one for one."""
    keyed = frame.with_row_index("_row")
    lines = therapy_lines.select("patient_id", "line_number", "line_start_date",
                                 "line_end_date")
    active = (
        keyed.select("_row", "patient_id", date_col)
        .join(lines, on="patient_id", how="inner")
        .filter(is_line_active_at(date_col, params))
        .group_by("_row")
        .agg(pl.col("line_number").max().alias(name))
    )
    return keyed.join(active, on="_row", how="left").sort("_row").drop("_row")

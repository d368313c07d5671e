"""The registry as known at the batch's data cut-off: nothing dated after it is used.

Source: docs/clinical-rules.md section 6 ("nothing dated after the cut-off is used anywhere
in the warehouse: lesions, assessments, episodes, treatments and outcomes alike"). A batch is
a snapshot at `data_cutoff_date` (registry export contract), so a row dated later (a
planned exam, a typing error) describes something not yet known at the cut-off:
- an event row (a lesion's detection, an exam, a disease event, a radiotherapy phase or
  procedure start, a drug start, a toxicity onset, an MDT decision, a diagnosis) dated after
  the cut-off is left out;
- an end dated after it (a drug or radiotherapy end, a lesion's resolution) is not known
  yet: the period is ongoing (drug), open (radiotherapy) or the lesion unresolved;
- a death after it is unknown: the patient is alive at the cut-off; a last contact after it
  is the cut-off.
The rows stay in staging and are counted by the data-quality check
`<table>__<column>__after_cutoff` (`sql/checks/clinical/after_cutoff.sql`).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

# table -> the date column whose value after the cut-off leaves the row out
EVENT_DATES: dict[str, str] = {
    "primary_tumors": "diagnosis_date",
    "metastases": "detected_date",
    "imaging": "exam_date",
    "disease_events": "event_date",
    "radiotherapy": "start_date",
    "local_procedures": "procedure_date",
    "systemic_therapies": "start_date",
    "toxicities": "onset_date",
    "mdt_decisions": "decision_date",
}
# table -> date columns that become unknown (null) when after the cut-off
UNKNOWN_LATER: dict[str, tuple[str, ...]] = {
    "patients": ("death_date",),
    "metastases": ("resolved_date",),
    "radiotherapy": ("end_date",),
    "systemic_therapies": ("end_date",),
}


def _known(column: str, cutoff: pl.Expr) -> pl.Expr:
    return pl.when(pl.col(column) <= cutoff).then(pl.col(column)).alias(column)


def staging_at_cutoff(
    staging: dict[str, pl.LazyFrame], data_cutoff_date: dt.date | None
) -> dict[str, pl.LazyFrame]:
    """Every staging table as known at the cut-off (module doc); unchanged without one."""
    if data_cutoff_date is None:
        return dict(staging)
    cutoff = pl.lit(data_cutoff_date, dtype=pl.Date)
    out: dict[str, pl.LazyFrame] = {}
    for name, frame in staging.items():
        if name in EVENT_DATES:
            date = pl.col(EVENT_DATES[name])
            frame = frame.filter(date.is_null() | (date <= cutoff))
        later = UNKNOWN_LATER.get(name, ())
        if later:
            frame = frame.with_columns(_known(c, cutoff) for c in later)
        if name == "patients":
            frame = frame.with_columns(
                pl.min_horizontal(pl.col("last_contact_date"), cutoff).alias("last_contact_date")
            )
        out[name] = frame
    return out

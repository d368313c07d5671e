"""Landmark analysis of local consolidative therapy (LCT) against none.

Comparing patients who received LCT with those who did not, from the episode date, credits
LCT with the time patients had to survive to receive it (immortal-time bias). The landmark
method (Anderson JR, Cain KC, Gelber RD, J Clin Oncol 1983;1:710–719; Dafni U, Circ
Cardiovasc Qual Outcomes 2011;4:363–371) keeps only patients still at risk at the landmark,
groups them by LCT started on or before it, and counts time from the landmark. docs/clinical-rules.md
section 7: `landmark_months` (default 6), not shorter than the LCT
window (`lct_window_days`, 180), so that every LCT of the episode can start before it.
"""

from __future__ import annotations

import polars as pl

from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters


def landmark_days(params: ClinicalParameters = DEFAULT_PARAMETERS, months: float | None = None) -> float:
    """The landmark in days (months × 30.4375); refuses one shorter than the LCT window."""
    months = params.landmark_months if months is None else months
    days = months * params.days_per_month
    if days < params.lct_window_days:
        raise ValueError(
            f"a landmark of {months} months ({days:.1f} days) is shorter than the LCT window "
            f"({params.lct_window_days} days): LCT started after it would be misclassified"
        )
    return days


def landmark_cohort(
    frame: pl.LazyFrame,
    *,
    at_days: float,
    time: str = "time_days",
    lct_start: str = "lct_start_days",
) -> pl.LazyFrame:
    """Patients still at risk at the landmark, grouped by LCT before it, timed from it.

    `time` is the endpoint's time from the episode date: for OS a patient must be alive and
    followed beyond the landmark, for PFS also progression-free (the PFS time covers death
    and progression), so `time > at_days` is the inclusion rule; an event or censoring on
    the landmark day excludes. `lct_start` is days from the episode date to the first day of
    LCT (null without LCT). Adds `has_lct_by_landmark` and replaces `time` by the time from
    the landmark.
    """
    return frame.filter(pl.col(time) > at_days).with_columns(
        has_lct_by_landmark=pl.col(lct_start).is_not_null() & (pl.col(lct_start) <= at_days),
        **{time: pl.col(time) - at_days},
    )

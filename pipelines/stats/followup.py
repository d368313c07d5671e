"""Median follow-up by the reverse Kaplan–Meier method.

docs/clinical-rules.md section 6: follow-up is summarised by the reverse
Kaplan–Meier estimator, in which being censored alive is the "event" and death censors
(Schemper M, Smith TL, Control Clin Trials 1996;17:343–346). The median and its CI follow
R's rule, as `kaplan_meier.median_survival`.
"""

from __future__ import annotations

import polars as pl

from pipelines.stats.kaplan_meier import CiTransform, kaplan_meier, median_survival


def median_followup(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    time: str = "followup_days",
    censored_alive: str = "followup_event",
    group: str | None = None,
    ci: CiTransform = "log-log",
) -> pl.DataFrame:
    """Median follow-up with CI per group. `censored_alive` is 1 when the patient was last
    seen alive (the reverse-KM event; `marts.patient_followup.followup_event`), 0 at death."""
    curve = kaplan_meier(frame, time=time, event=censored_alive, group=group, ci=ci)
    return median_survival(curve).rename(
        lambda c: c.replace("median_", "median_followup_") if c.startswith("median_") else c
    )

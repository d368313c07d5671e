"""Survival statistics on lifelines, returned as tidy Polars frames (see docs/statistics.md)."""

from pipelines.stats.comparison import cox_hazard_ratios, logrank_test
from pipelines.stats.competing_risks import cumulative_incidence, cumulative_incidence_at
from pipelines.stats.followup import median_followup
from pipelines.stats.kaplan_meier import (
    DAYS_PER_MONTH,
    confidence_limits,
    kaplan_meier,
    median_survival,
    numbers_at_risk,
    survival_at,
)
from pipelines.stats.landmark import landmark_cohort, landmark_days

__all__ = [
    "DAYS_PER_MONTH",
    "confidence_limits",
    "cox_hazard_ratios",
    "cumulative_incidence",
    "cumulative_incidence_at",
    "kaplan_meier",
    "landmark_cohort",
    "landmark_days",
    "logrank_test",
    "median_followup",
    "median_survival",
    "numbers_at_risk",
    "survival_at",
]

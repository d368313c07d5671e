"""Named thresholds of the data-quality checks (clinical windows come from ClinicalParameters).

Each value cites where it comes from; change them here, never in a SQL file.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.contract.rules import QUARANTINE_RATE_THRESHOLD


@dataclass(frozen=True)
class QualityThresholds:
    # docs/data-dictionary.md: a quarantine rate above 1 % of a table refuses the batch.
    quarantine_rate_pct: float = 100.0 * QUARANTINE_RATE_THRESHOLD
    # Dose per fraction outside 0.5-35 Gy is not a plausible external-beam fraction
    # (issue 10; single-fraction SRS tops out near 24 Gy, 35 Gy leaves a margin).
    min_dose_per_fraction_gy: float = 0.5
    max_dose_per_fraction_gy: float = 35.0
    # docs/data-dictionary.md: more than 200 Gy is a dose in cGy; also applied to a course and
    # target with its phases summed.
    max_course_dose_gy: float = 200.0
    # Drug periods longer than two years are flagged (issue 10; e.g. pembrolizumab is
    # given for at most 35 cycles, about two years). Targeted therapies can legitimately run
    # longer, hence a warning with an allowed share.
    max_drug_period_days: int = 730
    long_drug_period_allowed_pct: float = 5.0
    # EORTC-LCG 2019 (Dingemans, J Thorac Oncol 2019): FDG-PET/CT and brain MRI are
    # mandatory for synchronous OMD; at least this share of synchronous episodes must have both.
    min_staged_synchronous_pct: float = 80.0
    # clinical-rules.md: unclassifiable episodes are counted on the data-quality page; above
    # this share the classification is not trustworthy.
    max_unclassifiable_pct: float = 10.0
    # A cM1 primary (TNM 8th edition) without any metastasis row: incomplete lesion reporting;
    # a few are expected (an effusion staged cM1a but never entered as a lesion).
    m1_without_metastasis_allowed_pct: float = 5.0
    # Age at diagnosis of NSCLC outside 18-105 years is implausible for this registry.
    min_age_at_diagnosis: int = 18
    max_age_at_diagnosis: int = 105
    # How many failing keys are stored in dq.failing_rows and shown in a check's metadata.
    max_failing_rows: int = 10_000
    sample_size: int = 10


DEFAULT_THRESHOLDS = QualityThresholds()

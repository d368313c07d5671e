"""Radiotherapy dose expressions (linear-quadratic model) and the radical-therapy predicate.

Sources: LQ model, BED = D * (1 + d / (alpha/beta)), EQD2 = BED / (1 + 2 / (alpha/beta))
(Fowler JF, Br J Radiol 1989;62:679-694). SBRT/SRS inference and 'radical' follow
docs/clinical-rules.md section 5 (project conventions, documented there); the EQD2 threshold
for the primary and regional nodes is the lowest consolidative regimen of Gomez DR et al.,
Lancet Oncol 2016;17:1672-1682 (45 Gy in 15 fractions).
"""

from __future__ import annotations

import polars as pl

from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters

SBRT_TECHNIQUES = ("sbrt", "srs")
RADICAL_RT_INTENTS = ("ablative", "consolidative")
# For the primary and regional nodes "curative" counts too (docs/clinical-rules.md section 5).
LOCOREGIONAL_RADICAL_INTENTS = ("curative", "ablative", "consolidative")


def dose_per_fraction(total: str = "total_dose_gy", fractions: str = "fractions") -> pl.Expr:
    return pl.col(total) / pl.col(fractions)


def bed(alpha_beta: float, total: str = "total_dose_gy", fractions: str = "fractions") -> pl.Expr:
    """Biologically effective dose in Gy for one phase."""
    return pl.col(total) * (1 + dose_per_fraction(total, fractions) / alpha_beta)


def eqd2(alpha_beta: float, total: str = "total_dose_gy", fractions: str = "fractions") -> pl.Expr:
    """Equivalent dose in 2-Gy fractions."""
    return bed(alpha_beta, total, fractions) / (1 + 2 / alpha_beta)


def is_sbrt_inferred(p: ClinicalParameters = DEFAULT_PARAMETERS) -> pl.Expr:
    """Technique missing, but d >= 5 Gy, <= 8 fractions and BED10 >= 35 Gy."""
    return (
        pl.col("technique").is_null()
        & (dose_per_fraction() >= p.sbrt_min_dose_per_fraction_gy)
        & (pl.col("fractions") <= p.sbrt_max_fractions)
        & (bed(p.alpha_beta_tumour) >= p.sbrt_min_bed10_gy)
    )


def is_sbrt(p: ClinicalParameters = DEFAULT_PARAMETERS) -> pl.Expr:
    """SBRT or SRS, recorded or inferred."""
    return pl.col("technique").is_in(SBRT_TECHNIQUES).fill_null(False) | is_sbrt_inferred(p)


def is_radical_radiotherapy(p: ClinicalParameters = DEFAULT_PARAMETERS) -> pl.Expr:
    """Intent ablative or consolidative, or SBRT/SRS not marked palliative."""
    intent = pl.col("intent")
    return intent.is_in(RADICAL_RT_INTENTS).fill_null(False) | (
        is_sbrt(p) & intent.ne_missing("palliative")
    )


def is_radical_procedure() -> pl.Expr:
    """Surgery or thermal ablation not marked palliative."""
    return pl.col("intent").ne_missing("palliative")


def is_radical_locoregional_course(
    p: ClinicalParameters = DEFAULT_PARAMETERS, course_eqd2: str = "course_eqd2_gy"
) -> pl.Expr:
    """Radiotherapy of the primary or regional nodes, per phase row with the course's summed
    EQD2(10) in `course_eqd2`: intent curative, ablative or consolidative; or, when the
    intent is missing, course EQD2(10) >= radical_eqd2_min_gy (45 Gy)."""
    intent = pl.col("intent")
    return intent.is_in(LOCOREGIONAL_RADICAL_INTENTS).fill_null(False) | (
        intent.is_null() & (pl.col(course_eqd2) >= p.radical_eqd2_min_gy).fill_null(False)
    )

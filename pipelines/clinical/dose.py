"""Radiotherapy dose expressions (linear-quadratic model) and the radical-therapy predicate.

Sources: LQ model, BED = D * (1 + d / (alpha/beta)), EQD2 = BED / (1 + 2 / (alpha/beta))
(Fowler JF, Br J Radiol 1989;62:679-694). SBRT/SRS inference and 'radical' follow shared
spec `clinical-rules.md` section 5 (a project convention, documented there).
"""

from __future__ import annotations

import polars as pl

from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters

SBRT_TECHNIQUES = ("sbrt", "srs")
RADICAL_RT_INTENTS = ("ablative", "consolidative")


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

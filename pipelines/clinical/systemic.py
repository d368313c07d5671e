"""Active systemic therapy at a date.

Source: shared spec `clinical-rules.md` section 3: an antineoplastic drug (ATC L01, or a
known antineoplastic by name; bone agents such as denosumab or zoledronate and steroids do
not count, see `drugs.py`) is active at t when it started before t and ended no earlier than
t - `systemic_gap_days` (30), or has no end date (ongoing at the cut-off). ESTRO/EORTC 2020
(Guckenberger et al., Lancet Oncol 2020;21:e18-e28) uses it to tell oligorecurrence (off
therapy) from oligoprogression and oligopersistence (on therapy).
"""

from __future__ import annotations

import polars as pl

from pipelines.clinical.drugs import is_antineoplastic
from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters


def antineoplastic_periods(systemic_therapies: pl.LazyFrame) -> pl.LazyFrame:
    """Drug periods that count as systemic therapy: patient_id, drug_start_date,
    drug_end_date (null = ongoing)."""
    return systemic_therapies.filter(is_antineoplastic()).select(
        "patient_id",
        pl.col("start_date").alias("drug_start_date"),
        pl.col("end_date").alias("drug_end_date"),
    )


def with_systemic_therapy(
    frame: pl.LazyFrame,
    systemic_therapies: pl.LazyFrame,
    params: ClinicalParameters = DEFAULT_PARAMETERS,
    at: str = "assessment_date",
    since: str | None = None,
    alias: str = "on_systemic_therapy",
) -> pl.LazyFrame:
    """Add `alias`: antineoplastic therapy was active at some time in [since, at] (at `at`
    only when `since` is None): a drug started before `at` and ended no earlier than
    `since` - systemic_gap_days, or is ongoing."""
    since = since or at
    key_cols = ["patient_id", at] + ([since] if since != at else [])
    keys = frame.select(key_cols).unique()
    active = (
        keys.join(antineoplastic_periods(systemic_therapies), on="patient_id", how="inner")
        .filter(
            (pl.col("drug_start_date") < pl.col(at))
            & (
                pl.col("drug_end_date").is_null()
                | (pl.col("drug_end_date")
                   >= pl.col(since).dt.offset_by(f"-{params.systemic_gap_days}d"))
            )
        )
        .select(key_cols)
        .unique()
        .with_columns(pl.lit(True).alias(alias))
    )
    return frame.join(active, on=key_cols, how="left").with_columns(pl.col(alias).fill_null(False))

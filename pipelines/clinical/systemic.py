"""Active systemic therapy at a date.

Source: docs/clinical-rules.md section 3: an antineoplastic drug (ATC L01, or a
known antineoplastic by name; bone agents such as denosumab or zoledronate and steroids do
not count, see `drugs.py`) is active at t when it started before t and ended no earlier than
t - `systemic_gap_days` (30), or has no end date (ongoing at the cut-off). ESTRO/EORTC 2020
(Guckenberger et al., Lancet Oncol 2020;21:e18-e28) uses it to tell oligorecurrence (off
therapy) from oligoprogression and oligopersistence (on therapy).
"""

from __future__ import annotations

import polars as pl

from pipelines.clinical.drugs import is_antineoplastic, is_unrecognised_drug, with_drug_facts
from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters

DRUG_FLAGS = ("is_antineoplastic", "is_unrecognised_drug")


def drug_periods(systemic_therapies: pl.LazyFrame) -> pl.LazyFrame:
    """The drug rows that can count as systemic therapy (antineoplastic or unrecognised),
    with both flags computed once: patient_id, start_date, end_date, is_antineoplastic,
    is_unrecognised_drug. `with_systemic_therapy` takes it in place of the drug rows."""
    return (
        with_drug_facts(systemic_therapies)
        .filter(pl.col("is_antineoplastic") | pl.col("is_unrecognised_drug"))
        .select("patient_id", "start_date", "end_date", *DRUG_FLAGS)
    )


def antineoplastic_periods(
    systemic_therapies: pl.LazyFrame, include_unrecognised: bool = False
) -> pl.LazyFrame:
    """Drug periods that count as systemic therapy: patient_id, drug_start_date,
    drug_end_date (null = ongoing); with `include_unrecognised`, also the periods of drugs
    recognised by no list (to tell whether such a row decides the on-therapy input).
    `systemic_therapies` may be the drug rows or their `drug_periods`."""
    flagged = set(DRUG_FLAGS) <= set(systemic_therapies.collect_schema().names())
    anti = pl.col("is_antineoplastic") if flagged else is_antineoplastic()
    unrecognised = pl.col("is_unrecognised_drug") if flagged else is_unrecognised_drug()
    counted = anti | (unrecognised if include_unrecognised else pl.lit(False))
    return systemic_therapies.filter(counted).select(
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
    include_unrecognised: bool = False,
) -> pl.LazyFrame:
    """Add `alias`. Without `since`: antineoplastic therapy is active at `at` (started
    before it, ended no earlier than `at` - systemic_gap_days, or ongoing). With `since`:
    an antineoplastic exposure overlaps the days after `since` up to `at` (started before
    `at`, ended after `since` or ongoing); the gap tail of a drug that ended on or before
    `since` does not count (docs/clinical-rules.md section 3, treatment decision (ii))."""
    key_cols = ["patient_id", at] + ([since] if since is not None and since != at else [])
    keys = frame.select(key_cols).unique()
    end = pl.col("drug_end_date")
    if since is None:
        still_running = end >= pl.col(at).dt.offset_by(f"-{params.systemic_gap_days}d")
    else:
        still_running = end > pl.col(since)
    active = (
        keys.join(antineoplastic_periods(systemic_therapies, include_unrecognised),
                  on="patient_id", how="inner")
        .filter((pl.col("drug_start_date") < pl.col(at)) & (end.is_null() | still_running))
        .select(key_cols)
        .unique()
        .with_columns(pl.lit(True).alias(alias))
    )
    return frame.join(active, on=key_cols, how="left").with_columns(pl.col(alias).fill_null(False))

"""`cohort_attrition`: the cohort flow, one row per step, one meaning per column.

Each step removes patients for one reason, in order, and no patient is removed twice:
`remaining` after step k = `remaining` after step k - 1 minus `excluded` at step k. The
first row counts every patient of the registry export, opt-outs included; the opt-outs
(removed at ingest, counted in `raw.opt_out_exclusions`) are the first exclusion; then the
population reasons of docs/clinical-rules.md section 1 (each patient has exactly one), then
the narrowing steps of the analysis cohort: a counted distant metastasis, an OMD episode, a
synchronous OMD episode, an EORTC-LCG synchronous OMD episode (Dingemans 2019).
"""

from __future__ import annotations

import polars as pl

from pipelines.clinical.population import POPULATION_REASONS

ATTRITION_COLUMNS = ("step_order", "step", "remaining", "excluded", "reason")
POPULATION_EXCLUSION_REASONS = {
    "excluded_no_primary": "no primary lung tumour recorded",
    "excluded_other_topography": "primary outside the lung (ICD-O-3 topography not C34)",
    "excluded_not_invasive": "primary not malignant invasive (behaviour not /3)",
    "excluded_sclc": "small cell carcinoma (ICD-O-3 8041-8045)",
    "excluded_lcnec_carcinoid": "large-cell neuroendocrine carcinoma or carcinoid "
                                "(8013, 8240, 8249; parameter exclude_lcnec_and_carcinoids)",
    "excluded_other_histology": "histology outside the NSCLC code set",
    "review_8000_8010": "neoplasm or carcinoma NOS (8000, 8010): set aside for review",
    "unclassifiable_ambiguous_primary": "the primary the metastases come from cannot be told",
}
assert set(POPULATION_EXCLUSION_REASONS) == set(POPULATION_REASONS) - {"nsclc"}


def _steps(n_opted_out: int = 0) -> list[tuple[str, pl.Expr, str]]:
    """(step, patients excluded at the step, reason) in order; the first row excludes nobody.
    The opt-outs are not in the per-patient frame, so their count comes from outside."""
    nsclc = pl.col("is_nsclc")
    metastatic = nsclc & pl.col("_metastatic").fill_null(False)
    omd = metastatic & pl.col("_omd").fill_null(False)
    sync = omd & pl.col("_sync").fill_null(False)
    eortc = sync & pl.col("_eortc").fill_null(False)
    steps: list[tuple[str, pl.Expr, str]] = [
        ("registry_patients", pl.lit(0),
         "patients of the registry export, before opt-outs"),
        ("excluded_opt_out", pl.lit(n_opted_out),
         "objected to the use of their data: removed at ingest"),
    ]
    steps += [(reason, (pl.col("population_reason") == reason).sum(), text)
              for reason, text in POPULATION_EXCLUSION_REASONS.items()]
    steps += [
        ("nsclc", pl.lit(0), "NSCLC population (docs/clinical-rules.md section 1)"),
        ("metastatic_nsclc", (nsclc & ~metastatic).sum(),
         "NSCLC without a counted distant metastasis (regional nodes never count)"),
        ("with_omd_episode", (metastatic & ~omd).sum(),
         "metastatic, never oligometastatic (no OMD episode)"),
        ("with_synchronous_omd", (omd & ~sync).sum(),
         "OMD episodes, none synchronous"),
        ("with_eortc_synchronous_omd", (sync & ~eortc).sum(),
         "synchronous OMD not meeting the EORTC-LCG 2019 definition"),
    ]
    return steps


def attrition_counts(population: pl.LazyFrame, episodes: pl.LazyFrame,
                     lesions: pl.LazyFrame) -> pl.LazyFrame:
    """One row: `_total` (patients of the frames) and the patients excluded at each step,
    opt-outs aside. Counts of disjoint sets of patients add up, so the counts of patient
    partitions are summed by `attrition_table`."""
    per_patient = population.select("patient_id", "population_reason", "is_nsclc").join(
        lesions.select("patient_id").unique().with_columns(pl.lit(True).alias("_metastatic")),
        on="patient_id", how="left",
    ).join(
        episodes.group_by("patient_id").agg(
            pl.lit(True).alias("_omd"),
            (pl.col("omd_state") == "synchronous_omd").any().alias("_sync"),
            pl.col("is_eortc_som_nsclc").fill_null(False).any().alias("_eortc"),
        ),
        on="patient_id", how="left",
    )
    return per_patient.select(
        pl.len().cast(pl.Int64).alias("_total"),
        *(e.cast(pl.Int64).alias(s) for s, e, _ in _steps()),
    )


def attrition_table(counts: pl.LazyFrame, n_opted_out: int = 0) -> pl.LazyFrame:
    """The cohort flow from `attrition_counts` rows (one per patient partition, summed).
    `n_opted_out`: patients removed at ingest because they objected."""
    steps = _steps(n_opted_out)
    names = [s for s, _, _ in steps]
    totals = counts.select(pl.all().sum()).with_columns(
        (pl.col("_total") + n_opted_out).cast(pl.Int64),
        pl.lit(n_opted_out, dtype=pl.Int64).alias("excluded_opt_out"),
    )
    return (
        totals.unpivot(on=names, index="_total", variable_name="step", value_name="excluded")
        .with_columns(
            pl.col("step").replace_strict(names, list(range(1, len(names) + 1)),
                                          return_dtype=pl.Int64).alias("step_order"),
            pl.col("step").replace_strict(names, [r for _, _, r in steps],
                                          return_dtype=pl.String).alias("reason"),
        )
        .sort("step_order")
        .with_columns((pl.col("_total") - pl.col("excluded").cum_sum()).alias("remaining"))
        .select(ATTRITION_COLUMNS)
    )


def cohort_attrition(population: pl.LazyFrame, episodes: pl.LazyFrame,
                     lesions: pl.LazyFrame, n_opted_out: int = 0) -> pl.LazyFrame:
    """The cohort flow (module doc). `n_opted_out`: patients removed at ingest because they
    objected (0 when the ingest recorded none)."""
    return attrition_table(attrition_counts(population, episodes, lesions), n_opted_out)

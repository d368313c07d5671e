"""The NSCLC population: which patients get oligometastatic episodes, and through which primary.

Sources: ICD-O-3 (WHO, 3rd edition, 2nd revision) morphology and topography; WHO 2021
classification of thoracic tumours for the NSCLC histology groups; docs/clinical-rules.md
section 1. The code sets are the versioned files
`codesets/nsclc_morphology_v1.csv` and `codesets/lung_topography_v1.csv`.

- A primary is NSCLC when its topography is C34.x, its behaviour /3 and its morphology in the
  NSCLC set. Small cell (8041-8045) is excluded; large-cell neuroendocrine (8013) and
  carcinoids (8240, 8249) are excluded unless `exclude_lcnec_and_carcinoids` is off;
  8000/8010 are flagged for review.
- A lesion belongs to its `tumor_id`; without one, to the patient's only primary. Several
  primaries with a lesion without `tumor_id`, lesions pointing to different primaries not all
  NSCLC, or NSCLC and SCLC primaries together: `unclassifiable_ambiguous_primary` (which
  cancer the metastases come from cannot be told). Several NSCLC primaries whose lesions all
  name their tumour are classifiable: the index primary is the earliest diagnosed of the
  linked ones, and each episode dates from the earliest diagnosis among the tumours of its
  own lesions (`episodes.episode_tumours`).
"""

from __future__ import annotations

import polars as pl

from pipelines.clinical.codesets import load_codeset
from pipelines.clinical.frames import materialise
from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters

REGIONAL_NODE = "regional_lymph_node"
POPULATION_REASONS = (
    "nsclc",
    "excluded_no_primary",
    "excluded_other_topography",
    "excluded_not_invasive",
    "excluded_sclc",
    "excluded_lcnec_carcinoid",
    "excluded_other_histology",
    "review_8000_8010",
    "unclassifiable_ambiguous_primary",
)
POPULATION_COLUMNS = ("patient_id", "is_nsclc", "population_reason", "primary_tumor_id",
                      "diagnosis_date", "diagnosis_date_imputed", "histology_group")


def classify_primaries(
    primary_tumors: pl.LazyFrame, params: ClinicalParameters = DEFAULT_PARAMETERS
) -> pl.LazyFrame:
    """Per primary tumour: `tumour_reason` (a population reason) and `histology_group`."""
    morphology = load_codeset("nsclc_morphology").lazy().select(
        pl.col("morphology_code").alias("_morph4"), "histology_group", "category"
    )
    lung_sites = load_codeset("lung_topography")["topography_code"].to_list()
    topography = pl.col("topography_code").str.replace_all(r"[.\s]", "").str.to_uppercase()
    behaviour = pl.col("morphology_code").str.split("/").list.get(1, null_on_oob=True)
    category = pl.col("category")
    reason = (
        pl.when(~topography.is_in(lung_sites).fill_null(False))
        .then(pl.lit("excluded_other_topography"))
        .when(behaviour.ne_missing("3"))
        .then(pl.lit("excluded_not_invasive"))
        .when(category == "nsclc")
        .then(pl.lit("nsclc"))
        .when(category == "sclc")
        .then(pl.lit("excluded_sclc"))
        .when(category == "lcnec_carcinoid")
        .then(pl.lit("excluded_lcnec_carcinoid" if params.exclude_lcnec_and_carcinoids
                     else "nsclc"))
        .when(category == "review")
        .then(pl.lit("review_8000_8010"))
        .otherwise(pl.lit("excluded_other_histology"))
    )
    return (
        primary_tumors.with_columns(pl.col("morphology_code").str.slice(0, 4).alias("_morph4"))
        .join(morphology, on="_morph4", how="left")
        .with_columns(
            reason.alias("tumour_reason"),
            (category == "sclc").fill_null(False).alias("is_sclc"),
        )
        .with_columns(
            pl.when(pl.col("tumour_reason") == "nsclc").then("histology_group")
            .alias("histology_group")
        )
        .select("tumor_id", "patient_id", "diagnosis_date", "diagnosis_date_imputed",
                "tumour_reason", "histology_group", "is_sclc")
    )


def classify_population(
    patients: pl.LazyFrame,
    primary_tumors: pl.LazyFrame,
    metastases: pl.LazyFrame,
    params: ClinicalParameters = DEFAULT_PARAMETERS,
) -> pl.LazyFrame:
    """One row per patient of the registry: is_nsclc, population_reason, the index primary
    (the one the metastases belong to), its diagnosis date and histology group."""
    # Read three times below: computed once.
    primaries, = materialise(classify_primaries(primary_tumors, params))
    per_patient = primaries.group_by("patient_id").agg(
        pl.len().alias("_n_primaries"),
        (pl.col("tumour_reason") == "nsclc").any().alias("_has_nsclc"),
        pl.col("is_sclc").any().alias("_has_sclc"),
        # Without lesions to say which, the earliest NSCLC primary (else the earliest).
        pl.col("tumor_id")
        .sort_by(pl.col("tumour_reason") != "nsclc", "diagnosis_date", "tumor_id")
        .first()
        .alias("_default_tumor_id"),
    )
    linked = primaries.select(
        "tumor_id", pl.col("tumour_reason").alias("_linked_reason"),
        pl.col("diagnosis_date").alias("_linked_dx"),
    )
    lesion_links = (
        metastases.filter(pl.col("organ") != REGIONAL_NODE)
        .join(linked, on="tumor_id", how="left")
        .group_by("patient_id")
        .agg(
            pl.col("tumor_id").is_null().any().alias("_lesion_without_tumor"),
            pl.col("tumor_id").drop_nulls().n_unique().alias("_n_linked_tumors"),
            (pl.col("tumor_id").is_not_null() & pl.col("_linked_reason").ne_missing("nsclc"))
            .any().alias("_linked_not_nsclc"),
            # Several linked NSCLC primaries: the index primary is the earliest diagnosed.
            pl.col("tumor_id").sort_by("_linked_dx", "tumor_id", nulls_last=True)
            .drop_nulls().first().alias("_linked_tumor_id"),
        )
    )
    # Several NSCLC primaries whose lesions all name their tumour stay classifiable.
    ambiguous = (
        ((pl.col("_n_primaries") > 1) & pl.col("_lesion_without_tumor").fill_null(False))
        | ((pl.col("_n_linked_tumors").fill_null(0) > 1)
           & pl.col("_linked_not_nsclc").fill_null(False))
        | (pl.col("_has_nsclc") & pl.col("_has_sclc"))
    )
    return (
        patients.select("patient_id")
        .join(per_patient, on="patient_id", how="left")
        .join(lesion_links, on="patient_id", how="left")
        .with_columns(
            pl.coalesce("_linked_tumor_id", "_default_tumor_id").alias("primary_tumor_id"),
            ambiguous.fill_null(False).alias("_ambiguous"),
        )
        .join(primaries.drop("patient_id"), left_on="primary_tumor_id", right_on="tumor_id",
              how="left")
        .with_columns(
            pl.when(pl.col("_n_primaries").is_null())
            .then(pl.lit("excluded_no_primary"))
            .when(pl.col("_ambiguous"))
            .then(pl.lit("unclassifiable_ambiguous_primary"))
            .otherwise(pl.col("tumour_reason"))
            .alias("population_reason")
        )
        .with_columns((pl.col("population_reason") == "nsclc").alias("is_nsclc"))
        .with_columns(
            pl.when(pl.col("is_nsclc")).then("histology_group").alias("histology_group"),
            pl.col("diagnosis_date_imputed").fill_null(False),
        )
        .select(POPULATION_COLUMNS)
    )

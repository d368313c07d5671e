"""The cohort's filter dimensions ("facets"), their labels, and the filter expressions.

A filter is `{facet key: [selected labels]}`: labels within one facet are OR-ed, facets are
AND-ed (cBioPortal's study view). Every chart counts OMD episodes of
`marts.episode_cohort`; the same keys are the URL query parameters of a shared view.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

# The nine ESTRO/EORTC states, in the order of the decision tree: one list, one place.
from pipelines.clinical.episodes import OMD_STATES

UNKNOWN = "unknown"

ORGAN_FLAGS = (
    "brain",
    "bone",
    "liver",
    "adrenal",
    "lung",
    "distant_lymph_node",
    "pleura",
    "other",
)


@dataclass(frozen=True)
class Facet:
    key: str  # URL parameter and widget key
    title: str
    column: str  # source column of marts.episode_cohort ("" for the organ flags)
    order: tuple[str, ...] = ()  # display order of known labels; others follow
    numeric: bool = False  # labels sort as numbers
    true_label: str = "yes"
    false_label: str = "no"

    @property
    def is_flags(self) -> bool:
        return self.key == "organs"


FACETS: tuple[Facet, ...] = (
    Facet("omd_state", "OMD state", "omd_state", order=OMD_STATES),
    Facet(
        "timing", "Synchronous or metachronous", "is_synchronous",
        order=("synchronous", "metachronous"),
        true_label="synchronous", false_label="metachronous",
    ),
    Facet("n_lesions", "Lesions", "n_lesions", numeric=True),
    Facet("n_organs", "Organs involved (number)", "n_organs", numeric=True),
    Facet("organs", "Organs involved", "", order=ORGAN_FLAGS),
    Facet("histology_group", "Histology group", "histology_group"),
    Facet(
        "driver_status", "Driver", "driver_status",
        order=("egfr", "alk", "other_driver", "none", "not_tested"),
    ),
    Facet("pdl1_category", "PD-L1", "pdl1_category", order=("<1%", "1-49%", ">=50%", "unknown")),
    Facet("ecog_at_diagnosis", "ECOG at diagnosis", "ecog_at_diagnosis", numeric=True),
    Facet("center_id", "Centre", "center_id"),
    Facet("diagnosis_year", "Diagnosis year", "diagnosis_year", numeric=True),
    Facet(
        "treatment_strategy", "Treatment strategy", "treatment_strategy",
        order=("lct_all_sites", "lct_partial", "systemic_only", "none"),
    ),
)
FACETS_BY_KEY = {facet.key: facet for facet in FACETS}
FACETS_BY_COLUMN = {facet.column: facet for facet in FACETS if facet.column}

Filters = dict[str, list[str]]


def label_expr(column: str, schema: Mapping[str, pl.DataType]) -> pl.Expr:
    """A column as display labels: booleans named (facet's words or yes/no), nulls 'unknown'."""
    dtype = schema[column]
    facet = FACETS_BY_COLUMN.get(column)
    if dtype == pl.Boolean:
        yes, no = (facet.true_label, facet.false_label) if facet else ("yes", "no")
        expr = pl.when(pl.col(column)).then(pl.lit(yes)).when(~pl.col(column)).then(pl.lit(no))
    else:
        expr = pl.col(column).cast(pl.String)
    return expr.fill_null(UNKNOWN)


def facet_expr(facet: Facet, values: Sequence[str], schema: Mapping[str, pl.DataType]) -> pl.Expr:
    """Rows matching any of `values` of one facet."""
    if facet.is_flags:
        flags = [pl.col(f"has_{v}").fill_null(False) for v in values if v in ORGAN_FLAGS]
        return pl.any_horizontal(flags) if flags else pl.lit(False)
    return label_expr(facet.column, schema).is_in(list(values))


def filter_expr(
    filters: Mapping[str, Sequence[str]],
    schema: Mapping[str, pl.DataType],
    *,
    skip: str | None = None,
) -> pl.Expr:
    """AND of every active facet (except `skip`, so a chart shows what its own bars add)."""
    parts = [
        facet_expr(FACETS_BY_KEY[key], values, schema)
        for key, values in filters.items()
        if values and key in FACETS_BY_KEY and key != skip
    ]
    return pl.all_horizontal(parts) if parts else pl.lit(True)


def apply_filters(
    cohort: pl.LazyFrame, filters: Mapping[str, Sequence[str]], *, skip: str | None = None
) -> pl.LazyFrame:
    return cohort.filter(filter_expr(filters, cohort.collect_schema(), skip=skip))


def sort_labels(facet: Facet, labels: pl.Expr) -> pl.Expr:
    """A sort key: the facet's own order first, other labels next, 'unknown' last."""
    order_map = {label: i for i, label in enumerate(facet.order)}
    rank = labels.replace_strict(order_map, default=len(order_map), return_dtype=pl.Int64)
    return pl.when(labels == UNKNOWN).then(pl.lit(10_000, pl.Int64)).otherwise(rank)


def facet_counts(cohort: pl.LazyFrame, facet: Facet) -> pl.LazyFrame:
    """Episodes per label of one facet: columns `label`, `n` (organ flags: episodes with it)."""
    if facet.is_flags:
        return (
            cohort.select(
                [pl.col(f"has_{organ}").fill_null(False).sum().alias(organ) for organ in ORGAN_FLAGS]
            )
            .unpivot(variable_name="label", value_name="n")
            .with_columns(pl.col("n").cast(pl.Int64))
        )
    schema = cohort.collect_schema()
    counted = cohort.group_by(label=label_expr(facet.column, schema)).agg(n=pl.len().cast(pl.Int64))
    rank = sort_labels(facet, pl.col("label"))
    if facet.numeric:
        number = pl.col("label").cast(pl.Float64, strict=False)
        return counted.sort(rank, number, pl.col("label"))
    return counted.sort(rank, pl.col("n"), pl.col("label"), descending=[False, True, False])


def clean_filters(raw: Mapping[str, Sequence[str]], options: Mapping[str, Sequence[str]]) -> Filters:
    """Keep only known facets and labels that exist in this batch (a shared URL may be old)."""
    cleaned: Filters = {}
    for key, values in raw.items():
        if key in FACETS_BY_KEY:
            allowed = set(options.get(key, ()))
            kept = [v for v in dict.fromkeys(values) if v in allowed]
            if kept:
                cleaned[key] = kept
    return cleaned


def describe_filters(filters: Mapping[str, Sequence[str]]) -> str:
    parts = [
        f"{FACETS_BY_KEY[key].title}: {', '.join(values)}"
        for key, values in filters.items()
        if values and key in FACETS_BY_KEY
    ]
    return "; ".join(parts) if parts else "no filter (all OMD episodes)"


def grouping_columns(cohort: pl.LazyFrame, max_levels: int = 12) -> list[str]:
    """Columns of the cohort that make sensible groups: text, boolean or integer columns
    with 2 to `max_levels` distinct values (identifiers and dates excluded), facets first."""
    schema = cohort.collect_schema()
    candidates = [
        name
        for name, dtype in schema.items()
        if (dtype == pl.Boolean or dtype == pl.String or dtype.is_integer())
        and not (name.endswith("_id") and name != "center_id")
        and not name.startswith("_")  # record keys and other internal columns
    ]
    if not candidates:
        return []
    distinct = cohort.select(pl.col(candidates).n_unique()).collect().row(0, named=True)
    usable = [c for c in candidates if 2 <= distinct[c] <= max_levels or c in FACETS_BY_COLUMN]
    facets_first = [f.column for f in FACETS if f.column in usable]
    return facets_first + [c for c in usable if c not in facets_first]

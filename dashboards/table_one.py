""""Table 1": baseline characteristics of the filtered episodes by a chosen grouping.

Categorical rows give n (%) of the group; continuous rows give median [Q1–Q3]. Every count
is a protected count of episodes (`dashboards.disclosure`: cell-key noise and the minimum
cell size in the aggregate role), percentages are of the shown counts, a group whose own n
is small shows no cells, and medians and quartiles are shown only for groups the curve gate
allows (a median of three ages is one patient's age).
"""

from __future__ import annotations

import polars as pl

from dashboards.disclosure import Policy, gate_groups, protected_counts
from dashboards.filters import FACETS_BY_COLUMN, UNKNOWN, label_expr, sort_labels

ALL = "All episodes"
CATEGORICAL = (
    ("sex", "Sex"),
    ("smoking_status", "Smoking"),
    ("histology_group", "Histology group"),
    ("driver_status", "Driver"),
    ("pdl1_category", "PD-L1"),
    ("ecog_at_diagnosis", "ECOG at diagnosis"),
    ("stage_group", "Stage at diagnosis"),
    ("omd_state", "OMD state"),
    ("is_synchronous", "Synchronous or metachronous"),
    ("treatment_strategy", "Treatment strategy"),
    ("all_sites_treated", "All sites treated"),
)
CONTINUOUS = (
    ("age_at_episode", "Age at episode, years"),
    ("n_lesions", "Lesions"),
    ("n_organs", "Organs involved"),
)
NO_VALUE = "—"


def _present(pairs, schema) -> list[tuple[str, str]]:
    return [(column, title) for column, title in pairs if column in schema]


UNIT = "episode_id"
KEY = "_rk_episode_id"


def group_sizes(labelled: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """`group`, `n`, `n_label`, `is_hidden` (small), `has_summary` for the grouping levels."""
    sizes = protected_counts(labelled, ["group"], unit=UNIT, policy=policy)
    gate = gate_groups(labelled, "group", unit=UNIT, policy=policy)
    return sizes.with_columns(
        is_hidden=pl.col("n_small"), has_summary=pl.col("group").is_in(gate.allowed)
    )


def table_one(cohort: pl.LazyFrame, group: str | None, policy: Policy) -> pl.DataFrame:
    """One row per characteristic and level; one text column per group level."""
    schema = cohort.collect_schema()
    group_col = label_expr(group, schema) if group else pl.lit(ALL)
    categorical = _present(CATEGORICAL, schema)
    continuous = _present(CONTINUOUS, schema)
    keys = [KEY] if KEY in schema else []
    labelled = cohort.with_columns(group=group_col).collect()
    sizes = group_sizes(labelled, policy)

    long = labelled.select(
        "group", UNIT, *keys,
        *[label_expr(column, schema).alias(column) for column, _ in categorical],
    ).unpivot(index=["group", UNIT, *keys], variable_name="variable", value_name="level")
    counts = protected_counts(long, ["group", "variable", "level"], unit=UNIT, policy=policy)
    counts = counts.join(sizes.select("group", group_n="n", group_hidden="is_hidden"), on="group")
    cat_cells = counts.select(
        "group",
        "variable",
        "level",
        cell=pl.when(pl.col("group_hidden"))
        .then(pl.lit(NO_VALUE))
        .when(pl.col("n_small") | (pl.col("n") == 0) | (pl.col("group_n") == 0))
        .then(pl.col("n_label"))
        .otherwise(
            pl.format(
                "{} ({}%)",
                pl.col("n_label"),
                (100 * pl.col("n") / pl.col("group_n")).round(0).cast(pl.Int64),
            )
        ),
    )

    summaries = (
        labelled.group_by("group")
        .agg(
            pl.struct(
                q1=pl.col(column).cast(pl.Float64).quantile(0.25, "linear"),
                median=pl.col(column).cast(pl.Float64).median(),
                q3=pl.col(column).cast(pl.Float64).quantile(0.75, "linear"),
            ).alias(column)
            for column, _ in continuous
        )
        .unpivot(index="group", variable_name="variable", value_name="stats")
        .unnest("stats")
        .join(sizes.select("group", "has_summary"), on="group")
    )
    num_cells = summaries.select(
        "group",
        "variable",
        level=pl.lit("median [Q1–Q3]"),
        cell=pl.when(~pl.col("has_summary") | pl.col("median").is_null())
        .then(pl.lit(NO_VALUE))
        .otherwise(
            pl.format(
                "{} [{}–{}]",
                pl.col("median").round(1),
                pl.col("q1").round(1),
                pl.col("q3").round(1),
            )
        ),
    )

    titles = dict(categorical) | dict(continuous)
    variable_rank = {column: i for i, column in enumerate(titles)}
    cells = pl.concat([num_cells, cat_cells])
    rows = cells.select("variable", "level").unique()
    rows = rows.with_columns(
        variable_rank=pl.col("variable").replace_strict(variable_rank, return_dtype=pl.Int64),
        level_rank=_level_rank(),
        level_number=pl.col("level").cast(pl.Float64, strict=False),
    ).sort("variable_rank", "level_rank", "level_number", "level")
    wide = cells.pivot(on="group", index=["variable", "level"], values="cell")
    group_order = _group_order(sizes, group, schema)
    header = pl.DataFrame(
        {"variable": ["n"], "level": ["episodes"]}
        | {g: [label] for g, label in zip(sizes["group"], sizes["n_label"], strict=True)}
    )
    body = rows.join(wide, on=["variable", "level"], how="left").select(
        "variable", "level", *group_order
    )
    table = pl.concat([header.select("variable", "level", *group_order), body])
    return table.with_columns(
        pl.col(group_order).fill_null(NO_VALUE),
        variable=pl.col("variable").replace(titles),
    ).rename({"variable": "Characteristic", "level": "Level"})


def _level_rank() -> pl.Expr:
    """Known facet orders (e.g. the nine OMD states) before other levels, 'unknown' last."""
    expr = pl.when(pl.col("level") == UNKNOWN).then(pl.lit(10_000, pl.Int64))
    for column, facet in FACETS_BY_COLUMN.items():
        if facet.order:
            expr = expr.when(pl.col("variable") == column).then(sort_labels(facet, pl.col("level")))
    return expr.otherwise(pl.lit(0, pl.Int64))


def _group_order(sizes: pl.DataFrame, group: str | None, schema) -> list[str]:
    labels = sizes["group"].to_list()
    facet = FACETS_BY_COLUMN.get(group or "")
    if facet and facet.order:
        known = [label for label in facet.order if label in labels]
        return known + sorted(set(labels) - set(known))
    return sorted(labels, key=lambda s: (s == UNKNOWN, _as_number(s), s))


def _as_number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("inf")

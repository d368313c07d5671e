"""The covariate design of a regression: the user's columns as a numeric matrix.

A text or categorical column becomes one indicator per level against its first level in
sort order (as an R factor); a boolean becomes 0/1; a number stays as it is. Rows with a
missing value in any analysed column are dropped (complete cases, docs/statistics.md
section "Adjustment") and the number dropped is returned, so every report can state it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

# The baseline variables of marts.episode_cohort a user may adjust or weight for.
BASELINE_COVARIATES = (
    "age_at_episode",
    "sex",
    "ecog_at_diagnosis",
    "histology_group",
    "driver_status",
    "pdl1_category",
    "n_lesions",
    "n_organs",
    "has_brain",
    "is_synchronous",
    "center_id",
)


@dataclass(frozen=True)
class Term:
    """One column of the design: `column` as given, `level` for an indicator (else None)."""

    name: str
    column: str
    level: str | None = None
    reference: str | None = None


@dataclass
class Design:
    data: pl.DataFrame  # the complete-case rows (all input columns kept)
    matrix: np.ndarray  # n x p float
    terms: list[Term]
    n_dropped: int
    dropped_by_column: dict[str, int] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.terms]


def _is_numeric(dtype: pl.DataType) -> bool:
    return dtype.is_numeric()


def check_columns(frame: pl.DataFrame, columns: Sequence[str], what: str = "covariate") -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"unknown {what} {', '.join(map(repr, missing))}; "
                         f"available: {', '.join(frame.columns)}")


def complete_cases(frame: pl.DataFrame, columns: Sequence[str]) -> tuple[pl.DataFrame, dict[str, int]]:
    """Rows with every one of `columns` present, and how many rows each column lacked."""
    nulls = frame.select(pl.col(c).is_null().sum() for c in columns).row(0) if columns else ()
    by_column = {c: int(n) for c, n in zip(columns, nulls, strict=True) if n}
    kept = frame.drop_nulls(list(columns)) if columns else frame
    return kept, by_column


def build_design(
    frame: pl.DataFrame,
    covariates: Sequence[str],
    *,
    required: Sequence[str] = (),
    references: dict[str, str] | None = None,
) -> Design:
    """Design matrix of `covariates` on the complete cases of covariates + `required`.

    `references` fixes the reference level of a categorical column (compared as text).
    A level absent from the complete cases gets no column; a constant column is kept out
    (it cannot be estimated) by leaving its single level as the reference.
    """
    check_columns(frame, [*covariates, *required])
    references = references or {}
    data, by_column = complete_cases(frame, list(dict.fromkeys([*required, *covariates])))
    columns: list[np.ndarray] = []
    terms: list[Term] = []
    for column in covariates:
        series = data[column]
        if series.dtype == pl.Boolean or _is_numeric(series.dtype):
            columns.append(series.cast(pl.Float64).to_numpy())
            terms.append(Term(column, column))
        else:
            text = series.cast(pl.String)
            levels = sorted(text.unique().to_list())
            reference = references.get(column, levels[0] if levels else None)
            if reference not in levels:
                raise ValueError(f"reference level {reference!r} of {column!r} is not among {levels}")
            for level in levels:
                if level == reference:
                    continue
                columns.append((text == level).cast(pl.Float64).to_numpy())
                terms.append(Term(f"{column}={level}", column, level, reference))
    matrix = np.column_stack(columns) if columns else np.empty((data.height, 0))
    return Design(data, matrix, terms, frame.height - data.height, by_column)

"""Small-count suppression for everything the dashboards show.

A count of 1 to threshold−1 patients or episodes is shown as "<threshold" ("<5" by
default), so a reader cannot single out a few patients. Zero is shown: it describes nobody.

Complementary (secondary) suppression: when counts partition a total that is shown or can
be worked out, hiding one small cell is not enough (total − the shown cells = the hidden
one). Following the usual rule for tabular statistics (Eurostat/ESSnet Handbook on
Statistical Disclosure Control, 2010, ch. 4, "secondary suppression"; NHS Digital and CDC
small-cell guidance), further cells are hidden, smallest first, until the hidden cells
together hold at least `threshold` units, so what a subtraction reveals is never small.

The threshold is `OLIGO_SMALL_COUNT_THRESHOLD` (default 5), read on call.
"""

from __future__ import annotations

import os

import polars as pl

DEFAULT_THRESHOLD = 5
THRESHOLD_ENV = "OLIGO_SMALL_COUNT_THRESHOLD"
HIDDEN_MARK = "hidden"  # a count that is not small, hidden so a small one cannot be derived


def small_count_threshold() -> int:
    """The configured threshold (≥ 1); a bad value falls back to the safe default."""
    text = os.environ.get(THRESHOLD_ENV, "").strip()
    try:
        value = int(text) if text else DEFAULT_THRESHOLD
    except ValueError:
        return DEFAULT_THRESHOLD
    return max(value, 1)


def small_label(threshold: int) -> str:
    return f"<{threshold}"


def is_small(count: int | None, threshold: int) -> bool:
    return count is not None and 0 < count < threshold


def format_count(count: int | None, threshold: int) -> str:
    """One count on its own (no total it could be subtracted from)."""
    if count is None:
        return "—"
    return small_label(threshold) if is_small(count, threshold) else f"{count:,}"


def hidden_cells(counts: pl.Expr, threshold: int) -> pl.Expr:
    """True for cells to hide in one partition of a known total (primary + complementary).

    Vectorised over the cells of the partition (use `.over(...)` for several partitions):
    cells are taken smallest first; a cell is hidden when it is small, or when some cell is
    small and the cells before it (smaller ones) still hold fewer than `threshold` units.
    """
    values = counts.fill_null(0)
    nonzero = values > 0
    small = nonzero & (values < threshold)
    # For each cell, the units in the cells before it when taken smallest first (zeros add 0).
    order = values.rank("ordinal").cast(pl.Int64) - 1
    ascending = values.sort()
    before = (ascending.cum_sum() - ascending).gather(order)
    secondary = small.any() & nonzero & (before < threshold)
    return (small | secondary).fill_null(False)


def suppress_partition(
    frame: pl.DataFrame,
    count: str,
    threshold: int,
    *,
    by: list[str] | None = None,
    label: str = "count_label",
) -> pl.DataFrame:
    """Add `label` (text shown instead of `count`) and `is_hidden` to a partition's cells.

    `by`: columns naming each partition (each is suppressed on its own, against its own
    total). Small cells read "<threshold", complementary ones read HIDDEN_MARK.
    """
    hide = hidden_cells(pl.col(count), threshold)
    if by:
        hide = hide.over(by)
    return frame.with_columns(is_hidden=hide).with_columns(
        pl.when(pl.col(count).is_null())
        .then(pl.lit("—"))
        .when(pl.col(count) > 0)
        .then(
            pl.when(pl.col(count) < threshold)
            .then(pl.lit(small_label(threshold)))
            .when(pl.col("is_hidden"))
            .then(pl.lit(HIDDEN_MARK))
            .otherwise(pl.col(count).cast(pl.Int64).cast(pl.String))
        )
        .otherwise(pl.lit("0"))
        .alias(label)
    )


def format_part_of_total(part: int, total: int, threshold: int) -> str:
    """A count whose complement (total − part) is also known: both sides are protected."""
    cells = pl.DataFrame({"n": [part, total - part]})
    return suppress_partition(cells, "n", threshold)["count_label"][0]

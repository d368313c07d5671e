"""One helper for every clinical module: lazy frames computed once for their several readers."""

from __future__ import annotations

import polars as pl


def materialise(*frames: pl.LazyFrame) -> tuple[pl.LazyFrame, ...]:
    """Compute frames together (shared work done once) and hand them back as lazy frames.
    Needed where a frame has several readers: the streaming engine does not share a common
    subplan between them, it derives it again for each."""
    return tuple(df.lazy() for df in pl.collect_all(list(frames)))

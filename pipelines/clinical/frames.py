"""Computing lazy frames together, so that work they share is done once."""

from __future__ import annotations

import polars as pl


def materialise(*frames: pl.LazyFrame) -> tuple[pl.LazyFrame, ...]:
    """Compute frames together (shared work done once) and hand them back as lazy frames.
    Needed where a frame has several readers: the streaming engine does not share a common
    subplan between them, it derives it again for each."""
    return tuple(df.lazy() for df in pl.collect_all(list(frames)))


def collect(frames: dict[str, pl.LazyFrame]) -> dict[str, pl.DataFrame]:
    """Every named frame in one collect_all (shared work done once), by name."""
    return dict(zip(frames, pl.collect_all(list(frames.values())), strict=True))

"""Python's garbage collector during a pipeline run.

A run allocates millions of short-lived objects (Dagster events, query results, frames) on
top of the long-lived ones its imports made (Dagster's definitions alone are about a million).
Every full collection walks all of them: 0.5 s of a 100,000-patient run, for objects that
are freed by reference counting anyway (docs/benchmarks.md). For the run, the objects that
exist when it starts are set aside (`gc.freeze`) and young collections run less often."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# Allocations between two young collections during a run (CPython's default is 700).
RUN_YOUNG_THRESHOLD = 50_000


@contextlib.contextmanager
def run_collector() -> Iterator[None]:
    """Freeze what exists, collect young objects less often; restored when the run ends."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(RUN_YOUNG_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def collect_less_often() -> None:
    """For a short-lived command (the CLI): imports alone trigger full collections over
    objects that live until exit."""
    gc.set_threshold(RUN_YOUNG_THRESHOLD, *gc.get_threshold()[1:])

"""Tiny hand-made staging frames with exactly the staging schema."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from pipelines.contract.staging import staging_schema


def frame(table: str, rows: list[dict] | None = None) -> pl.LazyFrame:
    """A staging frame of `table` from a few dict rows; missing columns are typed nulls and
    'YYYY-MM-DD' strings in date columns become dates."""
    schema = staging_schema(table)
    rows = rows or []
    unknown = {k for r in rows for k in r} - set(schema)
    assert not unknown, f"not columns of staging.{table}: {unknown}"
    data = {}
    for name, dtype in schema.items():
        values = [r.get(name) for r in rows]
        if dtype == pl.Date():
            values = [dt.date.fromisoformat(v) if isinstance(v, str) else v for v in values]
        data[name] = pl.Series(name, values, dtype=dtype)
    return pl.DataFrame(data).lazy()


@pytest.fixture(name="frame")
def frame_fixture():
    """`frame(table, rows)`: see `frame`."""
    return frame

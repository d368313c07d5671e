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


DEFAULT_PRIMARY = {"tumor_id": "t1", "patient_id": "p1", "diagnosis_date": "2024-01-10",
                   "topography_code": "C34.1", "morphology_code": "8140/3"}


def staging(**tables: list[dict]) -> dict[str, pl.LazyFrame]:
    """Every staging table, empty unless given; patient p1 with one adenocarcinoma primary
    diagnosed 2024-01-10 unless `patients` / `primary_tumors` are given. Rows without a
    patient_id belong to p1."""
    from pipelines.contract.tables import TABLES

    tables.setdefault("patients", [{"patient_id": "p1"}])
    tables.setdefault("primary_tumors", [DEFAULT_PRIMARY])
    out = {}
    for t in TABLES:
        rows = [{"patient_id": "p1"} | r for r in tables.get(t.name, [])]
        out[t.name] = frame(t.name, rows)
    return out


def lesion(lesion_id: str, detected: str, organ: str = "liver", **extra) -> dict:
    return {"lesion_id": lesion_id, "organ": organ, "detected_date": detected} | extra


def derive(params=None, **tables: list[dict]) -> dict[str, pl.DataFrame]:
    """derive_episodes on a hand-made staging, collected."""
    from pipelines.clinical.episodes import derive_episodes
    from pipelines.clinical.parameters import DEFAULT_PARAMETERS

    out = derive_episodes(staging(**tables), params or DEFAULT_PARAMETERS)
    return {name: lf.collect() for name, lf in out.items()}


@pytest.fixture(name="derive")
def derive_fixture():
    return derive


@pytest.fixture(name="lesion")
def lesion_fixture():
    return lesion

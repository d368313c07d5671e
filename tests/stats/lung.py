"""The NCCTG lung cancer data as lifelines ships it (`lifelines.datasets.load_lung`, the
228 rows of R's `survival::lung`), with the columns the R reference script uses
(tests/stats/r/reference.R): `time_days`, `event` (1 dead), `female`, `age`, `ph.ecog`,
`ph.karno`. And the R reference values (tests/stats/r/reference_values.csv)."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import polars as pl
from lifelines.datasets import load_lung

R_DIR = Path(__file__).parent / "r"


def lung() -> pl.DataFrame:
    raw = pl.from_pandas(load_lung())
    return raw.select(
        time_days=pl.col("time").cast(pl.Float64),
        event=pl.col("status").cast(pl.Int64),
        age=pl.col("age").cast(pl.Float64),
        female=(pl.col("sex") == 2).cast(pl.Int64),
        sex=pl.when(pl.col("sex") == 2).then(pl.lit("female")).otherwise(pl.lit("male")),
        **{"ph.ecog": pl.col("ph.ecog"), "ph.karno": pl.col("ph.karno")},
    ).with_row_index("patient_id")


@cache
def r_values() -> dict[str, float]:
    with (R_DIR / "reference_values.csv").open() as handle:
        return {row["name"]: float("nan") if row["value"] == "NA" else float(row["value"])
                for row in csv.DictReader(handle)}


def r(name: str) -> float:
    return r_values()[name]

"""Stable ids are the documented SHA-256 digest of `patient_id|YYYY-MM-DD`, whoever
computes it, in row order, and null for a null key."""

import datetime as dt
import hashlib

import polars as pl

from pipelines.clinical.assessments import stable_id


def test_stable_id_is_the_sha256_of_patient_and_date_in_row_order():
    frame = pl.DataFrame({
        "patient_id": ["p2", "p1", None, "é-3"],
        "d": [dt.date(2026, 1, 5), dt.date(2025, 12, 31), dt.date(2026, 1, 1), None],
    })
    ids = frame.select(stable_id("ep", "patient_id", "d").alias("id"))["id"].to_list()
    expected = ["ep_" + hashlib.sha256(key.encode()).hexdigest()[:16]
                for key in ("p2|2026-01-05", "p1|2025-12-31")]
    assert ids == [*expected, None, None]

"""The batch diff on two small hand-made batches, and the check diff from the history."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from pipelines.quality.diff import diff_batches, diff_checks, snapshot_schema, staging_table_set
from pipelines.quality.history import category_overview, record_outcomes
from pipelines.quality.outcome import CheckOutcome
from pipelines.quality.specs import CheckSpec, Engine, Severity
from tests.quality.tiny_warehouse import STAGING, staging_frames, write_tables


def _batches(con):
    """Batch A: three patients. Batch B: P3 removed, P4 added, P1's sex corrected, a new
    imaging exam for P2, P1's first exam removed."""
    a = {"patients": STAGING["patients"], "imaging": STAGING["imaging"][:4]}
    p4 = {**STAGING["patients"][2], "patient_id": "P4"}
    b = {
        "patients": [{**STAGING["patients"][0], "sex": "U"}, STAGING["patients"][1], p4],
        "imaging": [*STAGING["imaging"][1:4],
                    {**STAGING["imaging"][3], "exam_id": "E9", "exam_date": date(2023, 9, 1)}],
    }
    write_tables(con, snapshot_schema("2026-01-31"), staging_frames(a))
    write_tables(con, snapshot_schema("2026-04-30"), staging_frames(b))


def test_patients_and_rows_added_removed_changed_by_table(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        _batches(con)
        before = staging_table_set(con, snapshot_schema("2026-01-31"))
        after = staging_table_set(con, snapshot_schema("2026-04-30"))
        assert set(before) == {"patients", "imaging"}
        diff = diff_batches(con, before, after)

    assert diff.rows.select("table_name", "record_key", "change").rows() == [
        ("imaging", "E1", "removed"), ("imaging", "E9", "added"),
        ("patients", "P1", "changed"), ("patients", "P3", "removed"),
        ("patients", "P4", "added"),
    ]
    assert diff.by_table.rows() == [
        ("imaging", "added", 1, 1), ("imaging", "removed", 1, 1),
        ("patients", "added", 1, 1), ("patients", "changed", 1, 1),
        ("patients", "removed", 1, 1),
    ]
    assert diff.patients.rows() == [("P1", "changed"), ("P2", "changed"), ("P3", "removed"),
                                    ("P4", "added")]


def test_identical_batches_have_no_difference(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        write_tables(con, "staging", staging_frames())
        tables = staging_table_set(con, "staging")
        diff = diff_batches(con, tables, tables)
    assert len(tables) == 10
    assert diff.rows.is_empty() and diff.by_table.is_empty() and diff.patients.is_empty()


def _spec(check_id: str, category: str) -> CheckSpec:
    return CheckSpec(check_id, ("staging", "patients"), Severity.WARN, 0.0, category,
                     "atemporal", "test check", Engine.SQL, "test", "patients")


def test_checks_newly_failing_and_recovered_and_the_category_overview(tmp_path):
    a, b, c = _spec("a", "plausibility"), _spec("b", "plausibility"), _spec("c", "completeness")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        record_outcomes(con, [CheckOutcome(a, 0, 3), CheckOutcome(b, 1, 3, [("P1", "P1")]),
                              CheckOutcome(c, 0, 3)], "run1", "A")
        record_outcomes(con, [CheckOutcome(a, 2, 3, [("P2", "P2"), ("P3", "P3")]),
                              CheckOutcome(b, 0, 3), CheckOutcome(c, 0, 3)], "run2", "B")
        record_outcomes(con, [CheckOutcome(c, 0, 3)], "run2", "B")  # a retry writes once
        changes = diff_checks(con, "A", "B")
        overview = category_overview(con)
        failing = con.sql("select check_id, record_key from dq.failing_rows "
                          "where run_id = 'run2' order by record_key").fetchall()
        n_results = con.sql("select count(*) from dq.check_results").fetchone()[0]
    status = dict(zip(changes["check_id"], changes["change"], strict=True))
    assert status == {"a": "newly_failing", "b": "recovered", "c": "still_passing"}
    assert overview.filter(pl.col("kahn_category") == "plausibility").row(0, named=True) | {} \
        == {"kahn_category": "plausibility", "n_checks": 2, "n_passed": 1, "n_failed": 1,
            "n_blocking_failed": 0, "pass_pct": 50.0}
    assert failing == [("a", "P2"), ("a", "P3")]
    assert n_results == 6

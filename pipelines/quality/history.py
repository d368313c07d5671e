"""The data-quality history in the working warehouse: `dq.check_results` (one row per check,
run and batch) and `dq.failing_rows` (the failing keys), and the overview by Kahn category."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import duckdb
import polars as pl

from pipelines.quality.outcome import CheckOutcome
from pipelines.quality.sql_runner import read_sql

CHECK_RESULTS_SCHEMA = {
    "run_id": pl.String, "batch_id": pl.String, "check_id": pl.String, "asset": pl.String,
    "passed": pl.Boolean, "severity": pl.String, "failing_count": pl.Int64,
    "total_count": pl.Int64, "failing_pct": pl.Float64, "threshold_pct": pl.Float64,
    "kahn_category": pl.String, "kahn_subcategory": pl.String, "checked_at": pl.Datetime("us"),
}
FAILING_ROWS_SCHEMA = {
    "run_id": pl.String, "batch_id": pl.String, "check_id": pl.String, "record_key": pl.String,
    "patient_id": pl.String,
}


def ensure_history_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists dq")
    con.execute(read_sql("history/create_check_results.sql"))
    con.execute(read_sql("history/create_failing_rows.sql"))


def results_frame(outcomes: list[CheckOutcome], run_id: str, batch_id: str | None,
                  checked_at: datetime | None = None) -> pl.DataFrame:
    checked_at = (checked_at or datetime.now(UTC)).replace(tzinfo=None)
    return pl.DataFrame(
        [
            {"run_id": run_id, "batch_id": batch_id, "check_id": o.spec.check_id,
             "asset": o.spec.asset_path, "passed": o.passed, "severity": str(o.spec.severity),
             "failing_count": o.failing_count, "total_count": o.total_count,
             "failing_pct": o.failing_pct, "threshold_pct": o.spec.threshold_pct,
             "kahn_category": o.spec.kahn_category, "kahn_subcategory": o.spec.kahn_subcategory,
             "checked_at": checked_at}
            for o in outcomes
        ],
        schema=CHECK_RESULTS_SCHEMA,
    )


def failing_rows_frame(outcomes: list[CheckOutcome], run_id: str,
                       batch_id: str | None) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"run_id": run_id, "batch_id": batch_id, "check_id": o.spec.check_id,
             "record_key": None if key is None else str(key),
             "patient_id": None if patient is None else str(patient)}
            for o in outcomes
            for key, patient in o.failing_keys
        ],
        schema=FAILING_ROWS_SCHEMA,
    )


def record_outcomes(con: duckdb.DuckDBPyConnection, outcomes: list[CheckOutcome], run_id: str,
                    batch_id: str | None) -> None:
    """Replace this run's rows for these checks (a retried step writes them once)."""
    if not outcomes:
        return
    ensure_history_tables(con)
    results = results_frame(outcomes, run_id, batch_id).to_arrow()
    failing = failing_rows_frame(outcomes, run_id, batch_id).to_arrow()
    check_ids = [o.spec.check_id for o in outcomes]
    con.execute("begin transaction")
    try:
        for table in ("dq.check_results", "dq.failing_rows"):
            con.execute(
                f"delete from {table} where run_id = $run_id and list_contains($check_ids, check_id)",
                {"run_id": run_id, "check_ids": check_ids},
            )
        con.register("_dq_results", results)
        con.register("_dq_failing", failing)
        con.execute("insert into dq.check_results by name select * from _dq_results")
        con.execute("insert into dq.failing_rows by name select * from _dq_failing")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        for view in ("_dq_results", "_dq_failing"):
            with contextlib.suppress(Exception):  # never registered if the failure came first
                con.unregister(view)


def latest_run_id(con: duckdb.DuckDBPyConnection, batch_id: str | None = None) -> str | None:
    row = con.execute(read_sql("history/latest_run.sql"), {"batch_id": batch_id}).fetchone()
    return row[0] if row else None


def category_overview(con: duckdb.DuckDBPyConnection, run_id: str | None = None,
                      by_subcategory: bool = False) -> pl.DataFrame:
    """Checks, passed, failed and pass % per Kahn category (and subcategory) of one run,
    the latest by default."""
    run_id = run_id or latest_run_id(con)
    file = "history/overview_by_subcategory.sql" if by_subcategory else "history/overview.sql"
    return con.execute(read_sql(file), {"run_id": run_id}).pl()

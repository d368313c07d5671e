"""Operations tables in the working warehouse (copied to published/ops.duckdb every run):
batches seen, run reports with per-step durations, per-table counts, record fingerprints."""

from __future__ import annotations

import datetime as dt

import duckdb

DDL = (
    "CREATE SCHEMA IF NOT EXISTS ops",
    "CREATE SCHEMA IF NOT EXISTS dq",
    """CREATE TABLE IF NOT EXISTS ops.batches (
        batch_id VARCHAR PRIMARY KEY, signature VARCHAR, data_cutoff_date DATE,
        cutoff_source VARCHAR, contract_version VARCHAR, registry VARCHAR,
        first_loaded_at TIMESTAMP, published_at TIMESTAMP, status VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS ops.runs (
        run_id VARCHAR PRIMARY KEY, batch_id VARCHAR, started_at TIMESTAMP,
        finished_at TIMESTAMP, status VARCHAR, message VARCHAR, parameter_set VARCHAR,
        code_version VARCHAR, dagster_run_id VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS ops.run_steps (
        run_id VARCHAR, step VARCHAR, status VARCHAR, started_at TIMESTAMP,
        finished_at TIMESTAMP, duration_seconds DOUBLE)""",
    """CREATE TABLE IF NOT EXISTS ops.table_counts (
        run_id VARCHAR, batch_id VARCHAR, table_name VARCHAR, rows_read BIGINT,
        rows_loaded BIGINT, rows_quarantined BIGINT, rows_flagged BIGINT)""",
    """CREATE TABLE IF NOT EXISTS ops.quarantine (
        batch_id VARCHAR, table_name VARCHAR, file VARCHAR, row_number BIGINT,
        column_name VARCHAR, rule_id VARCHAR, disposition VARCHAR, kahn_category VARCHAR,
        kahn_subcategory VARCHAR, reason VARCHAR, record_key VARCHAR)""",
)

RUN_STATUSES = ("running", "published", "unchanged", "blocked_dq", "refused", "failed")


def ensure_ops_schema(con: duckdb.DuckDBPyConnection) -> None:
    for statement in DDL:
        con.execute(statement)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def start_run(
    con: duckdb.DuckDBPyConnection, run_id: str, batch_id: str, parameter_set: str,
    code_version: str,
) -> None:
    con.execute(
        "INSERT INTO ops.runs VALUES (?, ?, ?, NULL, 'running', NULL, ?, ?, NULL)",
        [run_id, batch_id, now(), parameter_set, code_version],
    )


def finish_run(
    con: duckdb.DuckDBPyConnection, run_id: str, status: str, message: str,
    dagster_run_id: str | None = None,
) -> None:
    assert status in RUN_STATUSES, status
    con.execute(
        "UPDATE ops.runs SET finished_at = ?, status = ?, message = ?, dagster_run_id = ? "
        "WHERE run_id = ?",
        [now(), status, message, dagster_run_id, run_id],
    )


def record_step(
    con: duckdb.DuckDBPyConnection, run_id: str, step: str, status: str,
    started_at: dt.datetime | None, finished_at: dt.datetime | None,
) -> None:
    duration = (
        (finished_at - started_at).total_seconds() if started_at and finished_at else None
    )
    con.execute(
        "INSERT INTO ops.run_steps VALUES (?, ?, ?, ?, ?, ?)",
        [run_id, step, status, started_at, finished_at, duration],
    )


def batch_row(con: duckdb.DuckDBPyConnection, batch_id: str) -> dict | None:
    cur = con.execute("SELECT * FROM ops.batches WHERE batch_id = ?", [batch_id])
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cur.description], row, strict=True))


def upsert_batch(con: duckdb.DuckDBPyConnection, **fields) -> None:
    columns = list(fields)
    con.execute(
        f"INSERT OR REPLACE INTO ops.batches ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})",
        [fields[c] for c in columns],
    )


def latest_published_batch(con: duckdb.DuckDBPyConnection) -> str | None:
    """The batch whose marts are `current`: the latest by cut-off, ties by publish time."""
    row = con.execute(
        "SELECT batch_id FROM ops.batches WHERE published_at IS NOT NULL "
        "ORDER BY data_cutoff_date DESC, published_at DESC LIMIT 1"
    ).fetchone()
    return row[0] if row else None

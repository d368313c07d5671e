"""Operations tables in the working warehouse (copied to published/ops.duckdb every run):
batches seen, run reports with per-step durations, per-table counts, record fingerprints,
batches retired from the choice of `current`, and recoveries (`oligo rebuild`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from pipelines.sql_quoting import quote_literal
from pipelines.working_snapshot import snapshot_path

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
    # rows_refused: rows of a refused run that were neither loaded nor quarantined, so that
    # rows_read = rows_loaded + rows_quarantined + rows_refused holds for every run.
    "ALTER TABLE ops.table_counts ADD COLUMN IF NOT EXISTS rows_refused BIGINT DEFAULT 0",
    """CREATE TABLE IF NOT EXISTS ops.batch_retirements (
        batch_id VARCHAR, retired_at TIMESTAMP, reason VARCHAR, current_before VARCHAR,
        current_after VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS ops.recoveries (
        recovered_at TIMESTAMP, action VARCHAR, moved_aside VARCHAR, detail VARCHAR)""",
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


# `oligo run`'s check of an unchanged delivery, before Dagster starts, writes its few
# statements with literals: DuckDB's Python client imports pandas (~0.6 s) at the first
# bound parameter of a process, and that path needs nothing else from it. Only our own
# values go in (a checked batch id, a uuid, versions, the message), each quoted.
def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP {quote_literal(value.isoformat(sep=' '))}"
    return quote_literal(str(value))


def batch_row_unbound(con: duckdb.DuckDBPyConnection, batch_id: str) -> dict | None:
    """`batch_row` without a bound parameter (see `_literal`)."""
    cur = con.execute(f"SELECT * FROM ops.batches WHERE batch_id = {_literal(batch_id)}")
    row = cur.fetchone()
    return None if row is None else dict(zip([d[0] for d in cur.description], row,
                                             strict=True))


def record_finished_run(con: duckdb.DuckDBPyConnection, run_id: str, batch_id: str,
                        parameter_set: str, code_version: str, status: str,
                        message: str) -> None:
    """A run report opened and closed at once (`start_run` then `finish_run`), unbound."""
    assert status in RUN_STATUSES, status
    values = [run_id, batch_id, now(), now(), status, message, parameter_set, code_version]
    con.execute(f"INSERT INTO ops.runs VALUES ({', '.join(map(_literal, values))}, NULL)")


def upsert_batch(con: duckdb.DuckDBPyConnection, **fields) -> None:
    columns = list(fields)
    con.execute(
        f"INSERT OR REPLACE INTO ops.batches ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})",
        [fields[c] for c in columns],
    )


# The batch whose marts are `current`: the latest published by cut-off (ties by publish
# time), leaving out batches retired with `oligo batch retire`. One statement for every user.
CURRENT_BATCH_SQL = (
    "SELECT batch_id FROM ops.batches WHERE published_at IS NOT NULL "
    "AND batch_id NOT IN (SELECT batch_id FROM ops.batch_retirements) "
    "ORDER BY data_cutoff_date DESC, published_at DESC LIMIT 1"
)


def latest_published_batch(con: duckdb.DuckDBPyConnection) -> str | None:
    """The batch whose marts are `current` (CURRENT_BATCH_SQL)."""
    row = con.execute(CURRENT_BATCH_SQL).fetchone()
    return row[0] if row else None


def record_refused_counts(con: duckdb.DuckDBPyConnection, run_id: str, batch_id: str,
                          rows_read: dict[str, int]) -> None:
    """Table counts of a refused run (nothing loaded): rows read per table from the batch
    files, rows quarantined when this run got as far as the quarantine, the rest refused.
    Does nothing when the run already recorded its counts."""
    if con.execute("SELECT count(*) FROM ops.table_counts WHERE run_id = ?",
                   [run_id]).fetchone()[0]:
        return
    quarantine_ran = con.execute(
        "SELECT count(*) FROM ops.run_steps WHERE run_id = ? AND step = 'quarantine'",
        [run_id]).fetchone()[0] > 0
    for table_name, read in sorted(rows_read.items()):
        quarantined = 0
        if quarantine_ran:
            quarantined = con.execute(
                "SELECT count(DISTINCT (file, row_number)) FROM ops.quarantine "
                "WHERE batch_id = ? AND table_name = ?", [batch_id, table_name]).fetchone()[0]
        con.execute(
            "INSERT INTO ops.table_counts (run_id, batch_id, table_name, rows_read, "
            "rows_loaded, rows_quarantined, rows_flagged, rows_refused) "
            "VALUES (?, ?, ?, ?, 0, ?, 0, ?)",
            [run_id, batch_id, table_name, read, quarantined, read - quarantined])


def retire_batch(con: duckdb.DuckDBPyConnection, batch_id: str, reason: str) -> tuple:
    """Record that `batch_id` no longer competes for `current`; returns (current before,
    current after). Raises ValueError when the batch is not published or already retired."""
    row = batch_row(con, batch_id)
    if row is None or row.get("published_at") is None:
        raise ValueError(f"batch {batch_id} is not a published batch; `oligo status` lists them")
    if con.execute("SELECT count(*) FROM ops.batch_retirements WHERE batch_id = ?",
                   [batch_id]).fetchone()[0]:
        raise ValueError(f"batch {batch_id} is already retired")
    before = latest_published_batch(con)
    con.execute("INSERT INTO ops.batch_retirements VALUES (?, ?, ?, ?, NULL)",
                [batch_id, now(), reason, before])
    after = latest_published_batch(con)
    con.execute("UPDATE ops.batch_retirements SET current_after = ? WHERE batch_id = ?",
                [after, batch_id])
    return before, after


class WarehouseUnusable(RuntimeError):
    """The working warehouse is missing or cannot be opened; the message names the fix."""


def check_working_warehouse(path: Path, published: Path) -> None:
    """One clear line when the working warehouse is corrupt, or missing while published
    files exist (a fresh warehouse would silently start an empty ops history)."""
    if not path.exists():
        if any((published / name).exists() for name in ("ops.duckdb", "current.duckdb")):
            raise WarehouseUnusable(
                f"the working warehouse {path} is missing but {published} holds published "
                "batches; run `oligo rebuild` to recreate it and its ops history from them")
        return
    _check_opens(path, "the working warehouse",
                 "to set it aside and recreate it and its ops history from published/")
    snapshot = snapshot_path(path)
    if snapshot.exists():
        _check_opens(snapshot, "the working snapshot",
                     "to set it aside with the warehouse (the next run writes a new one)")


def _check_opens(path: Path, what: str, rebuild_does: str) -> None:
    try:
        with duckdb.connect(str(path)) as con:
            con.execute("SELECT count(*) FROM duckdb_tables()").fetchone()
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "Could not set lock" in first:
            raise WarehouseUnusable(
                f"{what} {path} is open in another process (a Dagster UI run?); "
                "wait for it or stop it, then run again") from None
        if "Read-only file system" in first or "Permission denied" in first:
            raise WarehouseUnusable(
                f"{what} {path} cannot be written ({first}); make the data "
                "folder writable") from None
        raise WarehouseUnusable(
            f"{what} {path} cannot be opened ({first}); run `oligo rebuild` "
            f"{rebuild_does}") from None

"""The SQL explorer's work, apart from the page: the schema browser (tables and columns of
the published file and of ops.duckdb, with their COMMENTs) and one audited read-only query
through `pipelines.safe_sql` (statement allow-list, locked read-only connection with file
access off, row cap, time limit)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipelines import safe_sql

ROW_CAPS = (100, 1_000, 10_000)
DEFAULT_CAP = 1_000
TIMEOUT_SECONDS = 30.0
SCHEMA_SQL = (
    "SELECT t.database_name AS catalog, t.schema_name, t.table_name, t.comment AS table_comment, "
    "c.column_name, c.data_type, c.comment AS column_comment, c.column_index "
    "FROM duckdb_tables() t JOIN duckdb_columns() c USING (database_name, schema_name, table_name) "
    "WHERE t.database_name IN (current_database(), ?) "
    "ORDER BY list_position(['marts', 'meta', 'staging', 'ops', 'dq'], t.schema_name), "
    "t.schema_name, t.table_name, c.column_index"
)


def schema(database: Path, ops: Path | None) -> pl.DataFrame:
    """One row per column: schema_name, table_name, table_comment, column_name, data_type,
    column_comment (tables of the ops file under their schemas `ops` and `dq`)."""
    return safe_sql.run_query(
        SCHEMA_SQL, database, ops_database=ops, params=[safe_sql.OPS_CATALOG],
        limits=safe_sql.SafetyLimits(row_limit=50_000),
    ).frame


@dataclass(frozen=True)
class Outcome:
    status: str  # "ok", "refused" or "error"
    frame: pl.DataFrame | None
    truncated: bool
    message: str | None


def run(sql: str, database: Path, ops: Path | None, row_cap: int) -> Outcome:
    """Run one query; a refusal or an SQL error is an outcome with a message, not an error."""
    limits = safe_sql.SafetyLimits(row_limit=row_cap, timeout_seconds=TIMEOUT_SECONDS)
    try:
        result = safe_sql.run_query(sql, database, ops_database=ops, limits=limits)
    except safe_sql.QueryRefused as exc:
        return Outcome("refused", None, False, str(exc))
    except duckdb.Error as exc:
        return Outcome("error", None, False, str(exc).splitlines()[0])
    return Outcome("ok", result.frame, result.truncated, None)


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """CSV has no nested types: lists as ';'-joined text, structs as JSON text."""
    flat = frame.with_columns(
        [pl.col(n).cast(pl.List(pl.String)).list.join(";") for n, t in frame.schema.items()
         if isinstance(t, pl.List)]
        + [pl.col(n).struct.json_encode() for n, t in frame.schema.items()
           if isinstance(t, pl.Struct)]
    )
    return flat.write_csv().encode("utf-8")


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()

"""Publish one batch's frozen file as one DuckLake snapshot.

The frozen file (published/batches/<batch>.duckdb, already complete and sealed by the
embedded publish) is the single source: its marts, staging and meta.provenance tables and
their comments are copied in one DuckLake transaction, tables of an earlier batch that this
one lacks are dropped, and the commit carries the provenance as its extra info. Readers
either see the whole snapshot or the previous one; a failure before COMMIT leaves the lake
as it was.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb

from pipelines.faults import fault_point
from pipelines.lake.catalog import AUTHOR, LAKE, lake_connection, snapshot_name
from pipelines.lake.config import LakeTarget, lake_target
from pipelines.sql_quoting import quote_ident, quote_literal

SOURCE = "batch_file"
SCHEMAS = ("marts", "staging", "meta")


def publish_batch(frozen_file: Path, *, target: LakeTarget | None = None) -> int:
    """Copy `frozen_file` into the lake as one snapshot; returns the snapshot id."""
    target = target or lake_target()
    with lake_connection(target, writer=True) as con:
        con.execute(f"ATTACH {quote_literal(str(frozen_file))} AS {SOURCE} (READ_ONLY)")
        tables = con.execute(
            "SELECT schema_name, table_name, comment FROM duckdb_tables() "
            "WHERE database_name = ? AND schema_name IN ? ORDER BY ALL",
            [SOURCE, list(SCHEMAS)],
        ).fetchall()
        columns = con.execute(
            "SELECT schema_name, table_name, column_name, comment FROM duckdb_columns() "
            "WHERE database_name = ? AND schema_name IN ? AND comment IS NOT NULL "
            "ORDER BY ALL", [SOURCE, list(SCHEMAS)],
        ).fetchall()
        provenance = _provenance(con)
        con.execute("BEGIN TRANSACTION")
        try:
            _replace_tables(con, tables, columns)
            con.execute(
                f"CALL {LAKE}.set_commit_message(?, ?, extra_info => ?)",
                [AUTHOR, f"publish {snapshot_name(provenance['batch_id'], provenance['parameter_set'])}",
                 json.dumps(provenance, default=_iso)],
            )
            fault_point("lake_commit")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return con.execute(f"FROM {LAKE}.last_committed_snapshot()").fetchone()[0]


def _provenance(con: duckdb.DuckDBPyConnection) -> dict:
    cursor = con.execute(f"SELECT * FROM {SOURCE}.meta.provenance")
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    if len(rows) != 1:
        raise ValueError(f"the frozen file has {len(rows)} provenance rows, expected 1")
    return dict(zip(names, rows[0], strict=True))


def _replace_tables(con, tables: list[tuple], columns: list[tuple]) -> None:
    wanted = {(schema, table) for schema, table, _ in tables}
    for schema in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {LAKE}.{quote_ident(schema)}")
    existing = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? "
        "AND schema_name IN ?", [LAKE, list(SCHEMAS)],
    ).fetchall()
    for schema, table in sorted(set(existing) - wanted):  # a snapshot holds one batch only
        con.execute(f"DROP TABLE {LAKE}.{quote_ident(schema)}.{quote_ident(table)}")
    for schema, table, comment in tables:
        name = f"{quote_ident(schema)}.{quote_ident(table)}"
        con.execute(f"CREATE OR REPLACE TABLE {LAKE}.{name} AS SELECT * FROM {SOURCE}.{name}")
        if comment:
            con.execute(f"COMMENT ON TABLE {LAKE}.{name} IS {quote_literal(comment)}")
    for schema, table, column, comment in columns:
        con.execute(f"COMMENT ON COLUMN {LAKE}.{quote_ident(schema)}.{quote_ident(table)}."
                    f"{quote_ident(column)} IS {quote_literal(comment)}")


def _iso(value: object) -> str:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in the provenance")

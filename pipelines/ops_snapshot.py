"""The working warehouse's ops tables and their published copy, published/ops.duckdb: opened
and refreshed by every run report and by the commands that change ops (`oligo batch`,
`oligo rebuild`). No Dagster here: those commands never start a run."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb

from pipelines.contract import CONTRACT_VERSION
from pipelines.ops_store import CURRENT_BATCH_SQL, check_working_warehouse, ensure_ops_schema, now
from pipelines.provenance import code_version
from pipelines.publish import publish_files, remove_stale_temporaries, temporary_path
from pipelines.settings import paths
from pipelines.sql_quoting import quote_ident, quote_literal


@contextlib.contextmanager
def connect(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    check_working_warehouse(path, paths().published)  # corrupt or missing: one clear line
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        ensure_ops_schema(con)
        yield con
    finally:
        con.close()


def working_connection():
    """The working warehouse, checked (corrupt or missing: one clear line)."""
    return connect(paths().warehouse)


def refresh_ops_snapshot(con: duckdb.DuckDBPyConnection) -> None:
    """Copy every ops.* and dq.* table into a new published/ops.duckdb, swapped atomically.

    The copy is written through its own connection, not ATTACHed to the warehouse: when the
    disk fills, an ATTACHed copy whose DETACH fails stays open until the process ends and
    then leaves its WAL in published/. The rows go through Parquet files in a scratch folder
    (removed after), SQL on both sides: no Python objects, so no conversion and none of the
    imports DuckDB's client makes for them (pandas and pyarrow, ~1 s)."""
    tables = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_schema IN ('ops', 'dq') "
        "ORDER BY 1, 2"
    ).fetchall()
    current = con.execute(CURRENT_BATCH_SQL).fetchone()
    target = paths().ops
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target.parent)
    tmp = temporary_path(target)
    with tempfile.TemporaryDirectory(prefix=".ops-refresh-", dir=paths().home) as scratch:
        files = {}
        for schema, table in tables:
            files[schema, table] = Path(scratch) / f"{schema}.{table}.parquet"
            con.execute(f"COPY {quote_ident(schema)}.{quote_ident(table)} TO "
                        f"{quote_literal(str(files[schema, table]))} (FORMAT parquet)")
        out = duckdb.connect(str(tmp))
        try:
            # The file's catalog is named after it ("ops"), like the `ops` schema: qualify.
            db = quote_ident(out.execute("SELECT current_database()").fetchone()[0])
            for schema in sorted({schema for schema, _ in tables} | {"meta"}):
                out.execute(f"CREATE SCHEMA IF NOT EXISTS {db}.{quote_ident(schema)}")
            for (schema, table), file in files.items():
                out.execute(f"CREATE TABLE {db}.{quote_ident(schema)}.{quote_ident(table)} "
                            f"AS SELECT * FROM read_parquet({quote_literal(str(file))})")
            values = [CONTRACT_VERSION, code_version(), now(), current[0] if current else None]
            out.execute(
                f"CREATE TABLE {db}.meta.provenance AS SELECT {_text(values[0])}::VARCHAR AS "
                f"contract_version, {_text(values[1])}::VARCHAR AS code_version, "
                f"{_text(values[2])}::TIMESTAMP AS published_at, "
                f"{_text(values[3])}::VARCHAR AS current_batch_id")
            out.execute("CHECKPOINT")
        finally:
            out.close()
    publish_files([(tmp, target)])


def _text(value) -> str:
    """Our own values (versions, a timestamp, a batch id) as SQL text, quoted."""
    return "NULL" if value is None else quote_literal(str(value))

"""Digests of the tables a pipeline run builds, to prove a change leaves results unchanged.

Every staging.*, clinical.* and marts.* table and ops.quarantine of the working warehouse, rows
sorted on every column, written as CSV and hashed (sha256); columns that hold run times are
left out. The reference (marts_reference.json) was written by the code before the speed work
of docs/benchmarks.md; after a deliberate change of results, rewrite it with

    python -m tests.pipeline.marts_digest <OLIGO_HOME of a run> <name>

and say in the commit which tables changed and why."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import duckdb
import polars as pl

from pipelines.working_snapshot import connect_warehouse

REFERENCE = Path(__file__).with_name("marts_reference.json")
RUN_TIME_COLUMNS = {"_loaded_at", "loaded_at", "run_id", "quarantined_at", "computed_at"}


def built_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_schema IN ('staging', 'clinical', 'marts') "
        "OR (table_schema = 'ops' AND table_name = 'quarantine') ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Nested columns as text, so the frame sorts and writes as CSV."""
    nested = [c for c, t in frame.schema.items() if isinstance(t, (pl.List, pl.Array))]
    return frame.with_columns(
        pl.col(c).list.eval(pl.element().cast(pl.String)).list.join("|") for c in nested)


def table_digest(con: duckdb.DuckDBPyConnection, name: str) -> dict:
    frame = con.sql(f"SELECT * FROM {name}").pl()
    frame = _as_text(frame.drop([c for c in frame.columns if c in RUN_TIME_COLUMNS]))
    frame = frame.sort(frame.columns, nulls_last=True)
    text = frame.write_csv()
    return {"rows": frame.height, "sha256": hashlib.sha256(text.encode()).hexdigest()}


def warehouse_digests(home: Path) -> dict[str, dict]:
    with connect_warehouse(Path(home) / "warehouse.duckdb", read_only=True) as con:
        return {name: table_digest(con, name) for name in built_tables(con)}


def main(argv: list[str]) -> int:
    home, name = Path(argv[0]), argv[1]
    reference = json.loads(REFERENCE.read_text()) if REFERENCE.exists() else {}
    reference[name] = warehouse_digests(home)
    REFERENCE.write_text(json.dumps(reference, indent=1, sort_keys=True) + "\n")
    print(f"{name}: {len(reference[name])} tables written to {REFERENCE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Differences between two batches: checks newly failing or recovered (from dq.check_results)
and rows and patients added, removed or changed, table by table.

The data side works on two *table sets* (table -> relation name parts), so it does not depend
on where a batch's staging lives: a `staging_<batch>` schema of the warehouse, a frozen file
attached under an alias, or two schemas of a test database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import duckdb
import polars as pl

from pipelines.contract.tables import TABLES
from pipelines.quality.history import latest_run_id
from pipelines.quality.relations import (
    patient_expression,
    qualified,
    quote_ident,
    record_key_expression,
)
from pipelines.quality.sql_runner import _substitute, read_sql

TableSet = Mapping[str, Sequence[str]]  # contract table -> (schema, table) or (db, schema, table)
CHANGE_SCHEMA = {"table_name": pl.String, "record_key": pl.String, "patient_id": pl.String,
                 "change": pl.String}


@dataclass(frozen=True)
class BatchDiff:
    rows: pl.DataFrame  # one row per changed record: table_name, record_key, patient_id, change
    by_table: pl.DataFrame  # table_name, change, n_rows, n_patients
    patients: pl.DataFrame  # patient_id, change (added, removed, changed)


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    return con.sql(f"select * from {relation} limit 0").columns


def table_changes(con: duckdb.DuckDBPyConnection, table: str, before: Sequence[str],
                  after: Sequence[str]) -> pl.DataFrame:
    """Records of one contract table added, removed or changed from `before` to `after`."""
    rel_before, rel_after = qualified(tuple(before)), qualified(tuple(after))
    after_columns = set(_columns(con, rel_after))
    shared = [c for c in _columns(con, rel_before) if c in after_columns]
    text = _substitute(read_sql("diff/table_changes.sql"), {
        "before": rel_before, "after": rel_after,
        "columns": ", ".join(quote_ident(c) for c in shared),
        "record_key": record_key_expression(table), "patient_id": patient_expression(table),
    })
    frame = con.execute(text).pl()
    return frame.with_columns(pl.lit(table).alias("table_name")).select(list(CHANGE_SCHEMA))


def diff_batches(con: duckdb.DuckDBPyConnection, before: TableSet, after: TableSet) -> BatchDiff:
    """Compare every contract table present in both table sets."""
    tables = [t.name for t in TABLES if t.name in before and t.name in after]
    rows = pl.concat(
        [pl.DataFrame(schema=CHANGE_SCHEMA),
         *(table_changes(con, t, before[t], after[t]) for t in tables)],
        how="vertical",
    )
    by_table = (
        rows.group_by("table_name", "change")
        .agg(pl.len().alias("n_rows"), pl.col("patient_id").drop_nulls().n_unique()
             .alias("n_patients"))
        .sort("table_name", "change")
    )
    patient_level = rows.filter(pl.col("table_name") == "patients").select("patient_id", "change")
    others = (
        rows.filter(pl.col("patient_id").is_not_null())
        .join(patient_level, on="patient_id", how="anti")
        .select("patient_id", pl.lit("changed").alias("change"))
    )
    patients = pl.concat([patient_level, others]).unique().sort("patient_id")
    return BatchDiff(rows.sort("table_name", "record_key"), by_table, patients)


def diff_checks(con: duckdb.DuckDBPyConnection, batch_before: str,
                batch_after: str) -> pl.DataFrame:
    """Check status of the latest run of each batch: newly_failing, recovered, still_failing,
    still_passing, new_check, dropped_check."""
    runs = {"run_before": latest_run_id(con, batch_before),
            "run_after": latest_run_id(con, batch_after)}
    for name, run_id in runs.items():
        if run_id is None:
            batch = batch_before if name == "run_before" else batch_after
            raise LookupError(f"no data-quality results for batch {batch!r}")
    return con.execute(read_sql("diff/check_changes.sql"), runs).pl()


def snapshot_schema(batch_id: str) -> str:
    """`staging_<batch id>` with every character outside [A-Za-z0-9_] as `_`."""
    return "staging_" + re.sub(r"\W", "_", batch_id)


def staging_table_set(con: duckdb.DuckDBPyConnection, schema: str,
                      database: str | None = None) -> dict[str, tuple[str, ...]]:
    """The contract tables present in `schema` (of an attached `database`, if given)."""
    present = {
        name for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = $schema "
            "and table_catalog = coalesce(cast($database as varchar), current_database())",
            {"schema": schema, "database": database},
        ).fetchall()
    }
    prefix = (database,) if database else ()
    return {t.name: (*prefix, schema, t.name) for t in TABLES if t.name in present}

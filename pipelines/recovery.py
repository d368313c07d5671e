"""`oligo rebuild`: a new working warehouse, with its ops history, from the published files.

The working warehouse is the only copy of nothing: every published batch has its frozen
file (marts, staging, provenance) and published/ops.duckdb holds the ops and dq history as of
the last run. A corrupt or lost warehouse is set aside (never deleted), a new one receives
the ops/dq tables of ops.duckdb, and every frozen default snapshot whose publication ops does
not record (a run killed after its swap) is added from its own provenance. Raw and staging
tables are not needed: every batch is a full snapshot, loaded again by its next run.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.ops_store import (
    WarehouseUnusable,
    batch_row,
    check_working_warehouse,
    ensure_ops_schema,
    latest_published_batch,
    now,
    upsert_batch,
)
from pipelines.publish import _provenance, copy_as_current, temporary_path
from pipelines.run_lock import run_lock
from pipelines.settings import paths
from pipelines.sql_quoting import quote_ident, quote_literal
from pipelines.working_snapshot import snapshot_path, wal_of


class NothingToRebuild(ValueError):
    pass


@dataclass
class RebuildReport:
    moved_aside: Path | None
    ops_rows: dict[str, int] = field(default_factory=dict)  # table -> rows copied
    batches_from_files: list[str] = field(default_factory=list)
    current_batch: str | None = None
    current_republished: bool = False
    ops_source: str = "published/ops.duckdb"


def rebuild(force: bool = False) -> RebuildReport:
    where = paths()
    with run_lock(where.lock_file):
        try:
            check_working_warehouse(where.warehouse, where.published)
            healthy = where.warehouse.exists()
        except WarehouseUnusable:
            healthy = False
        if healthy and not force:
            raise NothingToRebuild(f"the working warehouse {where.warehouse} opens fine; "
                                   "nothing to rebuild (use --force to rebuild it anyway)")
        moved = _set_aside(where.warehouse)
        tmp = temporary_path(where.warehouse)
        report = RebuildReport(moved_aside=moved)
        with duckdb.connect(str(tmp)) as con:
            ensure_ops_schema(con)
            report.ops_rows = _copy_ops_history(con, where.ops, report)
            report.batches_from_files = _batches_from_frozen_files(con, where.batches)
            report.current_batch = latest_published_batch(con)
            con.execute("INSERT INTO ops.recoveries VALUES (?, 'rebuild', ?, ?)",
                        [now(), str(moved) if moved else None,
                         f"ops from {report.ops_source}; batches from frozen files: "
                         f"{', '.join(report.batches_from_files) or 'none'}"])
            con.execute("CHECKPOINT")
        os.replace(tmp, where.warehouse)
        report.current_republished = _align_current(report.current_batch)
        from pipelines.ops_snapshot import refresh_ops_snapshot, working_connection

        with working_connection() as con:
            refresh_ops_snapshot(con)
    return report


def _set_aside(warehouse: Path) -> Path | None:
    """Move the unusable warehouse (and its WAL, and its working snapshot: the next run
    writes a new one) next to itself, dated: nothing is deleted."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = {path: path.with_name(f"{path.name}.unusable-{stamp}")
             for path in (warehouse, snapshot_path(warehouse))}
    for path, target in aside.items():
        if path.exists():
            os.replace(path, target)
        if wal_of(path).exists():  # with its file, or left without one: never replayed later
            os.replace(wal_of(path), wal_of(target))
    return aside[warehouse] if aside[warehouse].exists() else None


def _copy_ops_history(con: duckdb.DuckDBPyConnection, ops_file: Path,
                      report: RebuildReport) -> dict[str, int]:
    if not ops_file.is_file():
        report.ops_source = "none (published/ops.duckdb absent)"
        return {}
    try:
        con.execute(f"ATTACH {quote_literal(str(ops_file))} AS published_ops (READ_ONLY)")
    except duckdb.Error as exc:
        report.ops_source = f"none (published/ops.duckdb unreadable: {type(exc).__name__})"
        return {}
    copied = {}
    try:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_catalog = 'published_ops' AND table_schema IN ('ops', 'dq') "
            "ORDER BY 1, 2").fetchall()
        existing = set(con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database()").fetchall())
        for schema, table in tables:
            name = f"{quote_ident(schema)}.{quote_ident(table)}"
            source = f"published_ops.{name}"
            if (schema, table) in existing:  # keep the DDL's keys and defaults
                con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM {source}")
            else:
                con.execute(f"CREATE TABLE {name} AS SELECT * FROM {source}")
            copied[f"{schema}.{table}"] = con.execute(
                f"SELECT count(*) FROM {name}").fetchone()[0]
    finally:
        con.execute("DETACH published_ops")
    return copied


def _batches_from_frozen_files(con: duckdb.DuckDBPyConnection, batches_dir: Path) -> list[str]:
    """Default snapshots whose publication ops lacks (or records with another time)."""
    added = []
    if not batches_dir.is_dir():
        return added
    for path in sorted(batches_dir.glob("*.duckdb")):
        provenance = _provenance(path)
        if path.name.startswith(".") or not provenance \
                or provenance.get("parameter_set") != "default":
            continue
        batch_id = provenance["batch_id"]
        row = batch_row(con, batch_id) or {}
        if row.get("published_at") == provenance["published_at"]:
            continue
        upsert_batch(
            con, batch_id=batch_id, signature=row.get("signature"),
            data_cutoff_date=provenance.get("data_cutoff_date"),
            cutoff_source=row.get("cutoff_source") or "frozen_file",
            contract_version=provenance.get("contract_version"), registry=row.get("registry"),
            first_loaded_at=row.get("first_loaded_at") or provenance["published_at"],
            published_at=provenance["published_at"], status="published")
        added.append(batch_id)
    return added


def _align_current(batch_id: str | None) -> bool:
    """`current` must be the frozen file of the batch ops now names; swap it in if not."""
    where = paths()
    if batch_id is None:
        return False
    frozen = where.batch_snapshot(batch_id)
    current = _provenance(where.current) if where.current.exists() else None
    if current and current.get("batch_id") == batch_id and frozen.exists() \
            and _provenance(frozen) == current:
        return False
    copy_as_current(frozen, where.current)
    return True

"""Readers of the DuckLake target: which snapshot, and the locked read-only connection.

A snapshot is addressed by the pseudo-path `ducklake:snapshot/<id>` so that every reader
that takes "a published database" (oligo sql, survival, export, the dashboards) keeps its
signature: `pipelines.safe_sql.open_read_only` hands such an address to `open_snapshot`.
Snapshot ids never change meaning, so an address is also a safe cache key.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb

from pipelines.lake.catalog import (
    LAKE,
    BatchSnapshot,
    LakeUnavailable,
    batch_snapshots,
    current_snapshot,
    data_path,
    frozen_snapshots,
    lake_connection,
)
from pipelines.lake.config import LakeMisconfigured, lake_target
from pipelines.safe_sql import DEFAULT_LIMITS, OPS_CATALOG, OPS_SCHEMAS, QueryRefused, SafetyLimits
from pipelines.sql_quoting import quote_literal

ADDRESS_PREFIX = "ducklake:snapshot/"


def snapshot_address(snapshot_id: int) -> Path:
    return Path(f"{ADDRESS_PREFIX}{int(snapshot_id)}")


def snapshot_of(database: object) -> int | None:
    """The snapshot id of a lake address, None for anything else (a file path)."""
    text = str(database)
    if text.startswith(ADDRESS_PREFIX) and text[len(ADDRESS_PREFIX):].isdigit():
        return int(text[len(ADDRESS_PREFIX):])
    return None


def list_snapshots() -> list[BatchSnapshot]:
    """The lake's batch snapshots, oldest first (one catalog round trip)."""
    try:
        with lake_connection(lake_target()) as con:
            return batch_snapshots(con)
    except (LakeMisconfigured, LakeUnavailable) as exc:
        raise QueryRefused(str(exc)) from exc


def published_address(batch_id: str | None = None) -> Path:
    """`current` (None) or the frozen batch `batch_id` as a snapshot address."""
    snapshots = list_snapshots()
    if batch_id is None:
        chosen = current_snapshot(snapshots)
        if chosen is None:
            raise QueryRefused("no batch has been published to the DuckLake yet (oligo run)")
        return snapshot_address(chosen.snapshot_id)
    chosen = frozen_snapshots(snapshots).get(batch_id)
    if chosen is None:
        raise QueryRefused(f"no batch {batch_id!r} in the DuckLake")
    return snapshot_address(chosen.snapshot_id)


def frozen_batch_names() -> list[str]:
    """Names of the frozen batches in the lake, newest name first (as the embedded list)."""
    return sorted(frozen_snapshots(list_snapshots()), reverse=True)


@contextlib.contextmanager
def open_snapshot(
    snapshot_id: int,
    *,
    ops_database: Path | None = None,
    limits: SafetyLimits = DEFAULT_LIMITS,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The lake attached read-only at `snapshot_id` as the current catalog, locked down like
    `safe_sql.open_read_only`: files readable only under the lake's data path, no other
    ATTACH, no settings. With `ops_database`, that file is attached read-only as well."""
    with contextlib.ExitStack() as stack:
        try:
            con = stack.enter_context(lake_connection(
                lake_target(), snapshot_id=snapshot_id,
                config={"memory_limit": limits.memory_limit, "threads": limits.threads},
            ))
            _lock_down(con, ops_database)
        except (LakeMisconfigured, LakeUnavailable) as exc:
            raise QueryRefused(str(exc)) from exc
        except duckdb.Error as exc:  # e.g. a snapshot id the catalog does not have
            raise QueryRefused(f"snapshot {snapshot_id} cannot be opened: {exc}") from exc
        yield con


def _lock_down(con: duckdb.DuckDBPyConnection, ops_database: Path | None) -> None:
    search_path = [f"{LAKE}.main"]
    if ops_database is not None and Path(ops_database).is_file():
        con.execute(f"ATTACH {quote_literal(str(ops_database))} AS {OPS_CATALOG} (READ_ONLY)")
        search_path += [f"{OPS_CATALOG}.{schema}" for schema in OPS_SCHEMAS]
    con.execute(f"USE {LAKE}")
    con.execute(f"SET search_path = {quote_literal(','.join(search_path))}")
    # Parquet files are opened when a query reads them, so their folder stays allowed; the
    # order matters as in safe_sql: ATTACH first, then external access off, then the lock.
    allowed = str(data_path(con)).rstrip("/") + "/"
    con.execute(f"SET allowed_directories = [{quote_literal(allowed)}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def status_line() -> str:
    """One line for `oligo status`: the lake's `current` and how many batch snapshots."""
    try:
        snapshots = list_snapshots()
    except QueryRefused as exc:
        return f"DuckLake: {exc}"
    current = current_snapshot(snapshots)
    if current is None:
        return "DuckLake: no batch published yet"
    return (f"DuckLake current: snapshot {current.snapshot_id} (batch {current.batch_id}, "
            f"cut-off {current.data_cutoff_date}); {len(snapshots)} batch snapshots")

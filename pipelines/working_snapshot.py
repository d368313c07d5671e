"""The working snapshot: the working warehouse's `staging` and `marts` tables, in a file of
their own beside it (`warehouse.duckdb` -> `warehouse-snapshot.duckdb`), attached to every
warehouse connection as the catalog `working_snapshot` with a search path that makes
`staging.<table>` and `marts.<table>` mean its tables. The SQL of every layer names them as
before.

Why (docs/benchmarks.md, "The working snapshot"): a frozen snapshot holds exactly the
batch's staging and mart tables. With them inside the warehouse, publishing re-encoded every
row into the new file (3.6 M rows at 100,000 patients). Now the run writes them once, into
the file a frozen snapshot is then a byte copy of; publishing adds comments and provenance.

A fresh file for every staging build, never one rewritten in place: DuckDB leaves the blocks
of a replaced table in the file, unused but not erased, and a byte copy would carry an
earlier batch's rows (of a patient who has since opted out, say) into a published file. The
staging step writes the new file under a temporary name and swaps it in once every table is
written (a failure leaves the earlier file as it was); the clinical step then writes the
marts into it. (Marts derived again without a new staging build, from the Dagster UI, free
the earlier marts' blocks: those hold the same batch's patients.)

A transaction writes one database: the clinical step commits the marts here and its
`clinical.*` tables in the warehouse, one after the other (pipelines/assets/patient_partitions.py).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb

from pipelines.publish import swap_into_place, unlink_temporary
from pipelines.sql_quoting import quote_ident, quote_literal

ALIAS = "working_snapshot"
NEXT_ALIAS = "working_snapshot_next"
SCHEMAS = ("staging", "marts")


class WorkingSnapshotUnusable(RuntimeError):
    """The working snapshot file exists but DuckDB cannot open it (one line naming the fix)."""


class MissingSnapshotTables(RuntimeError):
    """Publishing found the working snapshot without some of its tables, or with others."""


def snapshot_path(warehouse: Path) -> Path:
    return warehouse.with_name(f"{warehouse.stem}-snapshot{warehouse.suffix or '.duckdb'}")


def wal_of(path: Path) -> Path:
    """DuckDB's write-ahead log of a database file."""
    return path.with_name(path.name + ".wal")


def database_path(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The file of the connection's default database (None in memory)."""
    row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = "
                      "current_database()").fetchone()
    return Path(row[0]) if row and row[0] else None


def _set_search_path(con: duckdb.DuckDBPyConnection, alias: str) -> None:
    db = con.execute("SELECT current_database()").fetchone()[0]
    entries = [f"{quote_ident(db)}.main"] + [f"{alias}.{schema}" for schema in SCHEMAS]
    con.execute(f"SET search_path = {quote_literal(','.join(entries))}")


def _attached(con: duckdb.DuckDBPyConnection, alias: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_databases() WHERE database_name = ?",
                            [alias]).fetchone()[0])


def is_attached(con: duckdb.DuckDBPyConnection) -> bool:
    return _attached(con, ALIAS)


def attach_working_snapshot(con: duckdb.DuckDBPyConnection, read_only: bool = False) -> bool:
    """Attach the warehouse's working snapshot, when it exists, and point `staging` and
    `marts` at it; whether it was attached. (Without one, they are the warehouse's own
    schemas of the earlier layout, or missing, as in a new warehouse.)"""
    warehouse = database_path(con)
    if warehouse is None or not snapshot_path(warehouse).exists():
        return False
    if not is_attached(con):
        mode = " (READ_ONLY)" if read_only else ""
        path = snapshot_path(warehouse)
        try:
            con.execute(f"ATTACH {quote_literal(str(path))} AS {ALIAS}{mode}")
        except duckdb.Error as exc:  # a run checks both files first and says which case
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]  # (ops_store)
            raise WorkingSnapshotUnusable(
                f"the working snapshot {path} cannot be opened ({first}); if another process "
                "holds it, wait for it, else run `oligo rebuild` to set it aside (the next "
                "run writes a new one)") from None
    _set_search_path(con, ALIAS)
    return True


def connect_warehouse(path: Path, read_only: bool = False,
                      config: dict | None = None) -> duckdb.DuckDBPyConnection:
    """A connection to a working warehouse with its working snapshot attached."""
    con = duckdb.connect(str(path), read_only=read_only, config=config or {})
    try:
        attach_working_snapshot(con, read_only=read_only)
    except BaseException:
        con.close()
        raise
    return con


def writes_to_snapshot(con: duckdb.DuckDBPyConnection, schema: str) -> bool:
    """Whether `<schema>.<table>` is written in the working snapshot on this connection."""
    return schema in SCHEMAS and is_attached(con)


def checkpointed_file(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The attached working snapshot with everything committed in it on disk (checkpointed,
    no write-ahead log left), ready to be copied byte for byte; None when not attached."""
    if not is_attached(con):
        return None
    con.execute(f"CHECKPOINT {ALIAS}")
    path = Path(con.execute("SELECT path FROM duckdb_databases() WHERE database_name = ?",
                            [ALIAS]).fetchone()[0])
    wal = wal_of(path)
    if wal.exists() and wal.stat().st_size:
        return None
    return path


def require_tables(con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]]) -> None:
    """The working snapshot holds exactly `tables` ((schema, table) pairs), else one line
    naming what to do: a staging build starts an empty file, which the clinical step fills
    with the marts."""
    found = set(con.execute("SELECT schema_name, table_name FROM duckdb_tables() "
                            "WHERE database_name = ?", [ALIAS]).fetchall())
    missing = [f"{schema}.{table}" for schema, table in tables if (schema, table) not in found]
    extra = sorted(f"{schema}.{table}" for schema, table in found - set(tables))
    if extra:  # published files hold the registry's tables only
        raise MissingSnapshotTables(f"the working snapshot holds tables no published file "
                                    f"may: {', '.join(extra)}")
    if missing:
        raise MissingSnapshotTables(
            f"the working snapshot has no {', '.join(missing[:3])}"
            f"{f' (and {len(missing) - 3} more)' if len(missing) > 3 else ''}: staging was "
            "built again since the marts were derived; materialise the clinical tables "
            "(clinical_marts) before publishing")


# What the working snapshot holds, in the warehouse (a byte copy of the snapshot must hold
# its tables only): per schema, the batch and, for the marts, the parameter set.
CONTENTS = "main.working_snapshot_contents"


def record_contents(con: duckdb.DuckDBPyConnection, schema: str, batch_id: str | None,
                    parameter_set: str | None = None) -> None:
    """Say which batch (and parameter set) `schema` of the working snapshot now holds; a
    batch of None says it holds nothing (a new staging build has no marts yet)."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {CONTENTS} (schema_name VARCHAR PRIMARY KEY, "
                "batch_id VARCHAR, parameter_set VARCHAR, written_at TIMESTAMP)")
    con.execute(f"INSERT OR REPLACE INTO {CONTENTS} VALUES (?, ?, ?, now()::TIMESTAMP)",
                [schema, batch_id, parameter_set])


def require_contents(con: duckdb.DuckDBPyConnection, batch_id: str, parameter_set: str) -> None:
    """The working snapshot holds staging of `batch_id` and marts of `batch_id` derived
    with `parameter_set`, else one line naming what it holds (a publication of only some
    assets from the Dagster UI must not pair another batch's tables with this one's name)."""
    held = {}
    with contextlib.suppress(duckdb.CatalogException):  # nothing recorded yet
        held = {schema: (batch, params) for schema, batch, params in con.execute(
            f"SELECT schema_name, batch_id, parameter_set FROM {CONTENTS}").fetchall()}
    staging, marts = held.get("staging", (None, None)), held.get("marts", (None, None))
    if staging[0] == batch_id and marts == (batch_id, parameter_set):
        return
    raise MissingSnapshotTables(
        f"the working snapshot holds staging of batch {staging[0] or '(none)'} and marts of "
        f"batch {marts[0] or '(none)'} (parameters {marts[1] or '-'}), not batch {batch_id} "
        f"with parameters {parameter_set}: run the whole job for batch {batch_id}")


@contextlib.contextmanager
def fresh_working_snapshot(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Inside the block `staging.<table>` and `marts.<table>` are a new, empty file; when the
    block ends normally that file replaces the working snapshot (the earlier one is deleted,
    and `staging` and `marts` schemas left inside the warehouse by the earlier layout are
    dropped). On a failure the new file is deleted and the earlier one is attached again,
    unchanged."""
    warehouse = database_path(con)
    if warehouse is None:  # an in-memory warehouse (tests): the tables stay inside it
        yield
        return
    target = snapshot_path(warehouse)
    for stale in target.parent.glob(f".{target.name}.*.tmp*"):  # of a killed run (we hold
        stale.unlink(missing_ok=True)                          # the run lock)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    con.execute(f"ATTACH {quote_literal(str(tmp))} AS {NEXT_ALIAS}")
    try:
        for schema in SCHEMAS:
            con.execute(f"CREATE SCHEMA {NEXT_ALIAS}.{schema}")
        _set_search_path(con, NEXT_ALIAS)
        yield
    except BaseException:
        _release(con)
        unlink_temporary(tmp)
        attach_working_snapshot(con)
        raise
    _release(con)
    if wal_of(tmp).exists():  # DETACH checkpoints: a log left means rows not in the file
        unlink_temporary(tmp)
        attach_working_snapshot(con)
        raise RuntimeError(f"the new working snapshot {tmp.name} was not fully written")
    # The earlier snapshot is detached, so a log at its path belongs to no file: DuckDB would
    # replay it onto the new one (an earlier batch's rows, into a file copied for publishing).
    wal_of(target).unlink(missing_ok=True)
    swap_into_place(tmp, target)
    attach_working_snapshot(con)
    db = quote_ident(con.execute("SELECT current_database()").fetchone()[0])
    for schema in SCHEMAS:
        con.execute(f"DROP SCHEMA IF EXISTS {db}.{schema} CASCADE")


def _release(con: duckdb.DuckDBPyConnection) -> None:
    """Back to the default search path (a detached catalog in it fails every statement),
    then both files detached (each checkpointed as it is detached)."""
    con.execute("RESET search_path")
    for alias in (NEXT_ALIAS, ALIAS):
        if _attached(con, alias):
            con.execute(f"DETACH {alias}")



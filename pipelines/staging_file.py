"""The working staging tables live in a file of their own beside the working warehouse
(`warehouse.duckdb` -> `warehouse-staging.duckdb`), attached to every warehouse connection as
the catalog `working_staging`, with a search path that makes `staging.<table>` mean its tables:
the SQL of every layer names `staging.<table>` as before.

Why a file of its own (docs/benchmarks.md, "Staging in a file of its own"): a frozen snapshot
holds the batch's staging and marts. With staging inside the warehouse, publishing re-encoded
every staging row into the new file (2.6 M rows at 100,000 patients); now the staging step
writes a fresh file holding exactly the snapshot's staging schema, and publishing copies its
bytes and adds the marts.

A fresh file each time, never one rewritten in place: DuckDB leaves the blocks of a replaced
table in the file, unused but not erased, and a byte copy would carry an earlier batch's rows
(of a patient who has since opted out, say) into a published file. The staging step writes
the new file under a temporary name and swaps it in only when every table is written: a
failure leaves the previous staging file as it was.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb

from pipelines.sql_quoting import quote_ident, quote_literal

ALIAS = "working_staging"
NEXT_ALIAS = "working_staging_next"
SCHEMA = "staging"


class StagingFileUnusable(RuntimeError):
    """The staging file exists but DuckDB cannot open it (one line naming the fix)."""


def staging_path(warehouse: Path) -> Path:
    return warehouse.with_name(f"{warehouse.stem}-staging{warehouse.suffix or '.duckdb'}")


def database_path(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The file of the connection's default database (None in memory)."""
    row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = "
                      "current_database()").fetchone()
    return Path(row[0]) if row and row[0] else None


def _set_search_path(con: duckdb.DuckDBPyConnection, alias: str) -> None:
    db = con.execute("SELECT current_database()").fetchone()[0]
    con.execute(f"SET search_path = {quote_literal(f'{quote_ident(db)}.main,{alias}.{SCHEMA}')}")


def _attached(con: duckdb.DuckDBPyConnection, alias: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_databases() WHERE database_name = ?",
                            [alias]).fetchone()[0])


def attach_staging(con: duckdb.DuckDBPyConnection, read_only: bool = False) -> bool:
    """Attach the warehouse's staging file, when it exists, and point `staging` at it;
    whether it was attached. (Without one, `staging.<table>` is the warehouse's own schema of
    an earlier layout, or missing, as in a new warehouse.)"""
    warehouse = database_path(con)
    if warehouse is None or not staging_path(warehouse).exists():
        return False
    if not _attached(con, ALIAS):
        mode = " (READ_ONLY)" if read_only else ""
        path = staging_path(warehouse)
        try:
            con.execute(f"ATTACH {quote_literal(str(path))} AS {ALIAS}{mode}")
        except duckdb.Error as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise StagingFileUnusable(
                f"the staging file {path} cannot be opened ({first}); move it aside: every "
                "run writes a new one") from None
    _set_search_path(con, ALIAS)
    return True


def connect_warehouse(path: Path, read_only: bool = False,
                      config: dict | None = None) -> duckdb.DuckDBPyConnection:
    """A connection to a working warehouse with its staging file attached."""
    con = duckdb.connect(str(path), read_only=read_only, config=config or {})
    try:
        attach_staging(con, read_only=read_only)
    except BaseException:
        con.close()
        raise
    return con


def is_attached(con: duckdb.DuckDBPyConnection) -> bool:
    return _attached(con, ALIAS)


def checkpointed_file(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The attached staging file with everything committed in it on disk (checkpointed, no
    write-ahead log left), ready to be copied byte for byte; None when not attached."""
    if not is_attached(con):
        return None
    con.execute(f"CHECKPOINT {ALIAS}")
    path = Path(con.execute("SELECT path FROM duckdb_databases() WHERE database_name = ?",
                            [ALIAS]).fetchone()[0])
    wal = path.with_name(path.name + ".wal")
    if wal.exists() and wal.stat().st_size:
        return None
    return path


@contextlib.contextmanager
def fresh_staging(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Inside the block `staging.<table>` is a new, empty staging file; when the block ends
    normally that file replaces the warehouse's staging file (the earlier one is deleted, and
    a `staging` schema left inside the warehouse by the earlier layout is dropped). On a
    failure the new file is deleted and the earlier one is attached again, unchanged."""
    warehouse = database_path(con)
    if warehouse is None:  # an in-memory warehouse (tests): staging stays inside it
        yield
        return
    target = staging_path(warehouse)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    con.execute(f"ATTACH {quote_literal(str(tmp))} AS {NEXT_ALIAS}")
    try:
        con.execute(f"CREATE SCHEMA {NEXT_ALIAS}.{SCHEMA}")
        _set_search_path(con, NEXT_ALIAS)
        yield
    except BaseException:
        _release(con)
        _unlink(tmp)
        attach_staging(con)
        raise
    _release(con)
    os.replace(tmp, target)
    _fsync_folder(target.parent)
    attach_staging(con)
    db = con.execute("SELECT current_database()").fetchone()[0]
    con.execute(f"DROP SCHEMA IF EXISTS {quote_ident(db)}.{SCHEMA} CASCADE")


def _release(con: duckdb.DuckDBPyConnection) -> None:
    """Back to the default search path (a detached catalog in it fails every statement),
    then both staging files detached (each checkpointed as it is detached)."""
    con.execute("RESET search_path")
    for alias in (NEXT_ALIAS, ALIAS):
        if _attached(con, alias):
            con.execute(f"DETACH {alias}")


def _unlink(tmp: Path) -> None:
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        with contextlib.suppress(OSError):
            leftover.unlink(missing_ok=True)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale(warehouse: Path) -> None:
    """Temporary staging files of a run that was killed before its swap."""
    for stale in warehouse.parent.glob(f".{staging_path(warehouse).name}.*.tmp*"):
        stale.unlink(missing_ok=True)

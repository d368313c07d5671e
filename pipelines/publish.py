"""Atomic publishing: write a complete new DuckDB file next to the target, make it
read-only, then `os.replace` it into place. Readers that opened the old file keep reading
it; new readers see the whole new one; nobody ever sees half a file.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import duckdb

from pipelines.faults import fault_point
from pipelines.side_by_side import run_side_by_side
from pipelines.sql_quoting import quote_ident, quote_literal

# Temporaries this process created and has not swapped yet: removed by
# `discard_pending_temporaries` when a run fails (disk full, read-only folder...), so a failed
# run leaves nothing in published/. A killed process leaves them to remove_stale_temporaries.
_pending: set[Path] = set()


def temporary_path(target: Path) -> Path:
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    _pending.add(tmp)
    return tmp


def unlink_temporary(tmp: Path) -> None:
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        with contextlib.suppress(OSError):
            leftover.unlink(missing_ok=True)
    _pending.discard(tmp)


def discard_pending_temporaries() -> list[Path]:
    """Remove every temporary of this process not swapped into place; returns them."""
    removed = sorted(_pending)
    for tmp in removed:
        unlink_temporary(tmp)
    return removed


def remove_stale_temporaries(folder: Path) -> None:
    """Leftovers of a run that was killed while publishing."""
    if folder.exists():
        for stale in folder.glob(".*.tmp"):
            stale.unlink(missing_ok=True)
        for stale in folder.glob(".*.tmp.wal"):
            stale.unlink(missing_ok=True)


def write_database_copy(
    source: duckdb.DuckDBPyConnection,
    target_tmp: Path,
    tables: Iterable[tuple[str, str]],
    *,
    docs: Mapping[str, Mapping] | None = None,
    extra_statements: Iterable[tuple[str, list]] = (),
    present: Iterable[tuple[str, str]] = (),
) -> None:
    """Copy `(schema, table)` pairs from the source connection into a new file at
    `target_tmp`, with COMMENT ON from `docs[table]` = {description, grain, columns}. The
    `present` tables are in the file already (it began as a byte copy): commented only."""
    alias = "publish_" + uuid.uuid4().hex[:8]
    try:
        source.execute(f"ATTACH {quote_literal(str(target_tmp))} AS {alias}")
        try:
            _copy_tables(source, alias, list(tables), docs or {})
            # One transaction for the rest: the new file is checkpointed once more, not once
            # per statement (each autocommitted statement is its own commit).
            source.execute("BEGIN TRANSACTION")
            try:
                for schema, table in present:
                    _comment(source, f"{alias}.{quote_ident(schema)}.{quote_ident(table)}",
                             (docs or {}).get(table))
                for sql, params in extra_statements:
                    source.execute(sql.replace("{db}", alias), params)
                source.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    source.execute("ROLLBACK")
                raise
        finally:
            with contextlib.suppress(duckdb.Error):  # a failed DETACH must not hide the cause
                source.execute(f"DETACH {alias}")
    except BaseException:
        unlink_temporary(target_tmp)  # a half-written file never stays behind
        raise


def _copy_tables(source: duckdb.DuckDBPyConnection, alias: str,
                 tables: list[tuple[str, str]], docs: Mapping[str, Mapping]) -> None:
    """The tables side by side on cursors of `source`, largest first, each cursor in one
    transaction of its own: the new file is nobody's until it is swapped in, so its tables
    need not commit together (a failure discards the whole file)."""
    for schema in sorted({schema for schema, _ in tables}):
        source.execute(f"CREATE SCHEMA IF NOT EXISTS {alias}.{quote_ident(schema)}")
    sizes = {(s, t): n for s, t, n in source.execute(
        "SELECT schema_name, table_name, estimated_size FROM duckdb_tables() "
        "WHERE database_name = current_database()").fetchall()}

    def copy(schema: str, table: str) -> Callable[[duckdb.DuckDBPyConnection], None]:
        def job(cursor: duckdb.DuckDBPyConnection) -> None:
            qualified = f"{quote_ident(schema)}.{quote_ident(table)}"
            cursor.execute(f"CREATE TABLE {alias}.{qualified} AS SELECT * FROM {qualified}")
            _comment(cursor, f"{alias}.{qualified}", docs.get(table))
        return job

    ordered = sorted(tables, key=lambda st: -sizes.get(st, 0))
    run_side_by_side(source, [(f"{s}.{t}", copy(s, t)) for s, t in ordered],
                     transaction=True, what="the copy of ")


def _comment(con: duckdb.DuckDBPyConnection, qualified: str, doc: Mapping | None) -> None:
    if not doc:
        return
    text = doc.get("description", "")
    if doc.get("grain"):
        text = f"{text} Grain: {doc['grain']}.".strip()
    con.execute(f"COMMENT ON TABLE {qualified} IS {quote_literal(text)}")
    existing = {
        row[0]
        for row in con.execute(f"SELECT * FROM {qualified} LIMIT 0").description or []
    }
    for column, description in doc.get("columns", {}).items():
        if column in existing:
            con.execute(
                f"COMMENT ON COLUMN {qualified}.{quote_ident(column)} IS "
                f"{quote_literal(description)}"
            )


def seal(tmp: Path) -> None:
    """Flush to disk and make read-only before the swap."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o444)


def swap_into_place(tmp: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, target)
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def publish_files(prepared: list[tuple[Path, Path]]) -> None:
    """Swap several prepared (tmp, target) files, in order. Fault points: `publish` between
    preparing and swapping (every published file must stay untouched), `publish_swap`
    between two swaps (the frozen file is in place, `current` is not yet, and ops does not
    say published: readers must not be offered the new file, see `offered_snapshots`)."""
    try:
        for tmp, _ in prepared:
            seal(tmp)
    except BaseException:
        for tmp, _ in prepared:
            unlink_temporary(tmp)
        raise
    fault_point("publish")
    for position, (tmp, target) in enumerate(prepared):
        if position:
            fault_point("publish_swap")
        try:
            swap_into_place(tmp, target)
        except BaseException:
            for later, _ in prepared[position:]:
                unlink_temporary(later)
            raise
        _pending.discard(tmp)


# --- which frozen files readers are offered ------------------------------------------------


def _provenance(path: Path) -> dict | None:
    """meta.provenance of a published file (cached per file identity: files never change in
    place, a new one is swapped in)."""
    try:
        info = path.stat()
    except OSError:
        return None
    return _provenance_cached(str(path), info.st_ino, info.st_mtime_ns, info.st_size)


@functools.lru_cache(maxsize=512)
def _provenance_cached(path: str, inode: int, mtime_ns: int, size: int) -> dict | None:
    del inode, mtime_ns, size  # part of the cache key only
    try:
        with duckdb.connect(path, read_only=True) as con:
            cur = con.execute("SELECT * FROM meta.provenance")
            row = cur.fetchone()
            return dict(zip([d[0] for d in cur.description], row, strict=True)) if row else None
    except duckdb.Error:
        return None


def _published_in_ops(ops_path: Path) -> tuple[set, set]:
    """(batch_id, published_at) of published batches, and (batch_id, parameter_set) of
    published runs, as the published ops file records them."""
    if not ops_path.is_file():
        return set(), set()
    found: list[set] = []
    try:
        with duckdb.connect(str(ops_path), read_only=True) as con:
            catalog = quote_ident(con.execute("SELECT current_database()").fetchone()[0])
            for sql in (f"SELECT batch_id, published_at FROM {catalog}.ops.batches "
                        "WHERE published_at IS NOT NULL",
                        f"SELECT batch_id, parameter_set FROM {catalog}.ops.runs "
                        "WHERE status = 'published'"):
                try:
                    found.append(set(con.execute(sql).fetchall()))
                except duckdb.Error:  # an ops file without the table: nothing published
                    found.append(set())
    except duckdb.Error:
        return set(), set()
    return found[0], found[1]


def offered_snapshots(batches_dir: Path, ops_path: Path) -> dict[str, Path]:
    """Frozen files readers may be offered, by name (file stem): those whose publication the
    published ops file records (the default snapshot's published_at equals the batch's in
    ops.batches; a sensitivity file needs a published run of its parameter set). A file
    swapped in by a run that then crashed, before ops said published, is not offered."""
    if not batches_dir.is_dir():
        return {}
    batches, runs = _published_in_ops(ops_path)
    offered = {}
    for path in sorted(batches_dir.glob("*.duckdb")):
        if path.name.startswith("."):
            continue
        provenance = _provenance(path)
        if provenance is None:
            continue
        key = provenance.get("batch_id")
        if provenance.get("parameter_set", "default") == "default":
            ok = (key, provenance.get("published_at")) in batches
        else:
            ok = (key, provenance.get("parameter_set")) in runs
        if ok:
            offered[path.stem] = path
    return offered


def link_or_copy(source: Path, tmp: Path) -> None:
    """`tmp` becomes the same bytes as `source`: a hard link when both are on one file system
    (published files are read-only and never change in place, a new one is swapped in, so
    sharing the bytes is safe and costs nothing at any size), else a streamed copy."""
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)


def copy_as_current(frozen: Path, current: Path) -> None:
    """Swap a frozen batch file in as `current` (linked or copied, then the atomic swap)."""
    tmp = temporary_path(current)
    try:
        link_or_copy(frozen, tmp)
    except BaseException:
        unlink_temporary(tmp)
        raise
    publish_files([(tmp, current)])

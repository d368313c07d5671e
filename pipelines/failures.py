"""Expected outcomes as one readable line: what happened and what to do next.

`oligo` prints these instead of a traceback (tracebacks only with `--debug`). A failure is
recognised by its type or, for errors raised deep inside DuckDB, SQLite or Dagster, by the
operating-system cause anywhere in its chain (disk full, read-only folder)."""

from __future__ import annotations

import errno

DISK_FULL_MARKERS = ("No space left on device", "database or disk is full", "ENOSPC")
READ_ONLY_MARKERS = ("Read-only file system", "Permission denied", "attempt to write a readonly")


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _mentions(exc: BaseException, markers: tuple[str, ...], codes: tuple[int, ...]) -> bool:
    for link in _chain(exc):
        if isinstance(link, OSError) and link.errno in codes:
            return True
        if any(marker in str(link) for marker in markers):
            return True
    return False


def _nearly_full(home, margin_bytes: int = 8 << 20) -> bool:
    """SQLite reports a full disk as a plain 'disk I/O error': look at the disk."""
    import shutil

    try:
        return shutil.disk_usage(home).free < margin_bytes
    except OSError:
        return False


def explain(exc: BaseException, home) -> str | None:
    """One line for an expected failure, None for a real bug (which keeps its traceback
    behind --debug)."""
    from pipelines.ingest.defects import BatchRefused
    from pipelines.ingest.files import UnsafeBatchPath
    from pipelines.ops_store import WarehouseUnusable
    from pipelines.run_lock import RunInProgress
    from pipelines.safe_sql import QueryRefused

    if _mentions(exc, DISK_FULL_MARKERS, (errno.ENOSPC, errno.EDQUOT)) or (
            _mentions(exc, ("disk I/O error",), ()) and _nearly_full(home)):
        return (f"the disk holding {home} is full; free some space and run again "
                "(published files were left as they were)")
    if _mentions(exc, READ_ONLY_MARKERS, (errno.EROFS, errno.EACCES, errno.EPERM)):
        return (f"the data folder {home} is read-only (or not ours to write); make it "
                "writable, or set OLIGO_HOME to a writable folder, and run again")
    if isinstance(exc, (RunInProgress, WarehouseUnusable, UnsafeBatchPath, BatchRefused,
                        QueryRefused, FileNotFoundError)):
        return str(exc)
    return None

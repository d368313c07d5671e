"""Independent DuckDB statements side by side: one statement at a time keeps about 1.5 of
two cores busy (a plan's single-threaded phases, its final sort or write), two statements
running together fill those gaps (docs/benchmarks.md).

Each job runs on a cursor of the caller's connection (a connection of its own to the same
database, one thread each; DuckDB releases the GIL while a statement runs). A cursor sees
the database's committed tables and attached databases, not the caller's TEMP tables and
macros, and has its own transaction: the caller prepares what a cursor needs with `setup`.
A cursor gets the caller's search path (`cursor_of`): `staging.<table>` names the same
tables on both (pipelines/working_snapshot.py).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import duckdb

from pipelines.sql_quoting import quote_literal

T = TypeVar("T")
CURSORS = 2  # two statements fill the gaps one leaves; more would only share the cores


def run_side_by_side(
    con: duckdb.DuckDBPyConnection,
    jobs: Sequence[tuple[str, Callable[[duckdb.DuckDBPyConnection], T]]],
    setup: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    cursors: int = CURSORS,
    what: str = "",
    transaction: bool = False,
) -> dict[str, T]:
    """Run `jobs` ((name, job(cursor)), longest first: a cursor takes the next job when its
    last one ends) on up to `cursors` cursors of `con`; name -> result.

    After a failure no further job starts; the running ones end, then the first failure
    (in job order) is raised as it was, with a note naming its job (`what` + name).
    With `transaction`, each cursor runs its jobs in one transaction of its own; once every
    cursor's jobs have ended, all commit, or all roll back when a job failed. The commits are
    not one atomic change (one may fail after another succeeded): for writes nobody sees
    until every cursor is done (a new file swapped in later)."""
    if not jobs:
        return {}
    pending = list(jobs)
    lock = threading.Lock()
    failed = threading.Event()
    results: dict[str, T] = {}
    errors: dict[str, BaseException] = {}

    def _take_jobs(cursor: duckdb.DuckDBPyConnection) -> None:
        while not failed.is_set():
            with lock:
                if not pending:
                    return
                name, job = pending.pop(0)
            try:
                results[name] = job(cursor)
            except BaseException as exc:  # every failure, raised again below
                errors[name] = exc
                failed.set()

    def worker(cursor: duckdb.DuckDBPyConnection) -> None:
        began = False
        try:
            if setup is not None:
                setup(cursor)
            if transaction:
                cursor.execute("BEGIN TRANSACTION")
                began = True
            _take_jobs(cursor)
        except BaseException as exc:  # the cursor's setup or BEGIN
            with lock:
                cursor_errors.append(exc)
            failed.set()
        finally:
            all_ended.wait()  # every cursor's jobs ended: whether one failed is known
        if began:
            try:
                cursor.execute("ROLLBACK" if failed.is_set() else "COMMIT")
            except BaseException as exc:
                with lock:
                    cursor_errors.append(exc)

    cursor_errors: list[BaseException] = []
    # Opened here, one thread at a time; each is then used by its own thread only.
    opened = [cursor_of(con) for _ in range(min(cursors, len(jobs)))]
    all_ended = threading.Barrier(len(opened))
    try:
        with ThreadPoolExecutor(max_workers=len(opened),
                                thread_name_prefix="oligo-cursor") as pool:
            for cursor in opened:
                pool.submit(worker, cursor)
    finally:
        for cursor in opened:
            with contextlib.suppress(duckdb.Error):
                cursor.close()
    if errors:
        name = next(n for n, _ in jobs if n in errors)
        exc = errors[name]
        exc.add_note(f"while running {what}{name}")
        raise exc
    if cursor_errors:
        raise cursor_errors[0]
    return results


def cursor_of(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor of `con` with `con`'s search path (a new cursor starts with the default)."""
    search_path = con.execute("SELECT current_setting('search_path')").fetchone()[0]
    new = con.cursor()
    if search_path:
        new.execute(f"SET search_path = {quote_literal(search_path)}")
    return new

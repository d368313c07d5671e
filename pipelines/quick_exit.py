"""Leaving a command without tearing the interpreter down.

Once a command has finished (its files written and closed, its report printed), CPython's
shutdown still deallocates every object and module the run loaded: Dagster, Polars, DuckDB,
Great Expectations. That takes 0.7-1.3 s here, as long as a small batch's whole run
(docs/benchmarks.md). The exit handlers still run and the streams are flushed; only the
teardown is skipped, and only when no other thread is left (one that is would be waited for)
and no profiler or tracer is watching (cProfile and coverage write their results at the
normal exit)."""

from __future__ import annotations

import atexit
import os
import sys
import threading


def exit_now(code: int) -> None:
    """Exit with `code`: exit handlers, flushed streams, then `os._exit`."""
    if threading.active_count() > 1 or sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)  # a running thread is waited for; a profiler writes its results
    atexit._run_exitfuncs()  # logging's shutdown (flushes its handlers) and every other one
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing left to deliver
            pass
    os._exit(code)

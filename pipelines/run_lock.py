"""One pipeline run at a time: an exclusive `flock` on `<OLIGO_HOME>/run.lock`, taken by
every entry point (`oligo run`, Dagster runs through the `run_lock` resource).

Re-entrant within a process, because `oligo run` holds it while Dagster executes in-process.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path

_held: dict[str, tuple[int, int]] = {}  # path -> (fd, depth)
_mutex = threading.Lock()


class RunInProgress(RuntimeError):
    pass


@contextlib.contextmanager
def run_lock(path: Path) -> Iterator[None]:
    key = str(path)
    with _mutex:
        if key in _held:
            fd, depth = _held[key]
            _held[key] = (fd, depth + 1)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(key, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise RunInProgress(
                    f"another pipeline run holds {path}; wait for it to finish"
                ) from None
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            _held[key] = (fd, 1)
    try:
        yield
    finally:
        with _mutex:
            fd, depth = _held[key]
            if depth > 1:
                _held[key] = (fd, depth - 1)
            else:
                del _held[key]
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

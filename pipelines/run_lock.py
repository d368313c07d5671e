"""One pipeline run at a time: an exclusive `flock` on `<OLIGO_HOME>/run.lock`, taken by
every run of the Dagster graph (the `warehouse` resource holds it for the whole run, whoever
launched it: `oligo run`, the sensor, the UI) and by the run-failure sensor when it writes.

Re-entrant within a process, because `oligo run` holds it while Dagster executes in-process.
A run may wait for the lock (`wait_seconds`): a delivery the sensor found while `oligo run`
is busy then starts when it finishes instead of failing.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

_held: dict[str, tuple[int, int]] = {}  # path -> (fd, depth)
_mutex = threading.Lock()


class RunInProgress(RuntimeError):
    pass


@contextlib.contextmanager
def run_lock(path: Path, wait_seconds: float = 0) -> Iterator[None]:
    key = str(path)
    with _mutex:
        if key in _held:
            fd, depth = _held[key]
            _held[key] = (fd, depth + 1)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(key, os.O_RDWR | os.O_CREAT, 0o644)
            if not _acquire(fd, wait_seconds):
                os.close(fd)
                waited = f" (waited {wait_seconds:.0f} s)" if wait_seconds else ""
                raise RunInProgress(
                    f"another pipeline run holds {path}{waited}; wait for it to finish"
                )
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


def _acquire(fd: int, wait_seconds: float) -> bool:
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.25)


def is_locked(path: Path) -> bool:
    """Whether some process holds the run lock now (for `oligo status`)."""
    if str(path) in _held:
        return True
    if not path.exists():
        return False
    fd = os.open(str(path), os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases a lock taken here
    return False

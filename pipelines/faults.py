"""Fault points for the crash tests: `OLIGO_FAULT_POINT=<name>` kills the process with
SIGKILL when the run reaches that point (no cleanup, like a power cut or an OOM kill)."""

from __future__ import annotations

import os
import signal

FAULT_POINTS = ("load", "derive", "publish", "publish_swap")


def fault_point(name: str) -> None:
    if os.environ.get("OLIGO_FAULT_POINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)

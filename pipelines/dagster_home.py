"""A persistent Dagster instance under the data folder (`<OLIGO_HOME>/dagster_home`).

Every project command that talks to Dagster (`oligo run`, `oligo demo`, the tests) sets
`DAGSTER_HOME` here first, so runs, sensor cursors and the UI share one history. The
`dagster.yaml` written here turns telemetry off, runs one run at a time from the queue,
turns on run monitoring, purges the sensor's skipped ticks after a day, and captures no
stdout/stderr per run (two `tail` processes a run; the event log keeps every message and
error), and keeps the SQLite event log's connections open (pipelines/dagster_event_log.py:
Dagster's default reopens the database for every event). A dagster.yaml
without the first line below is the operator's own (say, PostgreSQL storage) and is kept.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipelines.lake.dagster_storage import dagster_storage_yaml
from pipelines.settings import paths

MANAGED = "# written by the oligo warehouse; remove this line to manage the file yourself\n"
DAGSTER_YAML = MANAGED + """telemetry:
  enabled: false
run_queue:
  max_concurrent_runs: 1
  dequeue_interval_seconds: 2
compute_logs:
  module: dagster._core.storage.noop_compute_log_manager
  class: NoOpComputeLogManager
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  poll_interval_seconds: 60
  max_resume_run_attempts: 0
retention:
  sensor:
    purge_after_days:
      skipped: 1
      failure: 90
      success: -1
  schedule:
    purge_after_days: 90
"""
# SQLite (the default target): Dagster's files, written through kept connections.
KEPT_EVENT_LOG = """event_log_storage:
  module: pipelines.dagster_event_log
  class: KeptSqliteEventLogStorage
  config:
    base_dir:
      env: DAGSTER_HOME
"""
LEGACY = "telemetry:\n  enabled: false\n"  # what earlier versions wrote


def ensure_dagster_home(home: Path | None = None) -> Path:
    home = home or paths().dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    # DuckLake target: storage on PostgreSQL; else SQLite under this folder.
    wanted = DAGSTER_YAML + (dagster_storage_yaml() or KEPT_EVENT_LOG)
    text = config.read_text() if config.exists() else None
    if text != wanted and (text is None or text.startswith(MANAGED) or text == LEGACY):
        config.write_text(wanted)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def dagster_instance():
    import dagster as dg  # only when a run starts

    ensure_dagster_home()
    return dg.DagsterInstance.get()

"""`oligo run`: a thin launcher of the `process_batch` job, one in-process run per batch.

Everything a run does and records lives in the Dagster graph, the same for the sensor and
the UI: the delivery gate (`ops/delivery`: unchanged, refused unless replace), the run lock
and the run report (the `warehouse` resource), the ops refresh. This module registers the
batch's partition, executes the job, and reads back the run report.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.clinical.parameters import ClinicalParameters
from pipelines.dagster_home import dagster_instance
from pipelines.delivery import discover_batches
from pipelines.ingest.files import batch_folder
from pipelines.ops_store import check_working_warehouse
from pipelines.resources import DEMO_ENV, SECRET_ENV, SECRET_FILE_ENV, declare_environment_defaults
from pipelines.run_lock import run_lock
from pipelines.run_record import BATCH_TAG, REPLACE_TAG
from pipelines.settings import paths

JOB_NAME = "process_batch"


@dataclass
class RunOutcome:
    run_id: str
    batch_id: str
    status: str
    message: str
    table_counts: list[dict] = field(default_factory=list)
    top_reasons: list[dict] = field(default_factory=list)


def run_batches(
    *,
    exports_dir: Path | None = None,
    batch_id: str | None = None,
    replace: bool = False,
    overrides: dict[str, str] | None = None,
    dialect: str = "default",
    demo_mode: bool = False,
) -> list[RunOutcome]:
    exports_dir = (exports_dir or paths().exports).resolve()
    ClinicalParameters().with_overrides(dict(overrides or {}))  # fail fast on typos
    batch_ids = [batch_id] if batch_id else discover_batches(exports_dir)
    if not batch_ids:
        raise FileNotFoundError(f"no batch folder under {exports_dir}")
    for b in batch_ids:  # ids and folders leaving exports are refused (UnsafeBatchPath)
        if not batch_folder(exports_dir, b).is_dir():
            raise FileNotFoundError(f"no batch folder {exports_dir / b}")
    check_working_warehouse(paths().warehouse, paths().published)  # one line, before Dagster
    # Held across the batches (re-entrant: each run takes it again inside the graph).
    with run_lock(paths().lock_file):
        return [_skipped(b) if _published_as_is(exports_dir, b, batch_id, replace, overrides)
                else _run_one(exports_dir, b, replace, dict(overrides or {}), dialect, demo_mode)
                for b in batch_ids]


def _published_as_is(exports_dir: Path, batch_id: str, asked_for: str | None, replace: bool,
                     overrides: dict | None) -> bool:
    """Scanning every folder (a timer calling `oligo run`), a batch published as delivered
    starts no run, as the sensor does; naming the batch always runs the gate."""
    if asked_for or replace or overrides:
        return False
    from pipelines.delivery import batch_signature
    from pipelines.sensors import published_signatures

    return published_signatures().get(batch_id) == batch_signature(exports_dir / batch_id)


def _skipped(batch_id: str) -> RunOutcome:
    return RunOutcome("-", batch_id, "unchanged",
                      "identical batch already published; no run started")


def run_config(exports_dir: Path, overrides: dict, dialect: str, demo_mode: bool) -> dict:
    # Run config replaces the resource's EnvVar defaults: name the variables again.
    registry = {"exports_dir": str(exports_dir), "dialect": dialect,
                "pseudonym_secret": {"env": SECRET_ENV},
                "pseudonym_secret_file": {"env": SECRET_FILE_ENV},
                "demo_mode": "true" if demo_mode else {"env": DEMO_ENV}}
    return {
        "resources": {
            "registry": {"config": registry},
            "clinical_settings": {"config": {"overrides": overrides}},
        },
        # Dagster's step log stays in its event log (the UI shows it); the command prints
        # the run report. OLIGO_LOG_LEVEL=INFO (or DEBUG) shows it on the console too.
        "loggers": {"console": {"config": {"log_level": os.environ.get("OLIGO_LOG_LEVEL",
                                                                       "CRITICAL")}}},
    }


def _run_one(exports_dir, batch_id, replace, overrides, dialect, demo_mode) -> RunOutcome:
    from pipelines.definitions import defs  # Dagster's imports only when a run starts

    declare_environment_defaults()
    instance = dagster_instance()
    if not instance.has_dynamic_partition("batches", batch_id):
        instance.add_dynamic_partitions("batches", [batch_id])
    result = defs.resolve_job_def(JOB_NAME).execute_in_process(
        run_config=run_config(exports_dir, overrides, dialect, demo_mode),
        instance=instance, partition_key=batch_id, raise_on_error=False,
        tags={BATCH_TAG: batch_id, "oligo/launched_by": "oligo run",
              **({REPLACE_TAG: "true"} if replace else {})},
    )
    if not result.success:  # failed before or outside its steps: the report says so
        from pipelines.run_record import record_failure

        with contextlib.suppress(Exception):  # an unusable warehouse is reported below
            record_failure(paths().warehouse, paths().lock_file,
                           instance.get_run_by_id(result.run_id), _failure_message(result))
    return read_outcome(result.run_id, batch_id)


def _failure_message(result) -> str:
    """The first failure of a run that did not succeed, in one line."""
    from pipelines.run_record import error_chain

    for event in result.all_events:
        if not event.is_failure:
            continue
        causes = list(error_chain(getattr(event.event_specific_data, "error", None)))
        text = (causes[-1].message if causes else event.message) or ""  # the root cause
        if text.strip():
            return text.strip().splitlines()[0]
    return "the run failed; see the Dagster run log (`oligo status`)"


def read_outcome(run_id: str, batch_id: str) -> RunOutcome:
    """The run report the graph recorded (published/ops.duckdb holds the same rows)."""
    if not paths().warehouse.exists():
        return RunOutcome(run_id, batch_id, "failed", "the run stopped before its report "
                          "opened; see the Dagster run log")
    with duckdb.connect(str(paths().warehouse), read_only=True) as con:
        row = con.execute("SELECT status, message FROM ops.runs WHERE run_id = ?",
                          [run_id]).fetchone()
        if row is None:  # the run stopped before its report opened (e.g. bad config)
            return RunOutcome(run_id, batch_id, "failed", "the run did not start; see the "
                              "Dagster run log (`oligo status`)")
        return RunOutcome(run_id, batch_id, row[0], row[1] or "", _table_counts(con, run_id),
                          _top_reasons(con, batch_id))


def _table_counts(con, run_id: str) -> list[dict]:
    cur = con.execute(
        "SELECT table_name, rows_read, rows_loaded, rows_quarantined, rows_flagged "
        "FROM ops.table_counts WHERE run_id = ? ORDER BY table_name", [run_id])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def _top_reasons(con, batch_id: str, limit: int = 10) -> list[dict]:
    cur = con.execute(
        "SELECT table_name, rule_id, column_name, count(*) AS n FROM ops.quarantine "
        "WHERE batch_id = ? GROUP BY ALL ORDER BY n DESC, table_name LIMIT ?",
        [batch_id, limit])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

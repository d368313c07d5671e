"""`oligo run`: a thin launcher of the `process_batch` job, one in-process run per batch.

Everything a run does and records lives in the Dagster graph, the same for the sensor and
the UI: the delivery gate (`ops/delivery`: unchanged, refused unless replace), the run lock
and the run report (the `warehouse` resource), the ops refresh. This module registers the
batch's partition, executes the job, and reads back the run report.

One decision is taken before Dagster starts, as the delivery sensor does: a batch whose
files have the signature of its published delivery (same parameters, no replace) needs no
run. Starting Dagster for it would cost seconds of imports and events to read the same
files again; the gate's own function decides (pipelines/delivery_gate.py). A batch named
with `--batch` gets an `unchanged` run report saying so; a scan of every folder (a timer)
records nothing for it.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.clinical.parameters import ClinicalParameters
from pipelines.delivery import discover_batches
from pipelines.ingest.files import batch_folder
from pipelines.ops_store import check_working_warehouse
from pipelines.run_lock import run_lock
from pipelines.settings import is_true, paths

JOB_NAME = "process_batch"


class InvalidRunConfig(ValueError):
    """Dagster refused the run configuration (one line)."""


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
        outcomes = []
        for b in batch_ids:
            unchanged = None if replace or overrides or not _secret_usable(demo_mode) else (
                _unchanged_before_dagster(exports_dir, b, recorded=bool(batch_id)))
            outcomes.append(unchanged or _run_one(exports_dir, b, replace, dict(overrides or {}),
                                                  dialect, demo_mode))
        return outcomes


def _secret_usable(demo_mode: bool) -> bool:
    """The gate checks the pseudonymisation secret before anything else: without a usable
    one, the run (not this shortcut) reports it, whatever the delivery."""
    from pipelines.ingest.pseudonym import MissingSecret, checked_pseudonymizer, configured_secret

    demo = demo_mode or is_true(os.environ.get("OLIGO_DEMO_MODE"))  # as RegistrySource
    try:
        checked_pseudonymizer(configured_secret(), demo)
    except MissingSecret:
        return False
    return True


def _unchanged_before_dagster(exports_dir: Path, batch_id: str,
                              recorded: bool) -> RunOutcome | None:
    """The delivery gate's decision with default parameters and no replace, taken on the
    working warehouse's ops.batches before Dagster starts; the outcome when `unchanged`,
    else None (the run decides). A batch named on the command line gets its run report
    (`oligo status` shows it was checked); one found by scanning every folder, as the
    sensor does, gets none. One connection throughout: opening a large warehouse costs."""
    from pipelines.delivery import batch_signature
    from pipelines.delivery_gate import decide, same_parameters_published
    from pipelines.ops_store import batch_row_unbound

    if not paths().warehouse.exists():
        return None
    with duckdb.connect(str(paths().warehouse)) as con:
        try:
            existing = batch_row_unbound(con, batch_id)
        except duckdb.CatalogException:  # no ops tables yet: nothing was published
            return None
        parameter_set = ClinicalParameters().parameter_set
        if not same_parameters_published(existing, batch_id, parameter_set):
            return None  # never published, or not with these parameters: no need to hash
        signature = batch_signature(batch_folder(exports_dir, batch_id))
        if decide(existing, signature, True, False, batch_id)[0] != "unchanged":
            return None
        message = "identical batch already published; nothing changed (no Dagster run needed)"
        if not recorded:
            return RunOutcome("-", batch_id, "unchanged", message)
        return RunOutcome(_record_unchanged(con, batch_id, parameter_set, message), batch_id,
                          "unchanged", message)


def _record_unchanged(con, batch_id: str, parameter_set: str, message: str) -> str:
    import uuid

    from pipelines.ops_snapshot import refresh_ops_snapshot
    from pipelines.ops_store import record_finished_run
    from pipelines.provenance import code_version

    run_id = str(uuid.uuid4())
    record_finished_run(con, run_id, batch_id, parameter_set, code_version(), "unchanged",
                        message)
    refresh_ops_snapshot(con)
    return run_id


def run_config(exports_dir: Path, overrides: dict, dialect: str, demo_mode: bool) -> dict:
    from pipelines.resources import DEMO_ENV, SECRET_ENV, SECRET_FILE_ENV

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
    # Dagster's imports only when a run starts.
    from dagster import DagsterInvalidConfigError

    from pipelines.dagster_home import dagster_instance
    from pipelines.definitions import defs
    from pipelines.resources import declare_environment_defaults
    from pipelines.run_record import BATCH_TAG, REPLACE_TAG

    declare_environment_defaults()
    # Disposed at the end: the event log's kept connections close and checkpoint.
    with dagster_instance() as instance:
        if not instance.has_dynamic_partition("batches", batch_id):
            instance.add_dynamic_partitions("batches", [batch_id])
        try:
            result = defs.resolve_job_def(JOB_NAME).execute_in_process(
                run_config=run_config(exports_dir, overrides, dialect, demo_mode),
                instance=instance, partition_key=batch_id, raise_on_error=False,
                tags={BATCH_TAG: batch_id, "oligo/launched_by": "oligo run",
                      **({REPLACE_TAG: "true"} if replace else {})},
            )
        except DagsterInvalidConfigError as exc:
            first = next((e.message for e in exc.errors), str(exc).splitlines()[0])
            raise InvalidRunConfig(f"invalid run configuration: {first}") from None
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

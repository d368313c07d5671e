"""The run report of every run of the Dagster graph, whoever launched it (the sensor, the UI,
`oligo run`): held by the `warehouse` resource for the whole (in-process) run.

At the start: take the run lock, mark runs that died without finishing as failed (holding
the lock proves nobody else is running), open the `ops.runs` row. At the end: classify the
outcome from the run's own events (published, unchanged, blocked_dq, refused, failed),
record the step durations, and refresh published/ops.duckdb, whatever happened.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from pipelines.clinical.parameters import ClinicalParameters
from pipelines.ops_snapshot import connect, refresh_ops_snapshot, working_connection
from pipelines.ops_store import (
    finish_run,
    record_refused_counts,
    record_step,
    start_run,
)
from pipelines.provenance import code_version
from pipelines.run_lock import run_lock
from pipelines.settings import paths

BATCH_TAG = "oligo/batch_id"
PARTITION_TAG = "dagster/partition"
REPLACE_TAG = "oligo/replace"  # "true": a changed delivery replaces the published batch
PUBLISH_KEY = dg.AssetKey(["published", "snapshot"])
STALE_MESSAGE = ("the run stopped without finishing (process killed or machine stopped); "
                 "marked failed when run {run_id} started. Nothing it wrote was published; "
                 "start the batch again with `oligo run --batch {batch_id}`")


def wants_replace(run: dg.DagsterRun) -> bool:
    return run.tags.get(REPLACE_TAG, "").strip().lower() in ("1", "true", "yes")


def batch_of(run: dg.DagsterRun) -> str | None:
    return run.tags.get(BATCH_TAG) or run.tags.get(PARTITION_TAG)


def run_parameters(run: dg.DagsterRun) -> ClinicalParameters:
    """The clinical parameters of the run, from its run config (default when none)."""
    config = (run.run_config or {}).get("resources", {}).get("clinical_settings", {})
    overrides = (config.get("config") or {}).get("overrides") or {}
    try:
        return ClinicalParameters().with_overrides(dict(overrides))
    except ValueError:
        return ClinicalParameters()  # the asset reports the bad override itself


@contextlib.contextmanager
def recorded_run(context: dg.InitResourceContext, warehouse: Path, lock_file: Path,
                 lock_wait_seconds: float) -> Iterator[None]:
    run = context.run
    batch_id = batch_of(run)
    with run_lock(lock_file, wait_seconds=lock_wait_seconds):
        with connect(warehouse) as con:
            mark_stale_runs(con, context.instance, run.run_id)
            if not con.execute("SELECT 1 FROM ops.runs WHERE run_id = ?",
                               [run.run_id]).fetchone():
                start_run(con, run.run_id, batch_id, run_parameters(run).parameter_set,
                          code_version())
            refresh_ops_snapshot(con)  # `oligo status` and the dashboards see it running
        try:
            yield
        finally:
            with connect(warehouse) as con:
                close_run(con, context.instance, run.run_id, batch_id)
                if batch_id:
                    record_refused_reads(con, run, batch_id)
                refresh_ops_snapshot(con)


def mark_stale_runs(con, instance: dg.DagsterInstance, current_run_id: str) -> list[str]:
    """Every other `running` row is stale: its process died (we hold the run lock)."""
    stale = con.execute("SELECT run_id, batch_id FROM ops.runs WHERE status = 'running' "
                        "AND run_id <> ?", [current_run_id]).fetchall()
    for run_id, batch_id in stale:
        message = STALE_MESSAGE.format(run_id=current_run_id, batch_id=batch_id or "<id>")
        finish_run(con, run_id, "failed", message, dagster_run_id=run_id)
        dagster_run = instance.get_run_by_id(run_id)
        if dagster_run is not None and not dagster_run.is_finished:
            instance.report_run_failed(dagster_run, message)
    return [run_id for run_id, _ in stale]


def close_run(con, instance: dg.DagsterInstance, run_id: str, batch_id: str | None) -> None:
    row = con.execute("SELECT status FROM ops.runs WHERE run_id = ?", [run_id]).fetchone()
    for stats in instance.get_run_step_stats(run_id):
        record_step(con, run_id, stats.step_key, str(stats.status.value if stats.status else ""),
                    _ts(stats.start_time), _ts(stats.end_time))
    if row and row[0] == "running":  # the delivery gate may have decided already
        status, message = classify(instance, run_id)
        if status == "blocked_dq":
            message = blocked_message(con, run_id) or message
        finish_run(con, run_id, status, message, dagster_run_id=run_id)
    if batch_id:
        status = con.execute("SELECT status FROM ops.runs WHERE run_id = ?",
                             [run_id]).fetchone()[0]
        # A batch published before keeps its published state whatever this run did.
        con.execute("UPDATE ops.batches SET status = CASE WHEN published_at IS NOT NULL "
                    "THEN 'published' ELSE ? END WHERE batch_id = ?", [status, batch_id])


def record_refused_reads(con, run: dg.DagsterRun, batch_id: str) -> None:
    """A refused run records what it read per table (nothing loaded), so its row counts
    reconcile like any other run's (docs/reliability.md)."""
    from pipelines.contract import dialect as contract_dialect
    from pipelines.ingest.batch import rows_read_per_table
    from pipelines.ingest.files import batch_folder

    row = con.execute("SELECT status FROM ops.runs WHERE run_id = ?", [run.run_id]).fetchone()
    if not row or row[0] != "refused":
        return
    config = ((run.run_config or {}).get("resources", {}).get("registry", {})
              .get("config") or {})
    exports = config.get("exports_dir")
    exports = Path(exports) if isinstance(exports, str) and exports else paths().exports
    dialect_name = config.get("dialect") if isinstance(config.get("dialect"), str) else None
    try:
        batch_dir = batch_folder(exports, batch_id)
    except ValueError:
        return  # the id left exports: nothing was read
    if batch_dir.is_dir():
        record_refused_counts(con, run.run_id, batch_id, rows_read_per_table(
            batch_dir, contract_dialect(dialect_name or "default")))


def _events(instance: dg.DagsterInstance, run_id: str, kinds: set) -> list[dg.DagsterEvent]:
    records = instance.get_records_for_run(run_id, of_type=kinds).records
    return [r.event_log_entry.dagster_event for r in records if r.event_log_entry.dagster_event]


def classify(instance: dg.DagsterInstance, run_id: str) -> tuple[str, str]:
    """The outcome of a run from its events: what failed first, else what it published."""
    kinds = dg.DagsterEventType
    failures = _events(instance, run_id, {kinds.STEP_FAILURE})
    for event in failures:
        for error in error_chain(event.step_failure_data.error):
            if error.cls_name == "BatchRefused":  # the defects, one per line
                return "refused", _text(error, whole=True)
    checks = [e.event_specific_data for e in
              _events(instance, run_id, {kinds.ASSET_CHECK_EVALUATION})]
    failed_checks = sorted({c.check_name for c in checks
                            if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR})
    if failed_checks:
        return "blocked_dq", f"blocking data-quality checks failed: {', '.join(failed_checks)}"
    if failures:
        first = failures[0]
        user = first.step_failure_data.user_failure_data
        if user is not None and user.description:
            return "failed", user.description
        cause = _text(list(error_chain(first.step_failure_data.error))[-1])
        return "failed", f"{first.step_key}: {cause}{_budget_hint(cause)}"
    published = [e.event_specific_data.materialization for e in
                 _events(instance, run_id, {kinds.ASSET_MATERIALIZATION})]
    snapshot = [m for m in published if m.asset_key == PUBLISH_KEY]
    if snapshot:
        kept = snapshot[-1].metadata.get("frozen_file_kept")
        if kept is not None and kept.value:
            return "unchanged", ("the batch's frozen file was kept (published before); "
                                 "replace it with `oligo run --batch <id> --replace`")
        return "published", "marts published"
    return "unchanged", (f"{len(published)} assets materialised; the published files are "
                         "unchanged (the publish step was not part of this run)")


def _budget_hint(cause: str) -> str:
    """What to do when DuckDB ran out of the memory the run's budget gives it."""
    if "Out of Memory Error" not in cause:
        return ""
    from pipelines.settings import duckdb_memory_limit, memory_budget_mb

    return (f" (the run's memory budget OLIGO_MEMORY_BUDGET_MB={memory_budget_mb()} gives "
            f"DuckDB {duckdb_memory_limit()}: raise it, or free memory, and run again; "
            "docs/benchmarks.md, Memory)")


def error_chain(error):
    """A serialised error and its causes, outermost first."""
    while error is not None:
        yield error
        error = error.cause


def _text(error, whole: bool = False) -> str:
    """The exception's message without its class name and traceback."""
    message = (error.message or "").strip()
    prefix = f"{error.cls_name}: "
    if prefix in message:
        message = message.split(prefix, 1)[1].strip()
    if not message:
        return error.cls_name
    return message if whole else message.splitlines()[0]


def blocked_message(con, run_id: str) -> str | None:
    """Name the blocking checks that failed in this run, from dq.check_results."""
    exists = con.execute("SELECT count(*) FROM information_schema.tables "
                         "WHERE table_schema = 'dq' AND table_name = 'check_results'"
                         ).fetchone()[0]
    if not exists:
        return None
    rows = con.execute(
        "SELECT check_id, failing_count FROM dq.check_results WHERE run_id = ? "
        "AND NOT passed AND severity = 'block' ORDER BY check_id", [run_id]).fetchall()
    if not rows:
        return None
    listed = ", ".join(f"{check} ({n} rows)" for check, n in rows[:10])
    more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
    return f"blocking data-quality checks failed: {listed}{more}"


def record_failure(warehouse: Path, lock_file: Path, run: dg.DagsterRun, message: str) -> bool:
    """For the run-failure sensor: a run that failed before or outside its steps (config,
    resource start, killed and marked failed by run monitoring) gets its report. Returns
    whether the row changed."""
    with run_lock(lock_file, wait_seconds=30), connect(warehouse) as con:
        row = con.execute("SELECT status FROM ops.runs WHERE run_id = ?",
                          [run.run_id]).fetchone()
        if row and row[0] != "running":
            return False  # the run recorded its own outcome
        if not row:
            start_run(con, run.run_id, batch_of(run), run_parameters(run).parameter_set,
                      code_version())
        finish_run(con, run.run_id, "failed", message, dagster_run_id=run.run_id)
        refresh_ops_snapshot(con)
    return True


def _ts(epoch: float | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).replace(tzinfo=None) if epoch else None


__all__ = ["connect", "refresh_ops_snapshot", "working_connection"]  # their home: ops_snapshot

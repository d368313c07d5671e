"""`oligo run`: one Dagster run per batch, in-process (no daemon), under the run lock.

Decides first whether the batch needs a run at all (identical re-delivery: nothing changes;
same id with other checksums: refused unless replace), then executes the `process_batch`
job for the batch's partition, records the run report and refreshes published/ops.duckdb
whatever the outcome.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.clinical.parameters import ClinicalParameters
from pipelines.contract import CONTRACT_VERSION, TABLES_BY_NAME
from pipelines.contract import dialect as contract_dialect
from pipelines.dagster_home import dagster_instance
from pipelines.ingest.batch import rows_read_per_table
from pipelines.ingest.files import batch_folder, is_regular_file
from pipelines.ops_store import (
    CURRENT_BATCH_SQL,
    batch_row,
    check_working_warehouse,
    ensure_ops_schema,
    finish_run,
    now,
    record_refused_counts,
    record_step,
    start_run,
    upsert_batch,
)
from pipelines.provenance import code_version
from pipelines.publish import (
    publish_files,
    remove_stale_temporaries,
    temporary_path,
    write_database_copy,
)
from pipelines.run_lock import run_lock
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


def batch_signature(batch_dir: Path) -> str:
    """sha256 over every file's name and sha256: equal signatures mean an identical delivery."""
    digest = hashlib.sha256()
    for file in sorted(p for p in batch_dir.iterdir() if is_regular_file(p)):
        file_hash = hashlib.sha256()
        with file.open("rb") as handle:
            for block in iter(lambda h=handle: h.read(1 << 20), b""):
                file_hash.update(block)
        digest.update(f"{file.name}:{file_hash.hexdigest()}\n".encode())
    return digest.hexdigest()


def is_batch_folder(folder: Path) -> bool:
    """A folder holding a manifest or a file named after a contract table."""
    return folder.is_dir() and any(
        f.name == "manifest.json" or f.stem in TABLES_BY_NAME for f in folder.iterdir()
    )


def discover_batches(exports_dir: Path) -> list[str]:
    """Batch folders, oldest cut-off first (manifest cut-off, else the folder name)."""
    def cutoff(folder: Path) -> str:
        manifest = folder / "manifest.json"
        with contextlib.suppress(OSError, ValueError, AttributeError):
            return str(json.loads(manifest.read_text()).get("data_cutoff_date") or folder.name)
        return folder.name

    folders = [p for p in exports_dir.iterdir() if is_batch_folder(p)] if exports_dir.exists() else []
    return [p.name for p in sorted(folders, key=lambda p: (cutoff(p), p.name))]


@contextlib.contextmanager
def working_connection():
    path = paths().warehouse
    check_working_warehouse(path, paths().published)  # corrupt or missing: one clear line
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        ensure_ops_schema(con)
        yield con
    finally:
        con.close()


def refresh_ops_snapshot(con: duckdb.DuckDBPyConnection) -> None:
    """Copy every ops.* and dq.* table into a new published/ops.duckdb, swapped atomically."""
    tables = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_schema IN ('ops', 'dq') "
        "ORDER BY 1, 2"
    ).fetchall()
    target = paths().ops
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target.parent)
    tmp = temporary_path(target)
    provenance = (
        "CREATE TABLE {db}.meta.provenance AS SELECT ?::VARCHAR AS contract_version, "
        "?::VARCHAR AS code_version, ?::TIMESTAMP AS published_at, "
        f"({CURRENT_BATCH_SQL}) AS current_batch_id",
        [CONTRACT_VERSION, code_version(), now()],
    )
    write_database_copy(con, tmp, tables,
                        extra_statements=[("CREATE SCHEMA {db}.meta", []), provenance])
    publish_files([(tmp, target)])


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
    params = ClinicalParameters().with_overrides(dict(overrides or {}))  # fail fast on typos
    with run_lock(paths().lock_file):
        batch_ids = [batch_id] if batch_id else discover_batches(exports_dir)
        if not batch_ids:
            raise FileNotFoundError(f"no batch folder under {exports_dir}")
        return [
            _run_one(exports_dir, b, replace, dict(overrides or {}), params, dialect, demo_mode)
            for b in batch_ids
        ]


def _run_one(exports_dir, batch_id, replace, overrides, params, dialect, demo_mode) -> RunOutcome:
    batch_dir = batch_folder(exports_dir, batch_id)  # refuses ids and folders leaving exports
    run_id = str(uuid.uuid4())
    signature = batch_signature(batch_dir)
    with working_connection() as con:
        start_run(con, run_id, batch_id, params.parameter_set, code_version())
        existing = batch_row(con, batch_id)
        if params.parameter_set == "default":
            snapshot = paths().batch_snapshot(batch_id)
        else:
            snapshot = paths().sensitivity_snapshot(batch_id, params.parameter_set)
        same_parameters = bool(existing and existing.get("published_at")) and (
            _published_parameter_set(snapshot) == params.parameter_set
        )
        if existing and existing["signature"] == signature and same_parameters:
            message = "identical batch already published; nothing changed"
            finish_run(con, run_id, "unchanged", message)
            refresh_ops_snapshot(con)
            return RunOutcome(run_id, batch_id, "unchanged", message)
        was_published = bool(existing and existing.get("published_at"))
        if was_published and existing["signature"] != signature and not replace:
            message = (f"batch {batch_id} was loaded before with different checksums; "
                       "refused (use --replace to replace it)")
            record_refused_counts(con, run_id, batch_id,
                                  rows_read_per_table(batch_dir, contract_dialect(dialect)))
            finish_run(con, run_id, "refused", message)
            refresh_ops_snapshot(con)
            return RunOutcome(run_id, batch_id, "refused", message)
        upsert_batch(
            con, batch_id=batch_id, signature=signature, data_cutoff_date=None,
            cutoff_source=None, contract_version=None, registry=None,
            first_loaded_at=(existing or {}).get("first_loaded_at") or now(),
            published_at=(existing or {}).get("published_at"), status="loading",
        )
    instance = dagster_instance()
    if not instance.has_dynamic_partition("batches", batch_id):
        instance.add_dynamic_partitions("batches", [batch_id])
    from pipelines.definitions import defs

    job = defs.resolve_job_def(JOB_NAME)
    run_config = {
        "resources": {
            "registry": {"config": {"exports_dir": str(exports_dir), "dialect": dialect,
                                    "demo_mode": demo_mode}},
            "clinical_settings": {"config": {"overrides": overrides}},
        },
        # Dagster's step-by-step debug log stays in its event log; the console gets problems.
        "loggers": {"console": {"config": {"log_level": os.environ.get("OLIGO_LOG_LEVEL",
                                                                       "WARNING")}}},
    }
    result = job.execute_in_process(
        run_config=run_config, instance=instance, partition_key=batch_id,
        raise_on_error=False, run_id=run_id, tags={"oligo/batch_id": batch_id},
    )
    status, message = classify_result(result)
    with working_connection() as con:
        if status == "blocked_dq":
            message = blocked_message(con, run_id) or message
        for stats in instance.get_run_step_stats(run_id):
            record_step(con, run_id, stats.step_key, str(stats.status.value if stats.status else ""),
                        _ts(stats.start_time), _ts(stats.end_time))
        # A batch published before keeps its published state whatever this run did.
        con.execute("UPDATE ops.batches SET status = CASE WHEN published_at IS NOT NULL "
                    "THEN 'published' ELSE ? END WHERE batch_id = ?", [status, batch_id])
        if status == "refused":  # the counts of what was read, nothing loaded
            record_refused_counts(con, run_id, batch_id,
                                  rows_read_per_table(batch_dir, contract_dialect(dialect)))
        finish_run(con, run_id, status, message, dagster_run_id=run_id)
        refresh_ops_snapshot(con)
        counts = _table_counts(con, run_id)
        reasons = _top_reasons(con, batch_id)
    return RunOutcome(run_id, batch_id, status, message, counts, reasons)


def classify_result(result: dg.ExecuteInProcessResult) -> tuple[str, str]:
    failed_checks = [
        e for e in result.get_asset_check_evaluations()
        if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    ]
    if result.success and not failed_checks:
        return "published", "marts published"
    failures = result.get_step_failure_events()
    for event in failures:
        error = event.step_failure_data.error
        cause = error
        while cause is not None:
            if cause.cls_name == "BatchRefused":
                return "refused", cause.message.strip()
            cause = cause.cause
    if failed_checks:
        names = ", ".join(sorted({e.check_name for e in failed_checks})[:10])
        return "blocked_dq", f"blocking data-quality checks failed: {names}"
    if failures:
        error = failures[0].step_failure_data.error
        while error is not None and error.cause is not None:  # the root cause says most
            error = error.cause
        return "failed", f"{failures[0].step_key}: {error.message.strip()}" if error else "failed"
    return "failed", "run did not complete"


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


def _published_parameter_set(snapshot: Path) -> str | None:
    if not snapshot.exists():
        return None
    with duckdb.connect(str(snapshot), read_only=True) as con:
        row = con.execute("SELECT parameter_set FROM meta.provenance").fetchone()
    return row[0] if row else None


def _ts(epoch: float | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).replace(tzinfo=None) if epoch else None


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

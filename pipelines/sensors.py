"""What runs the warehouse unattended: the delivery sensor and the run-failure sensor.

The delivery sensor watches `<OLIGO_HOME>/exports`. A complete new batch folder (manifest
with matching checksums, or files quiet for `OLIGO_DELIVERY_QUIET_SECONDS`, default 120)
gets its partition and a run of `process_batch` keyed `<batch_id>:<signature>`: Dagster
never launches two runs with one key, so an unchanged re-delivery does not run twice, and
a changed one gets a run whose delivery gate refuses and records it (unless replace).

The run-failure sensor completes the run report of a run that failed outside its steps
(bad config, killed and marked failed) and calls the optional notification hook.
"""


import contextlib
import json
import os

import dagster as dg
import duckdb

from pipelines.assets.partitions import BATCHES
from pipelines.delivery import batch_signature, discover_batches, fingerprint, readiness
from pipelines.resources import Notifier
from pipelines.run_record import BATCH_TAG, batch_of, record_failure
from pipelines.settings import paths

QUIET_ENV = "OLIGO_DELIVERY_QUIET_SECONDS"
DEFAULT_QUIET_SECONDS = 120
SIGNATURE_TAG = "oligo/signature"
SENSOR_INTERVAL_SECONDS = 5  # a tick only lists the folder; hashing happens on change


def published_signatures() -> dict[str, str]:
    """{batch_id: signature} of the published batches, from published/ops.duckdb."""
    ops = paths().ops
    if not ops.is_file():
        return {}
    with contextlib.suppress(duckdb.Error), duckdb.connect(str(ops), read_only=True) as con:
        return dict(con.execute("SELECT batch_id, signature FROM ops.ops.batches "
                                "WHERE published_at IS NOT NULL").fetchall())
    return {}


def delivery_requests(context: dg.SensorEvaluationContext, cursor: dict) -> dg.SensorResult:
    exports = paths().exports
    quiet = float(os.environ.get(QUIET_ENV, DEFAULT_QUIET_SECONDS))
    published = published_signatures()
    requests, new_partitions, waiting = [], [], []
    for batch_id in discover_batches(exports):
        folder = exports / batch_id
        seen = cursor.get(batch_id) or {}
        current = fingerprint(folder)
        if seen.get("fingerprint") == current:
            continue  # nothing changed since it was requested
        ready = readiness(folder, quiet)
        if not ready.ready:
            waiting.append(f"{batch_id}: {ready.reason}")
            continue
        signature = batch_signature(folder)
        cursor[batch_id] = {"fingerprint": current, "signature": signature}
        if published.get(batch_id) == signature:
            continue  # published already (by `oligo run`, say)
        if not context.instance.has_dynamic_partition(BATCHES.name, batch_id):
            new_partitions.append(batch_id)
        requests.append(dg.RunRequest(
            run_key=f"{batch_id}:{signature}", partition_key=batch_id,
            tags={BATCH_TAG: batch_id, SIGNATURE_TAG: signature}))
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[BATCHES.build_add_request(new_partitions)]
        if new_partitions else None,
        cursor=json.dumps(cursor, sort_keys=True),
        skip_reason=None if requests else ("; ".join(waiting) or "no new delivery"),
    )


@dg.sensor(
    name="batch_delivery_sensor",
    job_name="process_batch",
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Watches <OLIGO_HOME>/exports: a complete new batch folder registers its "
    "partition and requests one run keyed by batch id and signature.",
)
def batch_delivery_sensor(context: dg.SensorEvaluationContext):
    return delivery_requests(context, json.loads(context.cursor or "{}"))


def failure_report(run: dg.DagsterRun, dagster_message: str) -> dict:
    """Complete the run report; the report's own message says most."""
    where = paths()
    record_failure(where.warehouse, where.lock_file, run, dagster_message)
    message, status = dagster_message, "failed"
    with contextlib.suppress(duckdb.Error), duckdb.connect(str(where.ops),
                                                           read_only=True) as con:
        row = con.execute("SELECT status, message FROM ops.ops.runs WHERE run_id = ?",
                          [run.run_id]).fetchone()
        if row:
            status, message = row[0], row[1] or dagster_message
    return {"run_id": run.run_id, "job": run.job_name, "batch_id": batch_of(run) or "",
            "status": status, "message": message,
            "next_step": "see `oligo status` and docs/operations.md (On failure)"}


@dg.run_failure_sensor(
    name="run_failure_report",
    # `oligo run` executes in-process: its runs carry no code-location origin and would be
    # missed otherwise. This instance serves this one code location.
    monitor_all_code_locations=True,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    description="A failed run: completes its run report (ops.runs, published/ops.duckdb) "
    "and calls the notification hook (webhook and/or SMTP) when configured.",
)
def run_failure_report(context: dg.RunFailureSensorContext, notifier: Notifier):
    body = failure_report(context.dagster_run, context.failure_event.message or "run failed")
    subject = f"oligo warehouse: run {body['status']} for batch {body['batch_id'] or '-'}"
    for line in notifier.send(subject, body):
        context.log.info(line)

"""Freshness: a check on `published/snapshot` that fails when no new batch was published for
`OLIGO_FRESHNESS_DAYS` days (default 35: registries deliver about monthly), run by a daily
schedule, and alerting through the notification hook when it fails."""


import contextlib
import datetime as dt
import os

import dagster as dg
import duckdb

from pipelines.resources import Notifier
from pipelines.run_record import PUBLISH_KEY
from pipelines.settings import paths

DAYS_ENV = "OLIGO_FRESHNESS_DAYS"
DEFAULT_DAYS = 35
SCHEDULE_CRON = "0 6 * * *"


def last_published_at() -> dt.datetime | None:
    ops = paths().ops
    if not ops.is_file():
        return None
    with contextlib.suppress(duckdb.Error), duckdb.connect(str(ops), read_only=True) as con:
        return con.execute("SELECT max(published_at) FROM ops.ops.batches").fetchone()[0]
    return None


def freshness_result(now: dt.datetime | None = None) -> dg.AssetCheckResult:
    max_days = int(os.environ.get(DAYS_ENV, DEFAULT_DAYS))
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    latest = last_published_at()
    age_days = None if latest is None else (now - latest).total_seconds() / 86400
    passed = age_days is not None and age_days <= max_days
    if latest is None:
        text = "No batch has been published yet."
    else:
        text = (f"The latest batch was published **{age_days:.1f} days** ago "
                f"({latest:%Y-%m-%d %H:%M} UTC); the limit is **{max_days} days**.")
    if not passed:
        text += (" Ask the registry for its next export, or check the exports folder and "
                 "`oligo status` (docs/operations.md).")
    return dg.AssetCheckResult(
        passed=passed, severity=dg.AssetCheckSeverity.WARN, description=text,
        metadata={"last_published_at": str(latest or ""), "max_days": max_days,
                  "days_since_publish": round(age_days, 2) if age_days is not None else -1,
                  "result": dg.MetadataValue.md(text)})


@dg.asset_check(
    asset=PUBLISH_KEY,
    name="batch_freshness",
    blocking=False,
    description=f"A new batch was published within {DAYS_ENV} days (default {DEFAULT_DAYS}).",
)
def batch_freshness(context: dg.AssetCheckExecutionContext, notifier: Notifier):
    result = freshness_result()
    if not result.passed:
        for line in notifier.send("oligo warehouse: no new batch published",
                                  {"message": result.description}):
            context.log.info(line)
    return result


freshness_job = dg.define_asset_job(
    "freshness", selection=dg.AssetSelection.checks(batch_freshness),
    description="The freshness check of the published batches.")

freshness_schedule = dg.ScheduleDefinition(
    name="daily_freshness", job=freshness_job, cron_schedule=SCHEDULE_CRON,
    default_status=dg.DefaultScheduleStatus.RUNNING, execution_timezone="UTC",
    description="Every day at 06:00 UTC: has a new batch been published recently?")

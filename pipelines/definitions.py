"""Assembles the Dagster definitions; nothing else lives here.

The executor is in-process for every job, the UI's asset jobs included: steps then share
one process and open `warehouse.duckdb` one after another (DuckDB allows one writing
process), and the run lock and run report span the whole run.
"""

import dagster as dg

from pipelines.assets.clinical import clinical_marts
from pipelines.assets.delivery import delivery
from pipelines.assets.ingest import quarantine, raw_tables, staging_tables
from pipelines.assets.partitions import BATCHES
from pipelines.assets.publishing import published_snapshot
from pipelines.freshness import batch_freshness, freshness_job, freshness_schedule
from pipelines.quality.checks import quality_checks
from pipelines.resources import declare_environment_defaults, default_resources
from pipelines.sensors import batch_delivery_sensor, run_failure_report
from pipelines.settings import asset_owners

declare_environment_defaults()

ASSETS = dg.map_asset_specs(
    lambda spec: spec.replace_attributes(owners=asset_owners()),
    [delivery, raw_tables, quarantine, staging_tables, clinical_marts, published_snapshot],
)

process_batch = dg.define_asset_job(
    "process_batch",
    selection=dg.AssetSelection.all() - dg.AssetSelection.checks(batch_freshness),
    partitions_def=BATCHES,
    executor_def=dg.in_process_executor,
    description="Load one registry batch, derive its marts and publish them.",
)

defs = dg.Definitions(
    assets=ASSETS,
    # Two Dagster checks per asset (blocking, warning), each listing its failing checks; every
    # check keeps its own row in dq.check_results. One Dagster event per check cost ~30 s a
    # run in SQLite writes (docs/data-quality.md, Speed).
    asset_checks=[*quality_checks(results_per="asset"), batch_freshness],
    jobs=[process_batch, freshness_job],
    schedules=[freshness_schedule],
    sensors=[batch_delivery_sensor, run_failure_report],
    resources=default_resources(),
    executor=dg.in_process_executor,
)

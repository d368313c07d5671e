"""Assembles the Dagster definitions; nothing else lives here."""

import dagster as dg

from pipelines.assets.clinical import oligometastatic_episodes, outcomes, treatments
from pipelines.assets.ingest import quarantine, raw_tables, staging_tables
from pipelines.assets.partitions import BATCHES
from pipelines.assets.publishing import published_snapshot
from pipelines.quality.checks import quality_checks
from pipelines.resources import default_resources

ASSETS = [raw_tables, quarantine, staging_tables, oligometastatic_episodes, treatments,
          outcomes, published_snapshot]

process_batch = dg.define_asset_job(
    "process_batch",
    selection=dg.AssetSelection.all(),
    partitions_def=BATCHES,
    executor_def=dg.in_process_executor,
    description="Load one registry batch, derive its marts and publish them.",
)

defs = dg.Definitions(
    assets=ASSETS,
    # Two Dagster checks per asset (blocking, warning), each listing its failing checks; every
    # check keeps its own row in dq.check_results. One Dagster event per check cost ~30 s a
    # run in SQLite writes (docs/data-quality.md, Speed).
    asset_checks=quality_checks(results_per="asset"),
    jobs=[process_batch],
    resources=default_resources(),
)

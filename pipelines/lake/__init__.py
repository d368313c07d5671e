"""The DuckLake publish target: batches as snapshots of a DuckLake whose catalog is in
PostgreSQL, read by many readers on many hosts (docs/deployment.md).

The rest of the code base touches this package at three places only:
- after a successful embedded publish, `publish_batch(frozen_file)` (pipelines.assets);
- `pipelines.safe_sql` resolves `published_address()` and opens `open_snapshot()` for
  every reader, and refuses `refused_identifier()` names in queries;
- `pipelines.dagster_home` appends `dagster_storage_yaml()` to dagster.yaml.
"""

from pipelines.lake.config import LakeMisconfigured, lake_target, target_is_ducklake
from pipelines.lake.dagster_storage import dagster_storage_yaml
from pipelines.lake.guard import refused_identifier
from pipelines.lake.publish import publish_batch

__all__ = [
    "LakeMisconfigured",
    "dagster_storage_yaml",
    "lake_target",
    "publish_batch",
    "refused_identifier",
    "target_is_ducklake",
]

"""Clinical derivations as assets: read staging, call the pure Polars rules, write marts."""

from __future__ import annotations

import dagster as dg
import polars as pl

from pipelines.assets.partitions import BATCHES
from pipelines.assets.tables import read_table, table_metadata, write_table
from pipelines.contract import TABLES
from pipelines.faults import fault_point
from pipelines.resources import ClinicalSettings, PipelineLock, Warehouse

STAGING_KEYS = [dg.AssetKey(["staging", t.name]) for t in TABLES]

EPISODE_OUTPUTS = {
    "nsclc_population": "clinical",
    "episode_lesions": "clinical",
    "omd_episodes": "marts",
    "disease_assessments": "marts",
    "cohort_attrition": "marts",
}


def read_staging(con) -> dict[str, pl.LazyFrame]:
    return {t.name: read_table(con, "staging", t.name) for t in TABLES}


def _write_all(con, outputs: dict[str, pl.LazyFrame], layers: dict[str, str]):
    frames = pl.collect_all([outputs[name] for name in layers])
    for (name, layer), frame in zip(layers.items(), frames, strict=True):
        write_table(con, layer, name, frame)
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey([layer, name]), metadata=table_metadata(con, layer, name)
        )


@dg.multi_asset(
    specs=[
        dg.AssetSpec([layer, name], deps=STAGING_KEYS, group_name="episodes")
        for name, layer in EPISODE_OUTPUTS.items()
    ],
    partitions_def=BATCHES,
    description="ESTRO/EORTC 2020 episodes and EORTC-LCG 2019 flag (clinical-rules 1-4).",
)
def oligometastatic_episodes(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    clinical_settings: ClinicalSettings,
    pipeline_lock: PipelineLock,
):
    from pipelines.clinical.episodes import derive_episodes

    fault_point("derive")
    params = clinical_settings.parameters()
    with warehouse.get_connection() as con:
        outputs = derive_episodes(read_staging(con), params)
        yield from _write_all(con, outputs, EPISODE_OUTPUTS)

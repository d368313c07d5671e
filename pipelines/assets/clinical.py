"""Clinical derivations as assets: read staging, call the pure Polars rules, write marts.

Which tables each multi-asset writes, their layer, keys and docs come from the one mart
registry (pipelines/marts_catalog.py); each asset gets its own description and kinds."""


import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from pipelines.assets.attributes import DUCKDB, GX, POLARS, source_version
from pipelines.assets.partitions import BATCHES
from pipelines.assets.patient_partitions import (
    Partition,
    PartitionReader,
    plan_partitions,
    writing,
)
from pipelines.assets.tables import table_metadata
from pipelines.contract import TABLES
from pipelines.faults import fault_point
from pipelines.marts_catalog import (
    EPISODES,
    MARTS_BY_NAME,
    OUTCOMES,
    TREATMENTS,
    built_by,
    table_doc,
)
from pipelines.resources import ClinicalSettings, Warehouse

STAGING_KEYS = [dg.AssetKey(["staging", t.name]) for t in TABLES]
CLINICAL_VERSION = source_version("pipelines/assets/clinical.py", "pipelines/clinical/*.py",
                                  "pipelines/clinical/codesets/*", "pipelines/marts_catalog.py")


def outputs_of(builder: str) -> dict[str, str]:
    """{table: layer} of the tables a builder writes, in registry order."""
    return {m.name: m.layer for m in built_by(builder)}


def specs_of(builder: str, deps: list[dg.AssetKey]) -> list[dg.AssetSpec]:
    specs = []
    for mart in built_by(builder):
        doc = table_doc(mart)
        grain = f" Grain: {doc['grain']}." if doc.get("grain") else ""
        specs.append(dg.AssetSpec(
            list(mart.asset_key), deps=deps, group_name=builder,
            description=f"{mart.layer}.{mart.name}: {doc['description']}{grain} "
                        f"Key: {', '.join(mart.keys)}.",
            kinds={POLARS, DUCKDB, GX} if mart.is_published else {POLARS, DUCKDB},
            code_version=CLINICAL_VERSION,
            metadata={"keys": ", ".join(mart.keys)},
        ))
    return specs


EPISODE_OUTPUTS = outputs_of(EPISODES)
TREATMENT_OUTPUTS = outputs_of(TREATMENTS)
OUTCOME_OUTPUTS = outputs_of(OUTCOMES)
EPISODE_KEYS = [dg.AssetKey([layer, name]) for name, layer in EPISODE_OUTPUTS.items()]
TREATMENT_KEYS = [dg.AssetKey([layer, name]) for name, layer in TREATMENT_OUTPUTS.items()]


def read_staging(reader: PartitionReader, columns: dict, part: Partition, cutoff,
                 ) -> dict[str, pl.LazyFrame]:
    """The partition's staging tables (the listed columns) as known at the batch's cut-off
    (nothing dated after it is used), computed once."""
    from pipelines.clinical.cutoff import staging_at_cutoff
    from pipelines.clinical.frames import materialise

    frames = {name: df.lazy() for name, df in reader.read("staging", columns, part).items()}
    cut = staging_at_cutoff(frames, cutoff)
    return dict(zip(cut, materialise(*cut.values()), strict=True))


def read_outputs(reader: PartitionReader, columns: dict, part: Partition,
                 ) -> dict[str, pl.LazyFrame]:
    """The partition's rows of earlier steps' tables (the listed columns)."""
    frames: dict[str, pl.LazyFrame] = {}
    for layer, wanted in by_layer(columns).items():
        frames |= {name: df.lazy() for name, df in reader.read(layer, wanted, part).items()}
    return {name: frames[name] for name in columns}


def by_layer(columns: dict) -> dict[str, dict]:
    """{layer: {table: columns}} of earlier steps' tables."""
    layers: dict[str, dict] = {}
    for name, cols in columns.items():
        layers.setdefault(MARTS_BY_NAME[name].layer, {})[name] = cols
    return layers


def opted_out_patients(con, batch_id: str) -> int:
    """Patients the ingest removed because they objected (`raw.opt_out_exclusions`; 0 when
    an older warehouse has no such table)."""
    exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema "
                         "= 'raw' AND table_name = 'opt_out_exclusions'").fetchone()[0]
    if not exists:
        return 0
    return int(con.execute("SELECT coalesce(sum(n_patients_excluded), 0) FROM "
                           "raw.opt_out_exclusions WHERE batch_id = ?", [batch_id]).fetchone()[0])


def data_cutoff_date(con, batch_id: str):
    row = con.execute("SELECT data_cutoff_date FROM ops.batches WHERE batch_id = ?",
                      [batch_id]).fetchone()
    if not row or row[0] is None:
        raise RuntimeError(f"batch {batch_id} has no data cut-off date recorded")
    return row[0]


def collect_outputs(outputs: dict[str, pl.LazyFrame]) -> dict[str, pl.DataFrame]:
    """Every output of a partition in one collect_all (shared work done once)."""
    return dict(zip(outputs, pl.collect_all(list(outputs.values())), strict=True))


def results(con, layers: dict[str, str], params, parts: list[Partition]):
    for name, layer in layers.items():
        columns = table_doc(MARTS_BY_NAME[name], params)["columns"]
        metadata = table_metadata(con, layer, name, columns)
        metadata["patient_partitions"] = dg.MetadataValue.int(len(parts))
        yield dg.MaterializeResult(asset_key=dg.AssetKey([layer, name]), metadata=metadata)


def derive_episode_tables(con, batch_id: str, params, parts: list[Partition]) -> None:
    """Episode tables of the batch, a patient partition at a time; the cohort flow from the
    partitions' counts."""
    from pipelines.clinical.attrition import attrition_table
    from pipelines.clinical.episodes import ATTRITION_COUNTS, derive_patient_episodes
    from pipelines.clinical.steps import EPISODE_STAGING

    cutoff = data_cutoff_date(con, batch_id)
    counts = []
    reader = PartitionReader(con, parts)
    with writing(con, EPISODE_OUTPUTS) as out:
        for part in parts:
            marts = derive_patient_episodes(
                read_staging(reader, EPISODE_STAGING, part, cutoff), params)
            frames = collect_outputs(marts)
            counts.append(frames.pop(ATTRITION_COUNTS))
            out.append(frames)
        attrition = attrition_table(pl.concat(counts).lazy(),
                                    opted_out_patients(con, batch_id))
        out.append({"cohort_attrition": attrition.collect()})


def derive_treatment_tables(con, batch_id: str, params, parts: list[Partition]) -> None:
    from pipelines.clinical.steps import (
        TREATMENT_STAGING,
        TREATMENT_UPSTREAM,
        derive_treatment_step,
    )

    _derive_by_partition(con, batch_id, parts, TREATMENT_STAGING, TREATMENT_UPSTREAM,
                         TREATMENT_OUTPUTS,
                         lambda staging, upstream, _cutoff: derive_treatment_step(
                             staging, upstream, params))


def derive_outcome_tables(con, batch_id: str, params, parts: list[Partition]) -> None:
    from pipelines.clinical.steps import OUTCOME_STAGING, OUTCOME_UPSTREAM, derive_outcome_step

    _derive_by_partition(con, batch_id, parts, OUTCOME_STAGING, OUTCOME_UPSTREAM,
                         OUTCOME_OUTPUTS,
                         lambda staging, upstream, cutoff: derive_outcome_step(
                             staging, upstream, cutoff, params))


def _derive_by_partition(con, batch_id: str, parts: list[Partition], staging_columns,
                         upstream_columns, layers: dict[str, str], derive) -> None:
    """`derive(staging, upstream, cutoff)` on each partition, its tables appended in one
    transaction."""
    cutoff = data_cutoff_date(con, batch_id)
    reader = PartitionReader(con, parts)
    with writing(con, layers) as out:
        for part in parts:
            outputs = derive(read_staging(reader, staging_columns, part, cutoff),
                             read_outputs(reader, upstream_columns, part), cutoff)
            out.append(collect_outputs(outputs))


@dg.multi_asset(
    specs=specs_of(EPISODES, STAGING_KEYS),
    partitions_def=BATCHES,
    description="ESTRO/EORTC 2020 episodes and EORTC-LCG 2019 flag (clinical-rules 1-4).",
)
def oligometastatic_episodes(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    clinical_settings: ClinicalSettings,
):
    fault_point("derive")
    params = clinical_settings.parameters()
    with warehouse.get_connection() as con:
        parts = plan_partitions(con)
        derive_episode_tables(con, context.partition_key, params, parts)
        yield from results(con, EPISODE_OUTPUTS, params, parts)


@dg.multi_asset(
    specs=specs_of(TREATMENTS, STAGING_KEYS + EPISODE_KEYS),
    partitions_def=BATCHES,
    description="Dose and BED, LCT of each episode, lines of therapy, the analysis table "
    "(clinical-rules 5 and 6).",
)
def treatments(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    clinical_settings: ClinicalSettings,
):
    params = clinical_settings.parameters()
    with warehouse.get_connection() as con:
        parts = plan_partitions(con)
        derive_treatment_tables(con, context.partition_key, params, parts)
        yield from results(con, TREATMENT_OUTPUTS, params, parts)


@dg.multi_asset(
    specs=specs_of(OUTCOMES, STAGING_KEYS + EPISODE_KEYS + TREATMENT_KEYS),
    partitions_def=BATCHES,
    description="OS, PFS, widespread progression, next treatment, local control, toxicity, "
    "follow-up, censored at the batch cut-off (clinical-rules 6).",
)
def outcomes(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    clinical_settings: ClinicalSettings,
):
    params = clinical_settings.parameters()
    with warehouse.get_connection() as con:
        parts = plan_partitions(con)
        derive_outcome_tables(con, context.partition_key, params, parts)
        yield from results(con, OUTCOME_OUTPUTS, params, parts)

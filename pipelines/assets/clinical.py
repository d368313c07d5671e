"""The clinical derivation as one multi-asset: read staging, call the pure Polars rules,
write the clinical and mart tables.

One Dagster step derives every table of the mart registry (pipelines/marts_catalog.py: the
tables, their layer, keys, docs and the stage that derives each, shown as the asset's
group), in one pass over the patient partitions (docs/benchmarks.md, "Clinical steps in one
pass"): three steps would each plan the partitions, read every partition's staging again,
read back the tables the step before had just written, and pay a step's fixed cost. Each
table is still its own asset with its own description, kinds and metadata."""


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
    BUILDERS,
    MARTS,
    MARTS_BY_NAME,
    built_by,
    table_doc,
)
from pipelines.resources import ClinicalSettings, Warehouse
from pipelines.side_by_side import cursor_of
from pipelines.working_snapshot import record_contents

STAGING_KEYS = [dg.AssetKey(["staging", t.name]) for t in TABLES]
CLINICAL_VERSION = source_version("pipelines/assets/clinical.py", "pipelines/clinical/*.py",
                                  "pipelines/clinical/codesets/*", "pipelines/marts_catalog.py")


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


CLINICAL_OUTPUTS = {m.name: m.layer for m in MARTS}  # every table of the registry


def clinical_specs() -> list[dg.AssetSpec]:
    """Every registry table's spec, grouped by the stage that derives it; a stage's tables
    depend on staging and on the earlier stages' tables (the lineage the UI draws)."""
    specs, earlier = [], []
    for builder in BUILDERS:
        specs += specs_of(builder, STAGING_KEYS + earlier)
        earlier = earlier + [dg.AssetKey(list(m.asset_key)) for m in built_by(builder)]
    return specs


def read_staging(reader: PartitionReader, part: Partition, cutoff) -> dict[str, pl.LazyFrame]:
    """The partition's staging tables (the columns any step reads) as known at the batch's
    cut-off (nothing dated after it is used), computed once."""
    from pipelines.clinical.cutoff import staging_at_cutoff
    from pipelines.clinical.frames import materialise
    from pipelines.clinical.steps import PARTITION_STAGING

    frames = {name: df.lazy()
              for name, df in reader.read("staging", PARTITION_STAGING, part).items()}
    cut = staging_at_cutoff(frames, cutoff)
    return dict(zip(cut, materialise(*cut.values()), strict=True))


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


def results(con, params, parts: list[Partition]):
    for name, layer in CLINICAL_OUTPUTS.items():
        columns = table_doc(MARTS_BY_NAME[name], params)["columns"]
        metadata = table_metadata(con, layer, name, columns)
        metadata["patient_partitions"] = dg.MetadataValue.int(len(parts))
        yield dg.MaterializeResult(asset_key=dg.AssetKey([layer, name]), metadata=metadata)


def derive_clinical_tables(con, batch_id: str, params, parts: list[Partition]) -> None:
    """Every table of the registry, a patient partition at a time in one pass: the
    partition's staging read once, the three steps derived on it one after another (each
    handed the earlier steps' frames), every table appended; the cohort flow from the
    partitions' counts at the end. One transaction per database written (`writing`): a
    failure leaves every table as it was."""
    from pipelines.clinical.attrition import attrition_table
    from pipelines.clinical.episodes import ATTRITION_COUNTS
    from pipelines.clinical.steps import derive_partition

    cutoff = data_cutoff_date(con, batch_id)
    opted_out = opted_out_patients(con, batch_id)
    counts = []
    # Staging is read on a cursor of its own: `con` is the appender's (see `writing`).
    with cursor_of(con) as cursor, writing(con, CLINICAL_OUTPUTS) as out:
        reader = PartitionReader(cursor, parts)
        for part in parts:
            for frames in derive_partition(read_staging(reader, part, cutoff), cutoff, params):
                if ATTRITION_COUNTS in frames:
                    frames = dict(frames)
                    counts.append(frames.pop(ATTRITION_COUNTS))
                out.append(frames)
                del frames  # held by the appender until written, then freed
        attrition = attrition_table(pl.concat(counts).lazy(), opted_out)
        out.append({"cohort_attrition": attrition.collect()})


@dg.multi_asset(
    specs=clinical_specs(),
    partitions_def=BATCHES,
    description="The clinical derivation in one pass over the patient partitions: "
    "ESTRO/EORTC 2020 episodes and the EORTC-LCG 2019 flag (clinical-rules 1-4); dose and "
    "BED, LCT of each episode, lines of therapy, the analysis table (clinical-rules 5, 6); "
    "OS, PFS, widespread progression, next treatment, local control, toxicity, follow-up, "
    "censored at the batch cut-off (clinical-rules 6).",
)
def clinical_marts(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    clinical_settings: ClinicalSettings,
):
    fault_point("derive")
    params = clinical_settings.parameters()
    with warehouse.get_connection() as con:
        parts = plan_partitions(con)
        derive_clinical_tables(con, context.partition_key, params, parts)
        record_contents(con, "marts", context.partition_key, params.parameter_set)
        yield from results(con, params, parts)

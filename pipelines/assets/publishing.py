"""The `published/snapshot` asset: the batch's marts frozen in their own read-only file and,
when the batch is the latest by cut-off, swapped in as `current`.

A frozen file is written once: a later materialisation of the same batch and parameter set
(from the UI, say) keeps it, unless the run asks for a replace (`oligo run --replace`, or
the run tag `oligo/replace=true` in the UI). Table and column comments are rendered
from the run's clinical parameters (pipelines/marts_catalog.py)."""

import shutil

import dagster as dg
from dagster import AssetExecutionContext

from pipelines import lake
from pipelines.assets.attributes import DUCKDB, source_version
from pipelines.assets.partitions import BATCHES
from pipelines.assets.tables import staging_docs
from pipelines.contract import CONTRACT_VERSION, TABLES
from pipelines.marts_catalog import MART_TABLES, mart_docs
from pipelines.ops_store import batch_row, ensure_ops_schema, latest_published_batch, now
from pipelines.provenance import code_version
from pipelines.publish import (
    link_or_copy,
    publish_files,
    remove_stale_temporaries,
    temporary_path,
    write_database_copy,
)
from pipelines.resources import ClinicalSettings, Warehouse
from pipelines.run_record import wants_replace
from pipelines.settings import paths
from pipelines.working_snapshot import checkpointed_file, require_contents, require_tables

PROVENANCE_DDL = """CREATE TABLE {db}.meta.provenance AS SELECT
    ?::VARCHAR AS batch_id, ?::DATE AS data_cutoff_date, ?::VARCHAR AS contract_version,
    ?::VARCHAR AS code_version, ?::VARCHAR AS parameter_set, ?::VARCHAR AS parameters_json,
    ?::TIMESTAMP AS published_at"""


@dg.asset(
    key=["published", "snapshot"],
    deps=[dg.AssetKey(["marts", name]) for name in MART_TABLES]
    + [dg.AssetKey(["staging", t.name]) for t in TABLES],
    partitions_def=BATCHES,
    group_name="publish",
    kinds={DUCKDB},
    code_version=source_version("pipelines/assets/publishing.py", "pipelines/publish.py",
                                "pipelines/working_snapshot.py",
                                "pipelines/marts_catalog.py", "pipelines/clinical/marts_*.py"),
    description="The batch's marts and staging tables in a frozen read-only file "
    "(published/batches/<id>.duckdb, written once), swapped in as published/current.duckdb "
    "when the batch is the latest by cut-off; every table and column commented.",
)
def published_snapshot(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    clinical_settings: ClinicalSettings,
) -> dg.MaterializeResult:
    batch_id = context.partition_key
    params = clinical_settings.parameters()
    where = paths()
    for folder in (where.published, where.batches):
        folder.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(folder)
    with warehouse.get_connection() as con:
        ensure_ops_schema(con)
        batch = batch_row(con, batch_id) or {}
        published_at = now()
        provenance = (
            PROVENANCE_DDL,
            [batch_id, batch.get("data_cutoff_date"), CONTRACT_VERSION, code_version(),
             params.parameter_set, params.to_json(), published_at],
        )
        # A sensitivity run (non-default parameters) gets its own frozen file and never
        # replaces the batch's default snapshot nor `current`.
        is_sensitivity = params.parameter_set != "default"
        target = (where.sensitivity_snapshot(batch_id, params.parameter_set) if is_sensitivity
                  else where.batch_snapshot(batch_id))
        # Kept only when ops records its publication: a file left by a run killed between
        # the two swaps was never published and is rewritten (docs/reliability.md).
        recorded = is_sensitivity or batch.get("published_at") is not None
        if target.exists() and recorded and not wants_replace(context.run):
            context.log.info(f"{target.name} was published before: kept (replace to rewrite)")
            return dg.MaterializeResult(metadata={
                "batch_id": batch_id, "frozen_file": str(target), "frozen_file_kept": True,
                "parameter_set": params.parameter_set})
        frozen_tmp = temporary_path(target)
        # Staging travels with the marts: a batch stays reproducible from its own typed
        # data, and `oligo dq diff` compares batches from their frozen files. The working
        # snapshot holds exactly these tables: the new file is a copy of its bytes
        # (pipelines/working_snapshot.py), given comments and provenance; a warehouse of the
        # earlier layout has its tables copied one by one.
        tables = [("marts", t) for t in MART_TABLES] + [("staging", t.name) for t in TABLES]
        snapshot_bytes = checkpointed_file(con)
        if snapshot_bytes is not None:
            require_contents(con, batch_id, params.parameter_set)
            require_tables(con, tables)
            shutil.copyfile(snapshot_bytes, frozen_tmp)
        write_database_copy(
            con, frozen_tmp, [] if snapshot_bytes else tables,
            docs=mart_docs(params) | staging_docs(),
            extra_statements=[("CREATE SCHEMA {db}.meta", []), provenance],
            present=tables if snapshot_bytes else (),
        )
        prepared = [(frozen_tmp, target)]
        # The batch registry changes only if the swap happens: one transaction around both.
        con.execute("BEGIN TRANSACTION")
        is_current = False
        if not is_sensitivity:
            con.execute(
                "UPDATE ops.batches SET published_at = ?, status = 'published' "
                "WHERE batch_id = ?", [published_at, batch_id],
            )
            is_current = latest_published_batch(con) == batch_id
        if is_current:
            current_tmp = temporary_path(where.current)
            link_or_copy(frozen_tmp, current_tmp)  # no copy: files reach GBs
            prepared.append((current_tmp, where.current))
        publish_files(prepared)
        # DuckLake target: the frozen file also becomes one lake snapshot, before the batch
        # registry commits, so a failed lake publish is retried by the next run.
        lake_snapshot = lake.publish_batch(target) if lake.target_is_ducklake() else None
        con.execute("COMMIT")
    return dg.MaterializeResult(
        metadata={
            "batch_id": batch_id,
            "is_current": is_current,
            "frozen_file": str(target),
            "frozen_file_kept": False,
            "parameter_set": params.parameter_set,
            "code_version": code_version(),
        }
        | ({"lake_snapshot": lake_snapshot} if lake_snapshot is not None else {})
    )

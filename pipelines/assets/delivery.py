"""The `ops/delivery` asset: the re-delivery gate at the head of the graph.

It decides whether the batch needs a run at all, and every launch path passes it (the
sensor, the UI, `oligo run`):
- an identical delivery already published with the same parameters: `unchanged`, nothing
  downstream runs (the asset yields nothing, so Dagster skips the rest of the run);
- the same batch id with other content: `refused`, unless the run asks for a replace (run
  tag `oligo/replace=true`, which `oligo run --replace` sets);
- otherwise the batch is registered (`ops.batches`, status loading) and the run goes on.
It also checks, before anything is read, that a pseudonymisation secret is configured.
"""


import dagster as dg
from dagster import AssetExecutionContext

from pipelines.assets.attributes import DUCKDB, source_version
from pipelines.assets.partitions import BATCHES
from pipelines.contract import dialect as contract_dialect
from pipelines.delivery import batch_signature, delivered_files
from pipelines.delivery_gate import decide, same_parameters_published
from pipelines.ingest.batch import rows_read_per_table
from pipelines.ops_store import (
    batch_row,
    ensure_ops_schema,
    finish_run,
    now,
    record_refused_counts,
    upsert_batch,
)
from pipelines.resources import ClinicalSettings, RegistrySource, Warehouse
from pipelines.run_record import wants_replace

DELIVERY_KEY = dg.AssetKey(["ops", "delivery"])


@dg.asset(
    key=DELIVERY_KEY,
    partitions_def=BATCHES,
    group_name="raw",
    output_required=False,
    kinds={DUCKDB},
    code_version=source_version("pipelines/assets/delivery.py", "pipelines/delivery.py"),
    description="The delivery gate: the batch's signature (sha256 of every file) against "
    "ops.batches. Identical and published: the run stops here (unchanged). Same id, other "
    "content: refused unless replace. Also checks the pseudonymisation secret first.",
)
def delivery(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    registry: RegistrySource,
    clinical_settings: ClinicalSettings,
):
    from pipelines.ingest.pseudonym import MissingSecret

    batch_id = context.partition_key
    run_id = context.run.run_id
    try:  # UnsafeBatchPath is a ValueError: an id or folder leaving exports
        batch_dir = registry.batch_dir(batch_id)
        pseudonymizer = registry.pseudonymizer()
        params = clinical_settings.parameters()
    except (MissingSecret, ValueError) as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    if pseudonymizer.is_demo:
        context.log.warning("demo mode: pseudonyms use the public demo secret; never use it "
                            "for real data")
    if not batch_dir.is_dir():
        raise dg.Failure(description=f"no batch folder {batch_dir}", allow_retries=False)
    signature = batch_signature(batch_dir)
    with warehouse.get_connection() as con:
        ensure_ops_schema(con)
        con.execute("UPDATE ops.runs SET parameter_set = ? WHERE run_id = ?",
                    [params.parameter_set, run_id])
        existing = batch_row(con, batch_id)
        same_parameters = same_parameters_published(existing, batch_id, params.parameter_set)
        decision, message = decide(existing, signature, same_parameters,
                                   wants_replace(context.run), batch_id)
        if decision != "load":
            finish_run(con, run_id, decision, message, dagster_run_id=run_id)
            context.log.info(f"batch {batch_id}: {decision} - {message}")
            if decision == "refused":
                record_refused_counts(con, run_id, batch_id, rows_read_per_table(
                    batch_dir, contract_dialect(registry.dialect)))
                raise dg.Failure(description=message, allow_retries=False,
                                 metadata={"signature": signature})
            return  # unchanged: no output, so Dagster skips everything downstream
        upsert_batch(
            con, batch_id=batch_id, signature=signature, data_cutoff_date=None,
            cutoff_source=None, contract_version=None, registry=None,
            first_loaded_at=(existing or {}).get("first_loaded_at") or now(),
            published_at=(existing or {}).get("published_at"), status="loading",
        )
    yield dg.MaterializeResult(metadata={
        "signature": signature,
        "decision": message,
        "files": dg.MetadataValue.json([f.name for f in delivered_files(batch_dir)]),
        "parameter_set": params.parameter_set,
    })

"""Ingestion assets: raw tables as delivered (ids pseudonymised), the quarantine, and the
typed staging tables. The rules live in `pipelines/ingest/`; these wrappers only order them,
write the operations tables and report metadata."""


import dagster as dg
from dagster import AssetExecutionContext

from pipelines.assets.attributes import DUCKDB, GX, source_version
from pipelines.assets.delivery import DELIVERY_KEY
from pipelines.assets.partitions import BATCHES
from pipelines.assets.tables import staging_docs, table_metadata
from pipelines.contract import TABLES, dialect
from pipelines.faults import fault_point
from pipelines.ingest.batch import open_batch
from pipelines.ingest.defects import BatchRefused
from pipelines.ingest.load import load_keyed_batch, refuse_if_defective
from pipelines.ingest.opt_outs import read_opt_outs
from pipelines.ingest.pseudonym import batch_pseudonymizer
from pipelines.ingest.quarantine import QUARANTINE_COLUMNS, find_row_defects
from pipelines.ingest.staging import build_staging_tables, reconcile
from pipelines.ops_store import ensure_ops_schema
from pipelines.resources import RegistrySource, Warehouse
from pipelines.working_snapshot import fresh_working_snapshot, record_contents

RAW_KEYS = [dg.AssetKey(["raw", t.name]) for t in TABLES]
STAGING_KEYS = [dg.AssetKey(["staging", t.name]) for t in TABLES]
QUARANTINE_KEY = dg.AssetKey(["ops", "quarantine"])
INGEST_VERSION = source_version("pipelines/assets/ingest.py", "pipelines/ingest/*.py",
                                "pipelines/working_snapshot.py",
                                "pipelines/contract/*.py", "sql/staging/*.sql")


@dg.multi_asset(
    specs=[dg.AssetSpec(key, deps=[DELIVERY_KEY], group_name="raw", kinds={DUCKDB},
                        code_version=INGEST_VERSION,
                        description=f"raw.{t.name}: {t.description}, as delivered (text), ids "
                        "pseudonymised, with file and row number. Grain: one row per "
                        "delivered row.")
           for key, t in zip(RAW_KEYS, TABLES, strict=True)],
    partitions_def=BATCHES,
    description="Read, screen (direct identifiers) and load every file of the batch.",
)
def raw_tables(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    registry: RegistrySource,
):
    batch_id = context.partition_key
    batch_dir = registry.batch_dir(batch_id)
    with warehouse.get_connection() as con:
        # The rows wait in an in-memory database attached to this connection (never in the
        # database file) until the whole batch is screened: a refused batch leaves nothing
        # written.
        batch = open_batch(batch_dir, dialect(registry.dialect), con)
        try:
            refuse_if_defective(batch)  # batch defects, identifiers among them: nothing written
            manifest = batch.manifest
            # Keyed per registry; opted-out patients never reach raw (docs/privacy.md).
            pseudonymizer, warning = batch_pseudonymizer(
                registry.pseudonymizer(), manifest.registry if manifest else None)
            if warning:
                context.log.warning(warning)
            ensure_ops_schema(con)

            def record_batch() -> None:  # in the load's transaction: raw and ops change at once
                fault_point("load")
                con.execute(
                    "UPDATE ops.batches SET data_cutoff_date = ?, cutoff_source = ?, "
                    "contract_version = ?, registry = ? WHERE batch_id = ?",
                    [batch.data_cutoff_date,
                     "manifest" if batch.data_cutoff_date else None,
                     manifest.contract_version if manifest else None,
                     manifest.registry if manifest else None, batch_id],
                )

            rows, _ = load_keyed_batch(con, batch, pseudonymizer, read_opt_outs(),
                                       in_transaction=record_batch)
        finally:
            batch.release()
        docs = staging_docs()
        for key, t in zip(RAW_KEYS, TABLES, strict=True):
            metadata = table_metadata(con, "raw", t.name, docs[t.name]["columns"])
            metadata["rows_read"] = dg.MetadataValue.int(rows[t.name])
            file = batch.tables.get(t.name)
            if file is not None:
                metadata["file"] = dg.MetadataValue.text(file.file)
                metadata["file_sha256"] = dg.MetadataValue.text(file.sha256)
            yield dg.MaterializeResult(asset_key=key, metadata=metadata)


@dg.asset(
    key=QUARANTINE_KEY,
    deps=RAW_KEYS,
    partitions_def=BATCHES,
    group_name="raw",
    kinds={DUCKDB},
    code_version=INGEST_VERSION,
    description="Row defects of the contract: quarantined rows (with the parent->child "
    "cascade) and flagged cross-record implausibilities; refuses the batch above the "
    "quarantine-rate threshold.",
)
def quarantine(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    registry: RegistrySource,
) -> dg.MaterializeResult:
    batch_id = context.partition_key
    with warehouse.get_connection() as con:
        ensure_ops_schema(con)
        summary = find_row_defects(con, batch_id, dialect(registry.dialect))
        columns = ", ".join(QUARANTINE_COLUMNS)
        con.execute("BEGIN TRANSACTION")
        con.execute("DELETE FROM ops.quarantine WHERE batch_id = ?", [batch_id])
        con.execute(f"INSERT INTO ops.quarantine ({columns}) "
                    f"SELECT {columns} FROM ingest.quarantine")
        con.execute("CREATE TABLE IF NOT EXISTS ops.implausibilities AS "
                    "SELECT * FROM ingest.implausibilities WHERE false")
        con.execute("DELETE FROM ops.implausibilities WHERE batch_id = ?", [batch_id])
        con.execute("INSERT INTO ops.implausibilities SELECT * FROM ingest.implausibilities")
        con.execute("COMMIT")
        # Written first, so the operations database shows why a batch was refused.
        if not summary.ok:
            raise BatchRefused(summary.batch_defects)
        metadata = table_metadata(con, "ops", "quarantine")
    metadata.update({
        "rows_quarantined_by_table": dg.MetadataValue.json(
            {n: c.rows_quarantined for n, c in summary.tables.items()}),
        "defects_by_rule": dg.MetadataValue.json(summary.by_rule),
    })
    return dg.MaterializeResult(metadata=metadata)


@dg.multi_asset(
    specs=[dg.AssetSpec(key, deps=[raw_key, QUARANTINE_KEY], group_name="staging",
                        kinds={DUCKDB, GX}, code_version=INGEST_VERSION,
                        description=f"staging.{t.name}: {t.description}; typed, normalised. "
                        f"Grain: {t.grain}.")
           for key, raw_key, t in zip(STAGING_KEYS, RAW_KEYS, TABLES, strict=True)],
    partitions_def=BATCHES,
    description="Typed staging tables (sql/staging/*.sql) and the row-count reconciliation.",
)
def staging_tables(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    registry: RegistrySource,
):
    batch_id = context.partition_key
    source_dialect = dialect(registry.dialect)
    with warehouse.get_connection() as con:
        with fresh_working_snapshot(con):  # a new file, swapped in once every table is built
            build_staging_tables(con, source_dialect)
        record_contents(con, "staging", batch_id)
        record_contents(con, "marts", None)  # derived next, by the clinical step
        counts = reconcile(con)
        run_id = context.run.run_id
        con.execute("BEGIN TRANSACTION")  # one commit for the run's counts, not one per row
        con.execute("DELETE FROM ops.table_counts WHERE run_id = ?", [run_id])
        con.executemany("INSERT INTO ops.table_counts (run_id, batch_id, table_name, "
                        "rows_read, rows_loaded, rows_quarantined, rows_flagged) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [[run_id, batch_id, c.table_name, c.rows_read, c.rows_loaded,
                          c.rows_quarantined, c.rows_flagged] for c in counts])
        con.execute("COMMIT")
        unbalanced = [c.table_name for c in counts if not c.balanced]
        if unbalanced:
            raise RuntimeError(f"rows read != loaded + quarantined for {unbalanced}")
        _derive_cutoff_if_missing(context, con, batch_id)
        by_name = {c.table_name: c for c in counts}
        docs = staging_docs()
        for key, t in zip(STAGING_KEYS, TABLES, strict=True):
            metadata = table_metadata(con, "staging", t.name, docs[t.name]["columns"])
            c = by_name[t.name]
            metadata.update({"rows_read": c.rows_read, "rows_loaded": c.rows_loaded,
                             "rows_quarantined": c.rows_quarantined,
                             "rows_flagged": c.rows_flagged})
            yield dg.MaterializeResult(asset_key=key, metadata=metadata)


def _derive_cutoff_if_missing(context, con, batch_id: str) -> None:
    """Without a manifest cut-off, the batch's latest last_contact_date is the cut-off, and
    the run says so (docs/data-dictionary.md)."""
    row = con.execute("SELECT data_cutoff_date FROM ops.batches WHERE batch_id = ?",
                      [batch_id]).fetchone()
    if row and row[0] is not None:
        return
    latest = con.execute("SELECT max(last_contact_date) FROM staging.patients").fetchone()[0]
    context.log.warning(
        f"batch {batch_id} has no manifest cut-off: using the latest last_contact_date "
        f"({latest}) as the data cut-off")
    con.execute("UPDATE ops.batches SET data_cutoff_date = ?, cutoff_source = "
                "'latest_last_contact_date' WHERE batch_id = ?", [latest, batch_id])

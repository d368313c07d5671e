"""Writing a read batch into `raw.<table>` of a DuckDB connection: text as delivered, ids
pseudonymised when a Pseudonymizer is given (the loader), kept as in the file when not (the
validator, which writes only to an in-memory database)."""

from __future__ import annotations

import datetime as dt
import uuid

import duckdb
import polars as pl

from pipelines.contract.tables import TABLES_BY_NAME, Table
from pipelines.ingest.batch import Batch
from pipelines.ingest.defects import BatchDefect, BatchRefused
from pipelines.ingest.opt_outs import purge_opted_out_history
from pipelines.ingest.pseudonym import Pseudonymizer, hmac_sql, id_columns
from pipelines.sql_quoting import quote_ident

RAW_SCHEMA = "raw"
METADATA_COLUMNS = ("_file", "_row_number")


def empty_raw_frame(table: Table) -> pl.DataFrame:
    schema = {c.name: pl.String for c in table.columns} | {"_file": pl.String,
                                                           "_row_number": pl.Int64}
    return pl.DataFrame(schema=schema)


def load_raw_table(con: duckdb.DuckDBPyConnection, batch: Batch, table_name: str,
                   pseudonymizer: Pseudonymizer | None = None,
                   opt_outs: list[str] | None = None) -> int:
    """Replace `raw.<table_name>` with the batch's rows (an empty table when the batch has no
    file for it); returns the number of rows read. Refuses a batch holding identifiers.

    Rows whose keyed `patient_id` is in `opt_outs` (pseudonyms, docs/privacy.md) never reach
    `raw`; their patients are added to the temporary table `oligo_opted_out`."""
    identifiers = [d for d in batch.defects if d.rule_id == "direct_identifier"]
    if identifiers:
        raise BatchRefused(identifiers)
    table = TABLES_BY_NAME[table_name]
    table_file = batch.tables.get(table_name)
    frame = table_file.frame if table_file is not None else empty_raw_frame(table)
    view = f"oligo_frame_{uuid.uuid4().hex[:12]}"
    select, params = _raw_select(table, view, pseudonymizer)
    params |= {
        "load_batch_id": batch.batch_id,
        "load_file_sha256": table_file.sha256 if table_file is not None else None,
        "load_loaded_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
    }
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    target = f"{RAW_SCHEMA}.{quote_ident(table_name)}"
    con.register(view, frame.to_arrow())
    try:
        if opt_outs and pseudonymizer is not None:
            _load_without_opt_outs(con, target, select, params, list(opt_outs))
        else:
            con.execute(f"CREATE OR REPLACE TABLE {target} AS {select}", params)
    finally:
        con.unregister(view)
    return frame.height


def _load_without_opt_outs(con: duckdb.DuckDBPyConnection, target: str, select: str,
                           params: dict[str, object], opt_outs: list[str]) -> None:
    """Key once into a temporary table, note the opted-out patients, keep the others."""
    opted_out = "coalesce(list_contains($opt_outs, patient_id), false)"
    con.execute("CREATE TEMP TABLE IF NOT EXISTS oligo_opted_out (patient_id VARCHAR)")
    con.execute(f"CREATE OR REPLACE TEMP TABLE oligo_keyed AS {select}", params)
    con.execute(f"INSERT INTO oligo_opted_out SELECT DISTINCT patient_id FROM oligo_keyed "
                f"WHERE {opted_out}", {"opt_outs": opt_outs})
    con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM oligo_keyed "
                f"WHERE NOT {opted_out}", {"opt_outs": opt_outs})
    con.execute("DROP TABLE oligo_keyed")


def _raw_select(table: Table, view: str,
                pseudonymizer: Pseudonymizer | None) -> tuple[str, dict[str, object]]:
    ids = id_columns(table) if pseudonymizer is not None else {}
    params: dict[str, object] = {}
    if ids:
        params = {"inner_pad": pseudonymizer.inner_pad, "outer_pad": pseudonymizer.outer_pad}
    items = []
    for column in table.columns:
        name = quote_ident(column.name)
        if column.name not in ids:
            items.append(name)
            continue
        ns_param = f"ns_{column.name}"
        params[ns_param] = pseudonymizer.message_prefix(ids[column.name])
        keyed = hmac_sql(name, ns_param)
        literals = column.references.literals if column.references else ()
        if literals:
            # `primary` and `regional_nodes` are not ids: they stay as delivered.
            params[f"literals_{column.name}"] = list(literals)
            keyed = (f"CASE WHEN list_contains($literals_{column.name}, lower(trim({name}))) "
                     f"THEN {name} ELSE {keyed} END")
        items.append(f"{keyed} AS {name}")
    items += [quote_ident(c) for c in METADATA_COLUMNS]
    # Load metadata on every row: which batch, which exact file (sha256), when.
    items += ["$load_batch_id::VARCHAR AS _batch_id", "$load_file_sha256::VARCHAR AS _file_sha256",
              "$load_loaded_at::TIMESTAMP AS _loaded_at"]
    return f"SELECT {', '.join(items)} FROM {quote_ident(view)}", params


def load_raw_tables(con: duckdb.DuckDBPyConnection, batch: Batch,
                    pseudonymizer: Pseudonymizer | None = None) -> dict[str, int]:
    """Every table of the contract into `raw`; rows read per table."""
    return {name: load_raw_table(con, batch, name, pseudonymizer) for name in TABLES_BY_NAME}


def load_keyed_batch(con: duckdb.DuckDBPyConnection, batch: Batch, pseudonymizer: Pseudonymizer,
                     opt_outs: list[str]) -> tuple[dict[str, int], int]:
    """The loader's path: every table into `raw`, ids keyed with the registry-scoped
    pseudonymizer, opted-out patients left out of every table; `raw.opt_out_exclusions` gets
    this batch's count; their rows in the ops/dq history of earlier batches are deleted.
    Returns rows read per table and the patients excluded."""
    con.execute("DROP TABLE IF EXISTS oligo_opted_out")
    purge_opted_out_history(con, opt_outs)
    rows = {name: load_raw_table(con, batch, name, pseudonymizer, opt_outs)
            for name in TABLES_BY_NAME}
    excluded = con.execute(
        "SELECT count(DISTINCT patient_id) FROM oligo_opted_out").fetchone()[0] if opt_outs \
        and _has_temp_table(con, "oligo_opted_out") else 0
    con.execute("DROP TABLE IF EXISTS oligo_opted_out")
    con.execute(f"CREATE OR REPLACE TABLE {RAW_SCHEMA}.opt_out_exclusions "
                "(batch_id VARCHAR, n_patients_excluded BIGINT)")
    con.execute(f"INSERT INTO {RAW_SCHEMA}.opt_out_exclusions VALUES (?, ?)",
                [batch.batch_id, excluded])
    return rows, excluded


def _has_temp_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?",
                       [name]).fetchone()[0] > 0


def refuse_if_defective(batch: Batch, extra: list[BatchDefect] | None = None) -> None:
    defects = list(batch.defects) + list(extra or [])
    if defects:
        raise BatchRefused(defects)

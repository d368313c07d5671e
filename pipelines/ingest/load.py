"""Writing a read batch into `raw.<table>` of a DuckDB connection: text as delivered, ids
pseudonymised when a Pseudonymizer is given (the loader), kept as in the file when not (the
validator, which writes only to an in-memory database)."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re
import uuid
from collections.abc import Callable

import duckdb

from pipelines.contract.tables import TABLES_BY_NAME, Table
from pipelines.ingest.batch import Batch
from pipelines.ingest.defects import BatchDefect, BatchRefused
from pipelines.ingest.opt_outs import purge_opted_out_history
from pipelines.ingest.pseudonym import Pseudonymizer, hmac_sql, id_columns
from pipelines.ingest.readers import TableFile
from pipelines.side_by_side import run_side_by_side
from pipelines.sql_quoting import quote_ident

RAW_SCHEMA = "raw"
METADATA_COLUMNS = ("_file", "_row_number")


def _empty_select(table: Table) -> str:
    """The shape of a table the batch has no file for: no rows."""
    items = [f"CAST(NULL AS VARCHAR) AS {quote_ident(c.name)}" for c in table.columns]
    items += ["CAST($load_file AS VARCHAR) AS _file", "CAST(NULL AS BIGINT) AS _row_number"]
    return f"SELECT {', '.join(items)} WHERE false"


def load_raw_table(con: duckdb.DuckDBPyConnection, batch: Batch, table_name: str,
                   pseudonymizer: Pseudonymizer | None = None,
                   opt_outs: list[str] | None = None,
                   shared_maps: dict[str, str] | None = None, *,
                   target_name: str | None = None, opted_out: str = "oligo_opted_out",
                   reads_batch: bool | None = None) -> int:
    """Replace `raw.<table_name>` (or `raw.<target_name>`) with the batch's rows (an empty
    table when the batch has no file for it); returns the number of rows read. Refuses a
    batch holding identifiers.

    Rows whose keyed `patient_id` is in `opt_outs` (pseudonyms, docs/privacy.md) never reach
    `raw`; their patients are added to the table `opted_out` (SQL; a temporary table created
    when missing by default). `shared_maps` (namespace -> key map as SQL, from
    `shared_key_maps`) key ids the batch repeats across tables once for the whole batch.

    When `con` reads the batch's rows itself (`reads_batch`; default: it is the batch's own
    connection, a cursor of it also does) the rows go from their table into `raw` in one
    statement (and their table is dropped); otherwise they stream over in Arrow record
    batches."""
    identifiers = [d for d in batch.defects if d.rule_id == "direct_identifier"]
    if identifiers:
        raise BatchRefused(identifiers)
    table = TABLES_BY_NAME[table_name]
    table_file = batch.tables.get(table_name)
    source = _empty_select(table) if table_file is None else table_file.contract_select(table)
    params: dict[str, object] = {"load_file": table_file.file if table_file else None}
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    target = f"{RAW_SCHEMA}.{quote_ident(target_name or table_name)}"
    copied = None
    if not (batch.connection is con if reads_batch is None else reads_batch):
        # Another database: the rows stream over in Arrow record batches, once.
        copied = f"oligo_rows_{uuid.uuid4().hex[:12]}"
        stream = batch.connection.execute(source, params).fetch_record_batch(STREAM_ROWS)
        con.register(copied + "_stream", stream)
        try:
            con.execute(f"CREATE TEMP TABLE {quote_ident(copied)} AS "
                        f"SELECT * FROM {quote_ident(copied + '_stream')}")
        finally:
            con.unregister(copied + "_stream")
        source, params = f"SELECT * FROM {quote_ident(copied)}", {}
    try:
        _load(con, table, target, source, params, table_file, batch.batch_id, pseudonymizer,
              opt_outs or [], shared_maps or {}, opted_out)
    finally:
        if copied is not None:
            con.execute(f"DROP TABLE IF EXISTS {quote_ident(copied)}")
    if copied is None and table_file is not None:  # loaded: its table is released
        con.execute(f"DROP TABLE IF EXISTS {table_file.source_sql}")
    return 0 if table_file is None else table_file.rows


STREAM_ROWS = 100_000  # rows per Arrow record batch between two connections


def _load(con: duckdb.DuckDBPyConnection, table: Table, target: str, source: str,
          params: dict[str, object], table_file: TableFile | None, batch_id: str,
          pseudonymizer: Pseudonymizer | None, opt_outs: list[str],
          shared_maps: dict[str, str], opted_out: str) -> None:
    """One CREATE TABLE ... AS from the rows (`source`, a SELECT), ids keyed; before it, the
    key maps of the id columns that repeat (see `_key_maps`): each distinct id is keyed once."""
    rows = "oligo_rows"
    params = params | {
        "load_batch_id": batch_id,
        "load_file_sha256": table_file.sha256 if table_file is not None else None,
        "load_loaded_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        "opt_outs": list(opt_outs),
    }
    if pseudonymizer is not None:
        params |= {"inner_pad": pseudonymizer.inner_pad, "outer_pad": pseudonymizer.outer_pad}
    map_tables: dict[str, str] = {}
    own: list[str] = []
    try:
        for column, namespace in _key_maps(table, pseudonymizer, bool(opt_outs)).items():
            if namespace in shared_maps:
                map_tables[column] = shared_maps[namespace]
                continue
            map_tables[column] = quote_ident(f"oligo_keys_{uuid.uuid4().hex[:12]}")
            own.append(map_tables[column])
            value = quote_ident(column)
            _execute(con, f"CREATE TEMP TABLE {map_tables[column]} AS "
                          f"WITH {rows} AS ({source}) SELECT v, {hmac_sql('v', 'ns')} AS k "
                          f"FROM (SELECT DISTINCT trim({value}) AS v FROM {rows} "
                          f"WHERE nullif(trim({value}), '') IS NOT NULL)",
                     params | {"ns": pseudonymizer.message_prefix(namespace)})
        select, select_params = _keyed_select(table, rows, pseudonymizer, map_tables)
        statement = f"WITH {rows} AS ({source}) {select}"
        if opt_outs and pseudonymizer is not None:
            if opted_out == "oligo_opted_out":
                con.execute("CREATE TEMP TABLE IF NOT EXISTS oligo_opted_out "
                            "(patient_id VARCHAR)")
            _execute(con, f"INSERT INTO {opted_out} SELECT DISTINCT k FROM "
                          f"{map_tables['patient_id']} "
                          "WHERE list_contains($opt_outs, k)", params)
            statement = (f"SELECT * FROM ({statement}) WHERE NOT coalesce(list_contains("
                         "$opt_outs, patient_id), false)")
        _execute(con, f"CREATE OR REPLACE TABLE {target} AS {statement}",
                 params | select_params)
    finally:
        for name in own:
            con.execute(f"DROP TABLE IF EXISTS {name}")


def shared_key_maps(con: duckdb.DuckDBPyConnection, batch: Batch,
                    pseudonymizer: Pseudonymizer | None, with_opt_outs: bool) -> dict[str, str]:
    """Namespace -> table as SQL (v: trimmed source id, k: its key) for every namespace
    that several mapped columns of the batch use (`patient_id` above all): each distinct id
    is keyed once per batch, not once per table. Only for a batch read into `con` itself;
    the tables go where the batch's rows are (its in-memory database, which every cursor
    sees)."""
    if pseudonymizer is None or batch.connection is not con:
        return {}
    by_namespace: dict[str, list[tuple[str, str]]] = {}
    for name, table_file in batch.tables.items():
        table = TABLES_BY_NAME[name]
        sources = table_file.column_sources(table)
        for column, namespace in _key_maps(table, pseudonymizer, with_opt_outs).items():
            if sources[column] is not None:
                by_namespace.setdefault(namespace, []).append((table_file.source_sql,
                                                               sources[column]))
    maps = {}
    for namespace, columns in by_namespace.items():
        if len(columns) < 2:
            continue
        maps[namespace] = _in_batch_database(batch, f"oligo_keys_{uuid.uuid4().hex[:12]}")
        values = " UNION ALL ".join(f"SELECT trim({quote_ident(c)}) AS v FROM {t}"
                                    for t, c in columns)
        _execute(con, f"CREATE TABLE {maps[namespace]} AS "
                      f"SELECT v, {hmac_sql('v', 'ns')} AS k FROM (SELECT DISTINCT v FROM "
                      f"({values}) WHERE nullif(v, '') IS NOT NULL)",
                 {"inner_pad": pseudonymizer.inner_pad, "outer_pad": pseudonymizer.outer_pad,
                  "ns": pseudonymizer.message_prefix(namespace)})
    return maps


def _in_batch_database(batch: Batch, name: str) -> str:
    """A table next to the batch's rows (in its in-memory database), as SQL."""
    return f"{quote_ident(batch.scratch)}.{quote_ident(name)}"


def _execute(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> None:
    """DuckDB refuses unused named parameters: only those the statement names."""
    con.execute(sql, {k: v for k, v in params.items() if re.search(rf"\${k}\b", sql)})


def _key_maps(table: Table, pseudonymizer: Pseudonymizer | None,
              with_opt_outs: bool) -> dict[str, str]:
    """Id columns keyed through a map of their distinct values (column -> namespace): every
    id column but the table's single key, whose values are distinct anyway. With opt-outs,
    `patient_id` always (the map lists the batch's keyed patients)."""
    if pseudonymizer is None:
        return {}
    ids = id_columns(table)
    single_key = table.key[0] if len(table.key) == 1 else None
    return {c: ns for c, ns in ids.items()
            if c != single_key or (with_opt_outs and c == "patient_id")}


def _keyed_select(table: Table, rows: str, pseudonymizer: Pseudonymizer | None,
                  map_tables: dict[str, str]) -> tuple[str, dict[str, object]]:
    """The raw table's SELECT: ids keyed, through a map (LEFT JOIN) or inline; blanks NULL."""
    ids = id_columns(table) if pseudonymizer is not None else {}
    params: dict[str, object] = {}
    items = []
    joins = []
    for column in table.columns:
        name = quote_ident(column.name)
        value = f"r.{name}"
        if column.name not in ids:
            items.append(value)
            continue
        if column.name in map_tables:
            alias = f"k{len(joins)}"
            joins.append(f"LEFT JOIN {map_tables[column.name]} {alias} "
                         f"ON {alias}.v = trim({value})")
            keyed = f"{alias}.k"
        else:
            ns_param = f"ns_{column.name}"
            params[ns_param] = pseudonymizer.message_prefix(ids[column.name])
            keyed = hmac_sql(value, ns_param)
        literals = column.references.literals if column.references else ()
        if literals:
            # `primary` and `regional_nodes` are not ids: they stay as delivered.
            params[f"literals_{column.name}"] = list(literals)
            keyed = (f"CASE WHEN list_contains($literals_{column.name}, lower(trim({value}))) "
                     f"THEN {value} ELSE {keyed} END")
        items.append(f"{keyed} AS {name}")
    items += [f"r.{quote_ident(c)}" for c in METADATA_COLUMNS]
    # Load metadata on every row: which batch, which exact file (sha256), when.
    items += ["$load_batch_id::VARCHAR AS _batch_id", "$load_file_sha256::VARCHAR AS _file_sha256",
              "$load_loaded_at::TIMESTAMP AS _loaded_at"]
    return f"SELECT {', '.join(items)} FROM {rows} r {' '.join(joins)}", params


def load_raw_tables(con: duckdb.DuckDBPyConnection, batch: Batch,
                    pseudonymizer: Pseudonymizer | None = None) -> dict[str, int]:
    """Every table of the contract into `raw`; rows read per table."""
    return {name: load_raw_table(con, batch, name, pseudonymizer) for name in TABLES_BY_NAME}


def load_keyed_batch(con: duckdb.DuckDBPyConnection, batch: Batch, pseudonymizer: Pseudonymizer,
                     opt_outs: list[str],
                     in_transaction: Callable[[], None] | None = None) -> tuple[dict[str, int], int]:
    """The loader's path: every table into `raw`, ids keyed with the registry-scoped
    pseudonymizer, opted-out patients left out of every table; `raw.opt_out_exclusions` gets
    this batch's count; their rows in the ops/dq history of earlier batches are deleted.
    Returns rows read per table and the patients excluded.

    Two phases, so that the tables can be written side by side and still change at once.
    First every table is written under a loading name (`raw.oligo_loading_<table>`), on two
    cursors of `con` when `con` holds the batch's rows (each statement commits on its own;
    nothing reads these names). Then one transaction of `con` swaps them in for the raw
    tables, purges the history, writes `raw.opt_out_exclusions` and runs `in_transaction`
    (the caller's writes that belong to the same change): a failure before its COMMIT
    leaves raw and ops as they were and drops the loading tables (a killed run's leftovers
    are dropped by the next load). Call it outside a transaction."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    drop_loading_tables(con)
    direct = batch.connection is con
    # The opted-out patients, where every cursor loading the batch's rows sees them.
    opted_out = _in_batch_database(batch, "oligo_opted_out") if direct else "oligo_opted_out"
    con.execute(f"DROP TABLE IF EXISTS {opted_out}")
    con.execute(f"CREATE {'' if direct else 'TEMP '}TABLE {opted_out} (patient_id VARCHAR)")
    shared = shared_key_maps(con, batch, pseudonymizer, bool(opt_outs))
    try:
        # Largest first: the small tables fill in beside the long ones.
        names = sorted(TABLES_BY_NAME, key=lambda n: -(batch.tables[n].rows
                                                       if n in batch.tables else 0))
        jobs = [(name, functools.partial(_load_under_loading_name, batch=batch, table_name=name,
                                         pseudonymizer=pseudonymizer, opt_outs=opt_outs,
                                         shared_maps=shared, opted_out=opted_out,
                                         reads_batch=direct))
                for name in names]
        if direct:
            rows = run_side_by_side(con, jobs, what="the load of raw.")
        else:  # the rows stream from another connection into temporary tables of `con`
            rows = {name: job(con) for name, job in jobs}
        excluded = con.execute(
            f"SELECT count(DISTINCT patient_id) FROM {opted_out}").fetchone()[0]
    except BaseException:
        drop_loading_tables(con)
        raise
    finally:
        for map_table in [*shared.values(), opted_out]:
            con.execute(f"DROP TABLE IF EXISTS {map_table}")
    con.execute("BEGIN TRANSACTION")
    try:
        purge_opted_out_history(con, opt_outs)
        for name in TABLES_BY_NAME:
            con.execute(f"DROP TABLE IF EXISTS {RAW_SCHEMA}.{quote_ident(name)}")
            con.execute(f"ALTER TABLE {RAW_SCHEMA}.{quote_ident(LOADING_PREFIX + name)} "
                        f"RENAME TO {quote_ident(name)}")
        con.execute(f"CREATE OR REPLACE TABLE {RAW_SCHEMA}.opt_out_exclusions "
                    "(batch_id VARCHAR, n_patients_excluded BIGINT)")
        con.execute(f"INSERT INTO {RAW_SCHEMA}.opt_out_exclusions VALUES (?, ?)",
                    [batch.batch_id, excluded])
        if in_transaction is not None:
            in_transaction()
        con.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        drop_loading_tables(con)
        raise
    return {name: rows[name] for name in TABLES_BY_NAME}, excluded


LOADING_PREFIX = "oligo_loading_"


def _load_under_loading_name(con: duckdb.DuckDBPyConnection, **kwargs) -> int:
    return load_raw_table(con, target_name=LOADING_PREFIX + kwargs["table_name"], **kwargs)


def drop_loading_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Tables of a load that did not swap them in (failed, or killed)."""
    for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = ? AND starts_with(table_name, ?)",
            [RAW_SCHEMA, LOADING_PREFIX]).fetchall():
        con.execute(f"DROP TABLE IF EXISTS {RAW_SCHEMA}.{quote_ident(name)}")


def refuse_if_defective(batch: Batch, extra: list[BatchDefect] | None = None) -> None:
    defects = list(batch.defects) + list(extra or [])
    if defects:
        raise BatchRefused(defects)

"""Reading and writing warehouse tables from assets, with the metadata every asset reports."""


import uuid

import dagster as dg
import duckdb
import polars as pl

from pipelines.sql_quoting import quote_ident


def read_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> pl.LazyFrame:
    return con.sql(f"SELECT * FROM {quote_ident(schema)}.{quote_ident(table)}").pl().lazy()


def write_table(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, frame: pl.DataFrame
) -> None:
    """Replace `schema.table` with the frame's rows (types carried through Arrow)."""
    view = "frame_" + uuid.uuid4().hex[:8]
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
    con.register(view, frame.to_arrow())
    try:
        con.execute(
            f"CREATE OR REPLACE TABLE {quote_ident(schema)}.{quote_ident(table)} AS "
            f"SELECT * FROM {view}"
        )
    finally:
        con.unregister(view)


def table_metadata(con: duckdb.DuckDBPyConnection, schema: str, table: str,
                   columns_doc: dict[str, str] | None = None) -> dict:
    """Row count and column schema (with each column's description), as Dagster shows them."""
    rows = con.execute(
        f"SELECT count(*) FROM {quote_ident(schema)}.{quote_ident(table)}"
    ).fetchone()[0]
    columns = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()
    return {
        "dagster/row_count": dg.MetadataValue.int(int(rows)),
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(name=name, type=dtype,
                                    description=(columns_doc or {}).get(name))
                     for name, dtype in columns]
        ),
        "table": dg.MetadataValue.text(f"{schema}.{table}"),
    }


def staging_docs() -> dict[str, dict]:
    """Docs of the contract tables (staging, and raw for its column descriptions)."""
    from pipelines.contract import TABLES
    from pipelines.contract.staging import EXTRA_COLUMNS

    docs = {}
    for t in TABLES:
        columns = {c.name: c.description for c in t.columns}
        columns |= {name: text for name, (_, text) in EXTRA_COLUMNS.get(t.name, {}).items()}
        docs[t.name] = {"description": f"Typed registry data: {t.description}",
                        "grain": t.grain, "columns": columns}
    return docs

"""The raw layer's rows in Parquet files beside the warehouse file, behind `raw.<table>` views.

Raw is text as delivered, written once per batch and read twice (the row rules, staging).
DuckDB's own storage spends most of a load compressing that text: at 1,000,000 patients
writing the batch's 25.6 M text rows into tables took 45 CPU s, as zstd Parquet 12 CPU s,
at a third of the size (docs/benchmarks.md, "Raw rows in Parquet files"). The views keep
every reader's SQL as it was.

Each load writes a new generation folder, `<warehouse>.raw/<generation>/<table>.parquet`;
the load's transaction points the views at it, and only after its COMMIT are the other
generations removed. A load that fails before its COMMIT leaves the views on the old files
and removes its own folder; a killed load's folder is removed by the next load (no view
points into it). An in-memory database (the validator) keeps raw as tables.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import duckdb

from pipelines.sql_quoting import quote_ident, quote_literal

SUFFIX = ".raw"
COMPRESSION = "zstd"


def raw_folder(con: duckdb.DuckDBPyConnection) -> Path | None:
    """`<warehouse file>.raw/` for the connection's database file; None when in memory."""
    path = con.execute("SELECT path FROM duckdb_databases() "
                       "WHERE database_name = current_database()").fetchone()[0]
    return raw_folder_of(Path(path).resolve()) if path else None


def raw_folder_of(database: Path) -> Path:
    return database.with_name(database.name.removesuffix(".duckdb") + SUFFIX)


def new_generation(folder: Path) -> Path:
    generation = folder / uuid.uuid4().hex[:16]
    generation.mkdir(parents=True)
    return generation


def table_file(generation: Path, table: str) -> Path:
    return generation / f"{table}.parquet"


def copy_statement(select_sql: str, target: Path) -> str:
    """Write the rows of `select_sql` (in its order) to one Parquet file."""
    return (f"COPY ({select_sql}) TO {quote_literal(str(target))} "
            f"(FORMAT parquet, COMPRESSION {COMPRESSION})")


def point_view(con: duckdb.DuckDBPyConnection, schema: str, table: str, source: Path) -> None:
    """`schema.table` becomes a view of the file; a table of that name (a warehouse written
    before raw was kept in files) is dropped first."""
    qualified = f"{quote_ident(schema)}.{quote_ident(table)}"
    is_table = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = ? AND table_name = ?", [schema, table]).fetchone()[0]
    if is_table:
        con.execute(f"DROP TABLE {qualified}")
    con.execute(f"CREATE OR REPLACE VIEW {qualified} AS SELECT * FROM "
                f"read_parquet({quote_literal(str(source))})")


def referenced_generations(con: duckdb.DuckDBPyConnection, folder: Path) -> set[str]:
    """Generation folders some view of the database reads."""
    texts = [sql for (sql,) in con.execute(
        "SELECT sql FROM duckdb_views() WHERE database_name = current_database() "
        "AND NOT internal").fetchall()]
    prefix = str(folder) + "/"
    return {generation.name for generation in _generations(folder)
            if any(prefix + generation.name + "/" in text for text in texts)}


def remove_generations(folder: Path, keep: set[str]) -> None:
    for generation in _generations(folder):
        if generation.name not in keep:
            shutil.rmtree(generation, ignore_errors=True)


def _generations(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_dir()] if folder.is_dir() else []

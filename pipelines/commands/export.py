"""`oligo export --format parquet|csv --out DIR [--batch ID]`: the analysis tables of a
published snapshot, with their data dictionary and provenance, for R, SAS or Stata users.

Writes one file per table of schema `marts` (`<table>.parquet` or `<table>.csv`),
`data_dictionary.csv` (every table and column with its type and the description published
with it) and `provenance.json` (batch, cut-off, contract, code and parameter set). Parquet
keeps every type; CSV has no nested types, so list columns are written as ';'-joined text
(said in the dictionary). Reads through the locked read-only connection of
`pipelines.safe_sql`; the files are written by Polars, never by the database.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb
import polars as pl

from pipelines.commands.sql import csv_ready
from pipelines.safe_sql import QueryRefused, SafetyLimits, open_read_only, published_database

FORMATS = ("parquet", "csv")
EXPORT_LIMITS = SafetyLimits(timeout_seconds=600.0)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export", help="write the analysis tables with their dictionary and provenance"
    )
    parser.add_argument("--format", choices=FORMATS, default="parquet")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument("--batch", metavar="ID", help="export this batch's frozen snapshot")
    parser.set_defaults(func=run)


def export_snapshot(database: Path, out: Path, file_format: str) -> list[Path]:
    """Write the marts of `database` into `out`; returns the files written."""
    if file_format not in FORMATS:
        raise ValueError(f"unknown format {file_format!r}; choose one of {FORMATS}")
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with open_read_only(database, limits=EXPORT_LIMITS) as con:
        tables = con.execute(
            "SELECT table_name, comment FROM duckdb_tables() "
            "WHERE database_name = current_database() AND schema_name = 'marts' "
            "ORDER BY table_name"
        ).fetchall()
        columns = con.execute(
            "SELECT table_name, column_index, column_name, data_type, comment "
            "FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = 'marts' ORDER BY table_name, column_index"
        ).pl()
        provenance = _provenance(con)
        for table, _ in tables:
            frame = con.table(f'marts."{table}"').pl()
            target = out / f"{table}.{file_format}"
            if file_format == "parquet":
                frame.write_parquet(target)
            else:
                csv_ready(frame).write_csv(target)
            written.append(target)
    dictionary = _dictionary(tables, columns, file_format)
    dictionary.write_csv(out / "data_dictionary.csv")
    (out / "provenance.json").write_text(json.dumps(provenance, indent=2, default=str) + "\n")
    return [*written, out / "data_dictionary.csv", out / "provenance.json"]


def _provenance(con: duckdb.DuckDBPyConnection) -> dict:
    try:
        rows = con.table("meta.provenance").pl().to_dicts()
    except duckdb.CatalogException:
        return {"note": "this snapshot has no meta.provenance table"}
    return rows[0] if rows else {}


def _dictionary(tables: list[tuple], columns: pl.DataFrame, file_format: str) -> pl.DataFrame:
    table_rows = pl.DataFrame(
        {
            "table_name": [t for t, _ in tables],
            "column_index": [0] * len(tables),
            "column_name": [""] * len(tables),
            "data_type": ["TABLE"] * len(tables),
            "description": [c or "" for _, c in tables],
        },
        schema={"table_name": pl.String, "column_index": pl.Int64, "column_name": pl.String,
                "data_type": pl.String, "description": pl.String},
    )
    is_list = pl.col("data_type").str.ends_with("[]")
    column_rows = columns.select(
        "table_name",
        pl.col("column_index").cast(pl.Int64),
        "column_name",
        "data_type",
        description=pl.col("comment").fill_null("")
        + (pl.when(is_list).then(pl.lit(" (list; ';'-separated text in CSV)")).otherwise(pl.lit(""))
           if file_format == "csv" else pl.lit("")),
    )
    return pl.concat([table_rows, column_rows]).sort("table_name", "column_index")


def run(args: argparse.Namespace) -> int:
    try:
        files = export_snapshot(published_database(args.batch), args.out, args.format)
    except QueryRefused as exc:
        print(f"oligo export: refused: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(files)} files to {args.out}")
    for path in files:
        print(f"  {path.name}")
    return 0

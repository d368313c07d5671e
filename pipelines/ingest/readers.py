"""Reading one table file of a batch as text, whatever its format, into a table of an
in-memory database attached to a DuckDB connection (a CSV goes straight from DuckDB's reader
into it: no copy in Python).

The table holds the file's columns by position (`oligo_c0`, `oligo_c1`, ...), all
text, in file order; `TableFile.contract_select` gives them the contract's names (in contract
order, absent optional ones as nulls) plus `_file` and `_row_number`: the CSV line number with
the header as line 1 (first data row 2; a quoted field spanning lines shifts later numbers),
the XLSX sheet row likewise, or the Parquet 0-based row index (docs/data-dictionary.md).
"""

from __future__ import annotations

import csv
import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipelines.contract.dialects import Dialect
from pipelines.contract.tables import Table
from pipelines.ingest.encoding import (
    UndecodableBytes,
    decode_or_locate,
    line_start_offset,
    python_codec,
    utf8_copy,
)
from pipelines.ingest.files import (
    UnsafeFile,
    check_xlsx_expansion,
    max_file_bytes,
    open_regular,
)
from pipelines.ingest.header import HeaderMapping, map_header
from pipelines.sql_quoting import quote_ident

FORMATS = (".csv", ".parquet", ".xlsx")
FIRST_DATA_LINE = {".csv": 2, ".xlsx": 2, ".parquet": 0}
MAX_HEADER_BYTES = 1 << 20  # a header line longer than this is not a contract header


class UnreadableFile(Exception):
    """The file cannot be read with the dialect. Deliberately carries no reader message:
    readers quote the offending line, and that line may hold an identifier."""


@dataclass(frozen=True)
class TableFile:
    table_name: str
    file: str
    sha256: str
    header: HeaderMapping
    source: str | None  # the table of the rows; None when the header was refused
    rows: int
    first_row_number: int
    # The in-memory database holding `source` (attached to the connection, so every cursor
    # sees it; it never reaches a database file).
    database: str

    @property
    def source_sql(self) -> str:
        """`source` as SQL, quoted (and qualified by its database)."""
        return _qualified(self.database, self.source)

    def column_sources(self, table: Table) -> dict[str, str | None]:
        """Contract column -> its positional column in `source` (None: not delivered)."""
        position = {name: positional_name(i) for i, name in enumerate(self.header.columns)}
        return {c.name: position.get(c.name) for c in table.columns}

    def contract_select(self, table: Table) -> str:
        """SELECT of the rows with contract names, `_file` (bound as `$load_file`) and
        `_row_number`. Only names from the contract are interpolated."""
        items = [f"{quote_ident(src)} AS {quote_ident(name)}" if src is not None
                 else f"CAST(NULL AS VARCHAR) AS {quote_ident(name)}"
                 for name, src in self.column_sources(table).items()]
        items += ["CAST($load_file AS VARCHAR) AS _file",
                  f"CAST(rowid + {int(self.first_row_number)} AS BIGINT) AS _row_number"]
        return f"SELECT {', '.join(items)} FROM {self.source_sql}"


def _qualified(database: str, table: str) -> str:
    return f"{quote_ident(database)}.{quote_ident(table)}"


def positional_name(i: int) -> str:
    return f"oligo_c{i}"


def source_table_name(table_name: str) -> str:
    return f"oligo_source_{table_name}"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open_regular(path) as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def read_table_file(path: Path, table: Table, dialect: Dialect,
                    con: duckdb.DuckDBPyConnection, database: str) -> TableFile:
    """Read `path` as text with the dialect into the table `oligo_source_<table>` of the
    in-memory `database` attached to `con` (dropped again when the header is refused);
    raises UnreadableFile.

    Only a regular file under the size cap is opened (files.py); an XLSX is refused before
    parsing when it expands beyond its cap."""
    suffix = path.suffix.lower()
    target = _qualified(database, source_table_name(table.name))
    try:
        open_regular(path, max_file_bytes(suffix)).close()
        if suffix == ".csv":
            names = _read_csv(path, dialect, con, target)
        elif suffix == ".parquet":
            names = _store_frame(con, target, _read_parquet(path, dialect))
        elif suffix == ".xlsx":
            check_xlsx_expansion(path)
            names = _store_frame(con, target, _read_xlsx(path, dialect))
        else:
            raise UnreadableFile(f"unsupported format {suffix}")
    except (UnreadableFile, UnsafeFile):
        raise
    except UndecodableBytes as exc:
        raise UnreadableFile(str(exc)) from None
    except Exception as exc:  # any reader failure, without its message (see UnreadableFile)
        raise UnreadableFile(type(exc).__name__) from None
    header = map_header(names, table, dialect, path.name)
    if not header.ok:
        con.execute(f"DROP TABLE IF EXISTS {target}")
        return TableFile(table.name, path.name, file_sha256(path), header, None, 0,
                         FIRST_DATA_LINE[suffix], database)
    rows = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
    return TableFile(table.name, path.name, file_sha256(path), header,
                     source_table_name(table.name), rows, FIRST_DATA_LINE[suffix], database)


def _store_frame(con: duckdb.DuckDBPyConnection, target: str, frame: pl.DataFrame) -> list[str]:
    """A (small: Parquet, XLSX) text frame into the table `target` (quoted); its names."""
    names = frame.columns
    positional = frame.select(pl.col(c).cast(pl.String).alias(positional_name(i))
                              for i, c in enumerate(names))
    view = f"oligo_frame_{uuid.uuid4().hex[:12]}"
    con.register(view, positional.to_arrow())
    try:
        con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {quote_ident(view)}")
    finally:
        con.unregister(view)
    return names


def _read_csv(path: Path, dialect: Dialect, con: duckdb.DuckDBPyConnection,
              target: str) -> list[str]:
    codec = python_codec(dialect.encoding)
    with open_regular(path) as f:
        first = f.readline(MAX_HEADER_BYTES)
    names = next(csv.reader([decode_or_locate(first, codec, dialect.encoding).rstrip("\r\n")],
                            delimiter=dialect.delimiter), [])
    if not names:
        raise UnreadableFile("empty file")
    positional = {positional_name(i): "VARCHAR" for i in range(len(names))}
    with utf8_copy(path, dialect.encoding, opener=open_regular) as utf8_path:
        query = ("SELECT {select} FROM read_csv($path, delim = $delim, quote = '\"', "
                 "escape = '\"', "
                 "header = true, auto_detect = false, columns = $columns, strict_mode = true"
                 "{extra})")
        params = {"path": str(utf8_path), "delim": dialect.delimiter, "columns": positional}
        try:
            # Straight into the table, in file order (its rowid numbers the rows).
            con.execute(f"CREATE OR REPLACE TABLE {target} AS "
                        + query.format(select="*", extra=""), params)
        except duckdb.Error:
            raise UnreadableFile(_locate_csv_error(con, query, params, path, utf8_path,
                                                   names)) from None
    return names


def _locate_csv_error(con: duckdb.DuckDBPyConnection, query: str, params: dict, path: Path,
                      utf8_path: Path, names: list[str]) -> str:
    """Line, byte offset and kind of the first unreadable row, from DuckDB's rejects table
    (its error message quotes the line, which may hold data: never shown)."""
    try:
        # Every column is touched, or projection pushdown skips the bad value.
        con.execute(query.format(select="max(hash(COLUMNS(*)))",
                                 extra=", store_rejects = true, rejects_table = "
                                 "'oligo_reject_errors', rejects_scan = 'oligo_reject_scans'"),
                    params).fetchall()
        row = con.execute("SELECT line, byte_position, column_name, error_type "
                          "FROM oligo_reject_errors ORDER BY line, byte_position "
                          "LIMIT 1").fetchone()
    except duckdb.Error:
        row = None
    finally:
        for table in ("oligo_reject_errors", "oligo_reject_scans"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
    if row is None:
        return "the CSV reader stopped (no line located)"
    line, byte_position, column, error_type = row
    if utf8_path != path:  # converted copy: give the offset of the line in the original
        with open_regular(path) as original:
            byte_position = line_start_offset(original, int(line))
    index = column.removeprefix(positional_name(0)[:-1]) if column else ""
    where = f"column {names[int(index)]}" if index.isdigit() and int(index) < len(names) \
        else "the row"
    return (f"line {line}, byte offset {byte_position}: {str(error_type).lower()} "
            f"({where})")


def _read_parquet(path: Path, dialect: Dialect) -> pl.DataFrame:
    with open_regular(path) as handle:
        frame = pl.read_parquet(handle)
    return frame.select(_as_dialect_text(frame, dialect))


def _read_xlsx(path: Path, dialect: Dialect) -> pl.DataFrame:
    with open_regular(path) as handle:
        frame = pl.read_excel(handle.read(), engine="calamine", sheet_id=1,
                              infer_schema_length=0)
    # Date cells come out as "YYYY-MM-DD 00:00:00": write them as the dialect would.
    midnight = r"^\d{4}-\d{2}-\d{2} 00:00:00$"
    return frame.select(
        pl.when(pl.col(c).str.contains(midnight))
        .then(pl.col(c).str.slice(0, 10).str.to_date("%Y-%m-%d")
              .dt.strftime(dialect.date_format))
        .otherwise(pl.col(c))
        .alias(c)
        for c in frame.columns
    )


def _as_dialect_text(frame: pl.DataFrame, dialect: Dialect) -> list[pl.Expr]:
    """Typed Parquet columns written as the dialect writes text (dates, decimal mark)."""
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype == pl.Date or dtype == pl.Datetime:
            exprs.append(col.dt.strftime(dialect.date_format).alias(name))
        elif dtype.is_float():
            exprs.append(col.cast(pl.String).str.replace(".", dialect.decimal_mark,
                                                         literal=True).alias(name))
        elif dtype == pl.Boolean:
            exprs.append(pl.when(col).then(pl.lit("true")).when(~col).then(pl.lit("false"))
                         .alias(name))
        else:
            exprs.append(col.cast(pl.String).alias(name))
    return exprs

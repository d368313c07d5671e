"""Writing text frames chunk by chunk: CSV (appended, memory bounded), Parquet (fixed-size row
groups, so the bytes do not depend on the chunk size) and XLSX (one sheet, small batches).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.contract.dialects import Dialect

PARQUET_ROW_GROUP = 65_536
XLSX_MAX_ROWS = 1_048_575
FIRST_ROW_NUMBER = {"csv": 2, "xlsx": 2, "parquet": 0}  # as the validator numbers rows


class TableWriter:
    def __init__(self, path: Path, header: list[str], dialect: Dialect) -> None:
        self.path, self.header, self.dialect = path, header, dialect
        self.rows = 0

    def write(self, df: pl.DataFrame) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def sha256(self) -> str:
        """Hex digest of the closed file."""
        h = hashlib.sha256()
        with self.path.open("rb") as f:
            while block := f.read(1 << 20):
                h.update(block)
        return h.hexdigest()


class CsvWriter(TableWriter):
    def __init__(self, path: Path, header: list[str], dialect: Dialect) -> None:
        super().__init__(path, header, dialect)
        self._f = path.open("wb")
        self._hash = hashlib.sha256()  # hashed as written: the file is never read back
        if dialect.write_bom and dialect.encoding.startswith("utf"):
            self._put("\ufeff".encode())
        self._write_text(pl.DataFrame({h: [] for h in header}, schema={h: pl.String for h in header}), True)

    def _write_text(self, df: pl.DataFrame, include_header: bool) -> None:
        buf = io.BytesIO()
        df.write_csv(buf, separator=self.dialect.delimiter, include_header=include_header,
                     null_value="", quote_style="necessary", line_terminator="\n")
        data = buf.getvalue()
        if self.dialect.encoding.lower() not in ("utf-8", "utf8"):
            data = data.decode("utf-8").encode(self.dialect.encoding)
        self._put(data)

    def _put(self, data: bytes) -> None:
        self._hash.update(data)
        self._f.write(data)

    def write(self, df: pl.DataFrame) -> None:
        self._write_text(df.rename(dict(zip(df.columns, self.header, strict=True))), False)
        self.rows += df.height

    def close(self) -> None:
        self._f.close()

    def sha256(self) -> str:
        return self._hash.hexdigest()


class RowGroupParquet:
    """Frames appended to one Parquet file in fixed-size row groups, so the bytes do not
    depend on how the rows were chunked. The schema is the first frame's unless given."""

    def __init__(self, path: Path, schema: pa.Schema | None = None) -> None:
        self.path, self._schema = path, schema
        self._w = pq.ParquetWriter(path, schema, compression="zstd") if schema is not None else None
        self._pending: list[pl.DataFrame] = []
        self._n_pending = 0
        self.rows = 0

    def write(self, df: pl.DataFrame) -> None:
        self._pending.append(df)
        self._n_pending += df.height
        self.rows += df.height
        if self._n_pending >= PARQUET_ROW_GROUP:
            self._flush(final=False)

    def _flush(self, final: bool) -> None:
        if not self._pending:
            return
        data = pl.concat(self._pending)
        cut = data.height if final else data.height - data.height % PARQUET_ROW_GROUP
        if cut:
            table = data.head(cut).to_arrow()
            if self._w is None:
                self._schema = table.schema
                self._w = pq.ParquetWriter(self.path, self._schema, compression="zstd")
            self._w.write_table(pa.Table.from_batches(table.cast(self._schema).to_batches(), self._schema),
                                row_group_size=PARQUET_ROW_GROUP)
        rest = data.slice(cut)
        self._pending, self._n_pending = ([rest], rest.height) if rest.height else ([], 0)

    def close(self) -> None:
        empty = self._pending[0].clear().to_arrow() if self._pending and not self.rows else None
        self._flush(final=True)
        if self._w is None:
            if empty is not None:  # no row at all (a tiny batch): the file, with its columns
                pq.write_table(empty, self.path, compression="zstd")
            return
        if self.rows == 0:
            self._w.write_table(self._schema.empty_table())
        self._w.close()


class ParquetWriter(TableWriter):
    def __init__(self, path: Path, header: list[str], dialect: Dialect) -> None:
        super().__init__(path, header, dialect)
        self._file = RowGroupParquet(path, pa.schema([(h, pa.string()) for h in header]))

    def write(self, df: pl.DataFrame) -> None:
        self._file.write(df.rename(dict(zip(df.columns, self.header, strict=True))))
        self.rows += df.height

    def close(self) -> None:
        self._file.close()


class XlsxWriter(TableWriter):
    def __init__(self, path: Path, header: list[str], dialect: Dialect) -> None:
        super().__init__(path, header, dialect)
        self._frames: list[pl.DataFrame] = []

    def write(self, df: pl.DataFrame) -> None:
        self.rows += df.height
        if self.rows > XLSX_MAX_ROWS:
            raise ValueError(f"{self.path.name}: more rows than an XLSX sheet holds; use csv or parquet")
        self._frames.append(df)

    def close(self) -> None:
        import xlsxwriter

        wb = xlsxwriter.Workbook(str(self.path), {"constant_memory": True, "strings_to_numbers": False,
                                                  "strings_to_formulas": False, "strings_to_urls": False})
        wb.set_properties({"created": dt.datetime(2000, 1, 1)})  # reproducible bytes
        ws = wb.add_worksheet(self.path.stem[:31])
        for j, h in enumerate(self.header):
            ws.write_string(0, j, h)
        r = 1
        for df in self._frames:
            for row in df.iter_rows():  # writing cells, not a clinical rule
                for j, v in enumerate(row):
                    if v is not None and v != "":
                        ws.write_string(r, j, v)
                r += 1
        wb.close()


WRITERS = {"csv": CsvWriter, "parquet": ParquetWriter, "xlsx": XlsxWriter}

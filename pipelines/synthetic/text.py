"""Typed contract frames -> the text a registry file holds, in a dialect
(`pipelines/contract/dialects.py`): date format, decimal mark, booleans, header aliases.

Every format (CSV, Parquet, XLSX) receives this same text, so every format loads identically.
"""

from __future__ import annotations

import polars as pl

from pipelines.contract.dialects import Dialect
from pipelines.contract.tables import TABLES_BY_NAME

PARTIAL_DATE_COLUMNS = {"primary_tumors": "diagnosis_date", "metastases": "detected_date"}


def to_text(table_name: str, df: pl.DataFrame, dialect: Dialect, partial: pl.Series | None = None) -> pl.DataFrame:
    """All-string frame; `partial` marks rows whose partial-date column is written YYYY-MM."""
    t = TABLES_BY_NAME[table_name]
    true_text, false_text = ("oui", "non") if dialect.name == "fr" else ("true", "false")
    exprs = []
    for c in t.columns:
        col = pl.col(c.name)
        dtype = df.schema[c.name]
        if dtype == pl.Date:
            e = pl.lit(date_text(df[c.name], dialect.date_format))
            if partial is not None and PARTIAL_DATE_COLUMNS.get(table_name) == c.name:
                e = pl.when(pl.lit(partial)).then(pl.lit(date_text(df[c.name], dialect.partial_date_formats[0]))) \
                    .otherwise(e)
        elif dtype == pl.Boolean:
            e = pl.when(col).then(pl.lit(true_text)).when(~col).then(pl.lit(false_text))
        elif dtype.is_float():
            e = col.round(2).cast(pl.String).str.replace(r"\.0$", "")
            if dialect.decimal_mark != ".":
                e = e.str.replace(".", dialect.decimal_mark, literal=True)
        else:
            e = col.cast(pl.String)
        exprs.append(e.alias(c.name))
    return df.select(exprs)


MAX_LOOKUP_DAYS = 200_000


def date_text(dates: pl.Series, fmt: str) -> pl.Series:
    """Dates as text: one gather from the formatted days of the column's range (formatting
    each distinct day once is far cheaper than formatting every row)."""
    days = dates.cast(pl.Int32)
    lo, hi = days.min(), days.max()
    if lo is None or hi - lo > MAX_LOOKUP_DAYS:
        return dates.dt.strftime(fmt)
    table = pl.int_range(lo, hi + 1, dtype=pl.Int32, eager=True).cast(pl.Date).dt.strftime(fmt)
    return table.gather(days - lo)


def header(table_name: str, dialect: Dialect) -> list[str]:
    """Column names as the source writes them (a declared alias where the dialect has one)."""
    alias = {column: a for a, column in dialect.alias_map(table_name).items()}
    return [alias.get(c, c) for c in TABLES_BY_NAME[table_name].column_names]

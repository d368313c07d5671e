"""Building `staging.<table>` from `raw.<table>` with the statement in
`sql/staging/<table>.sql`, and the reconciliation rows read = rows loaded + rows quarantined
(docs/data-dictionary.md: never drop a row silently).

Staging reads raw as the loader wrote it: every id column keyed (an HMAC of the trimmed id, or
NULL when blank), so the SQL takes ids as they are instead of trimming them again (and sorts
on them as they are: staging keeps its key order, which the order of the clinical steps'
lists follows)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.contract.dialects import Dialect
from pipelines.contract.tables import TABLES, TABLES_BY_NAME, TARGET_LITERALS
from pipelines.ingest.sql_support import (
    create_macros,
    dialect_parameters,
    prepare_connection,
    used_parameters,
)
from pipelines.side_by_side import run_side_by_side
from pipelines.sql_quoting import quote_ident

STAGING_SQL_DIR = Path(__file__).resolve().parents[2] / "sql" / "staging"
STAGING_SCHEMA = "staging"


def staging_sql(table_name: str) -> str:
    return (STAGING_SQL_DIR / f"{table_name}.sql").read_text(encoding="utf-8")


def staging_parameters(dialect: Dialect) -> dict[str, object]:
    """The dialect's parameters plus every contract default (`default_<column>`)."""
    defaults = {
        f"default_{c.name}": c.default
        for t in TABLES for c in t.columns if c.default is not None
    }
    return dialect_parameters(dialect) | defaults | {"target_literals": list(TARGET_LITERALS)}


def build_staging_table(con: duckdb.DuckDBPyConnection, table_name: str,
                        dialect: Dialect) -> int:
    """Replace `staging.<table_name>`; expects `raw.*` and `find_row_defects` done. Returns the
    number of rows loaded."""
    TABLES_BY_NAME[table_name]  # an unknown table is an error before any SQL runs
    prepare_connection(con)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {STAGING_SCHEMA}")
    return _build(con, table_name, dialect)


def build_staging_tables(con: duckdb.DuckDBPyConnection, dialect: Dialect) -> dict[str, int]:
    """Every `staging.<table>`, two statements side by side (largest raw table first: the
    small ones fill in beside the long ones); table -> rows loaded. The contract tables are
    prepared once on `con`, the typing macros (temporary) on each cursor, and each cursor
    writes its tables in one transaction (two commits, not ten). A failure names its table
    and rolls every cursor's tables back: staging stays as it was."""
    prepare_connection(con)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {STAGING_SCHEMA}")
    sizes = dict(con.execute(
        "SELECT table_name, estimated_size FROM duckdb_tables() WHERE schema_name = 'raw'"
    ).fetchall())
    names = sorted((t.name for t in TABLES), key=lambda n: -sizes.get(n, 0))
    jobs = [(name, lambda cursor, name=name: _build(cursor, name, dialect)) for name in names]
    built = run_side_by_side(con, jobs, setup=create_macros, what="the statement of staging.",
                             transaction=True)
    return {t.name: built[t.name] for t in TABLES}


def _build(con: duckdb.DuckDBPyConnection, table_name: str, dialect: Dialect) -> int:
    sql = staging_sql(table_name)
    con.execute(
        f"CREATE OR REPLACE TABLE {STAGING_SCHEMA}.{quote_ident(table_name)} AS {sql}",
        used_parameters(sql, staging_parameters(dialect)),
    )
    return con.execute(
        f"SELECT count(*) FROM {STAGING_SCHEMA}.{quote_ident(table_name)}"
    ).fetchone()[0]


@dataclass(frozen=True)
class TableCounts:
    """A row of `ops.table_counts` (without run and batch ids)."""

    table_name: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rows_flagged: int

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_quarantined


def reconcile(con: duckdb.DuckDBPyConnection) -> list[TableCounts]:
    """Per table: rows in raw, in staging, quarantined (distinct rows), flagged; one query."""
    parts = " UNION ALL ".join(
        f"SELECT {i} AS position, (SELECT count(*) FROM raw.{quote_ident(t.name)}), "
        f"(SELECT count(*) FROM staging.{quote_ident(t.name)}), "
        f"(SELECT count(DISTINCT (file, row_number)) FROM ingest.quarantine "
        f"WHERE table_name = $t{i}), "
        f"(SELECT count(DISTINCT (file, row_number)) FROM ingest.implausibilities "
        f"WHERE table_name = $t{i})"
        for i, t in enumerate(TABLES))
    rows = con.execute(f"SELECT * FROM ({parts}) ORDER BY position",
                       {f"t{i}": t.name for i, t in enumerate(TABLES)}).fetchall()
    return [TableCounts(t.name, *row[1:]) for t, row in zip(TABLES, rows, strict=True)]

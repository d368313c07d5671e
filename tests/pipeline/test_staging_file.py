"""Staging in a file of its own (pipelines/staging_file.py): every build writes a fresh file
swapped in at the end, a failed build leaves the earlier file as it was, cursors see the same
`staging`, and a frozen snapshot that starts from the file's bytes holds exactly what one
written table by table holds."""

import os

import duckdb
import pytest

from pipelines.assets.tables import staging_docs
from pipelines.clinical.parameters import ClinicalParameters
from pipelines.contract import TABLES
from pipelines.marts_catalog import MART_TABLES, mart_docs
from pipelines.publish import write_database_copy
from pipelines.side_by_side import cursor_of, run_side_by_side
from pipelines.staging_file import (
    StagingFileUnusable,
    checkpointed_file,
    connect_warehouse,
    fresh_staging,
    staging_path,
)


def build(con, value: int) -> None:
    with fresh_staging(con):
        con.execute(f"CREATE TABLE staging.patients AS SELECT {value} AS n")


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".tmp", ".tmp.wal")))


def test_each_build_writes_a_new_file_that_replaces_the_earlier_one(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with connect_warehouse(warehouse) as con:
        build(con, 1)
        first = staging_path(warehouse).stat().st_ino
        build(con, 2)
        assert con.execute("SELECT n FROM staging.patients").fetchall() == [(2,)]
    assert staging_path(warehouse).stat().st_ino != first  # a new file, not rewritten
    assert leftovers(tmp_path) == []
    with duckdb.connect(str(warehouse)) as plain:  # the warehouse itself holds no staging
        assert plain.execute("SELECT count(*) FROM duckdb_tables() "
                             "WHERE schema_name = 'staging'").fetchone()[0] == 0
    with connect_warehouse(warehouse, read_only=True) as con:  # a later connection sees it
        assert con.execute("SELECT n FROM staging.patients").fetchall() == [(2,)]


def test_a_failed_build_leaves_the_staging_file_as_it_was(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with connect_warehouse(warehouse) as con:
        build(con, 1)
        before = staging_path(warehouse).read_bytes()
        with pytest.raises(RuntimeError, match="half built"), fresh_staging(con):
            con.execute("CREATE TABLE staging.patients AS SELECT 99 AS n")
            raise RuntimeError("half built")
        assert con.execute("SELECT n FROM staging.patients").fetchall() == [(1,)]
    assert staging_path(warehouse).read_bytes() == before
    assert leftovers(tmp_path) == []


def test_cursors_read_and_write_the_same_staging(tmp_path):
    with connect_warehouse(tmp_path / "warehouse.duckdb") as con:
        with fresh_staging(con):
            run_side_by_side(con, [(f"t{i}", lambda c, i=i: c.execute(
                f"CREATE TABLE staging.t{i} AS SELECT {i} AS n")) for i in range(3)],
                transaction=True)
        with cursor_of(con) as cursor:
            assert cursor.execute("SELECT sum(n) FROM (SELECT n FROM staging.t0 UNION ALL "
                                  "SELECT n FROM staging.t1 UNION ALL SELECT n FROM staging.t2)"
                                  ).fetchone()[0] == 3
        database = con.execute("SELECT current_database()").fetchone()[0]
        catalogs = {row[0] for row in con.execute(
            "SELECT database_name FROM duckdb_tables() WHERE schema_name = 'staging'").fetchall()}
        assert catalogs == {"working_staging"} and database not in catalogs


def test_a_staging_schema_of_the_earlier_layout_is_dropped(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as old:
        old.execute("CREATE SCHEMA staging")
        old.execute("CREATE TABLE staging.patients AS SELECT 7 AS n")
    with connect_warehouse(warehouse) as con:
        assert con.execute("SELECT n FROM staging.patients").fetchall() == [(7,)]  # no file yet
        build(con, 3)
        assert con.execute("SELECT n FROM staging.patients").fetchall() == [(3,)]
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'staging' "
                           "AND database_name = current_database()").fetchone()[0] == 0


def test_an_unreadable_staging_file_is_one_line_naming_the_fix(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()
    staging_path(warehouse).write_bytes(b"not a database" * 1000)
    with pytest.raises(StagingFileUnusable, match="move it aside: every run writes a new one"):
        connect_warehouse(warehouse)


def tables_and_comments(con):
    return (con.execute("SELECT schema_name, table_name, comment FROM duckdb_tables() "
                        "ORDER BY ALL").fetchall(),
            con.execute("SELECT schema_name, table_name, column_name, data_type, comment "
                        "FROM duckdb_columns() ORDER BY schema_name, table_name, column_index"
                        ).fetchall())


def test_a_snapshot_from_the_staging_bytes_equals_one_written_table_by_table(home):
    """The published file of a run (started from the staging file's bytes) against a copy
    written table by table from the same warehouse: same tables, columns, comments, and
    rows in the same order (the staging rows are the bytes the staging step wrote)."""
    frozen = home / "published" / "batches" / "2026-10-31.duckdb"
    by_table = home / "by-table.duckdb"
    with connect_warehouse(home / "warehouse.duckdb") as con:
        assert checkpointed_file(con) == staging_path(home / "warehouse.duckdb")
        tables = ([("marts", t) for t in MART_TABLES] + [("staging", t.name) for t in TABLES])
        write_database_copy(con, by_table, tables,
                            docs=mart_docs(ClinicalParameters()) | staging_docs(),
                            extra_statements=[("CREATE SCHEMA {db}.meta", [])])
    with duckdb.connect(str(frozen), read_only=True) as a, \
            duckdb.connect(str(by_table), read_only=True) as b:
        got, want = tables_and_comments(a), tables_and_comments(b)
        meta = ("meta", "provenance")
        assert [t for t in got[0] if t[:2] != meta] == want[0]
        assert [c for c in got[1] if c[:2] != meta] == want[1]
        for schema, table, _ in want[0]:
            sql = f"SELECT * FROM {schema}.{table}"
            assert a.execute(sql).fetchall() == b.execute(sql).fetchall(), table
    assert os.stat(frozen).st_mode & 0o222 == 0  # sealed read-only, as before

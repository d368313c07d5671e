"""The working snapshot (pipelines/working_snapshot.py): every staging build writes a fresh
file swapped in at the end, a failed build leaves the earlier file as it was, cursors see the
same `staging` and `marts`, the clinical step commits the marts there, and a frozen snapshot
copied from the file's bytes holds exactly what one written table by table holds."""

import os
import subprocess
import sys

import duckdb
import polars as pl
import pytest

from pipelines.assets.patient_partitions import writing
from pipelines.assets.tables import staging_docs
from pipelines.clinical.parameters import ClinicalParameters
from pipelines.contract import TABLES
from pipelines.marts_catalog import MART_TABLES, mart_docs
from pipelines.publish import write_database_copy
from pipelines.side_by_side import cursor_of, run_side_by_side
from pipelines.working_snapshot import (
    MissingSnapshotTables,
    WorkingSnapshotUnusable,
    checkpointed_file,
    connect_warehouse,
    fresh_working_snapshot,
    record_contents,
    require_contents,
    require_tables,
    snapshot_path,
)


def build(con, value: int) -> None:
    with fresh_working_snapshot(con):
        con.execute(f"CREATE TABLE staging.patients AS SELECT {value} AS n")


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".tmp", ".tmp.wal")))


def test_each_build_writes_a_new_file_that_replaces_the_earlier_one(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with connect_warehouse(warehouse) as con:
        build(con, 1)
        first = snapshot_path(warehouse).stat().st_ino
        build(con, 2)
        assert con.execute("SELECT n FROM staging.patients").fetchall() == [(2,)]
    assert snapshot_path(warehouse).stat().st_ino != first  # a new file, not rewritten
    assert leftovers(tmp_path) == []
    with duckdb.connect(str(warehouse)) as plain:  # the warehouse itself holds no staging
        assert plain.execute("SELECT count(*) FROM duckdb_tables() "
                             "WHERE schema_name = 'staging'").fetchone()[0] == 0
    with connect_warehouse(warehouse, read_only=True) as con:  # a later connection sees it
        assert con.execute("SELECT n FROM staging.patients").fetchall() == [(2,)]


def test_a_failed_build_leaves_the_working_snapshot_as_it_was(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with connect_warehouse(warehouse) as con:
        build(con, 1)
        before = snapshot_path(warehouse).read_bytes()
        with pytest.raises(RuntimeError, match="half built"), fresh_working_snapshot(con):
            con.execute("CREATE TABLE staging.patients AS SELECT 99 AS n")
            raise RuntimeError("half built")
        assert con.execute("SELECT n FROM staging.patients").fetchall() == [(1,)]
    assert snapshot_path(warehouse).read_bytes() == before
    assert leftovers(tmp_path) == []


LEFT_BEHIND = """
import os, sys
from pathlib import Path
from pipelines.working_snapshot import connect_warehouse
con = connect_warehouse(Path(sys.argv[1]))
con.execute("CREATE TABLE marts.m AS SELECT 'probe-of-an-earlier-batch' AS v")
os._exit(0)  # killed: the committed rows are in the log only
"""


def test_a_log_left_without_its_file_is_never_replayed_onto_a_new_snapshot(tmp_path):
    """A run killed after a commit leaves the snapshot's write-ahead log; if the file is then
    moved away, DuckDB would replay that log onto the next file at that path."""
    warehouse = tmp_path / "warehouse.duckdb"
    with connect_warehouse(warehouse) as con:
        build(con, 1)
    subprocess.run([sys.executable, "-c", LEFT_BEHIND, str(warehouse)], check=True)
    log = snapshot_path(warehouse).with_name(snapshot_path(warehouse).name + ".wal")
    assert log.exists()
    snapshot_path(warehouse).rename(tmp_path / "moved-aside.duckdb")
    with connect_warehouse(warehouse) as con:
        build(con, 2)
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'm'"
                           ).fetchone()[0] == 0
    assert not log.exists()
    assert b"probe-of-an-earlier-batch" not in snapshot_path(warehouse).read_bytes()


def test_cursors_read_and_write_the_same_staging(tmp_path):
    with connect_warehouse(tmp_path / "warehouse.duckdb") as con:
        with fresh_working_snapshot(con):
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
        assert catalogs == {"working_snapshot"} and database not in catalogs


def test_staging_and_marts_schemas_of_the_earlier_layout_are_dropped(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as old:
        for schema in ("staging", "marts"):
            old.execute(f"CREATE SCHEMA {schema}")
            old.execute(f"CREATE TABLE {schema}.patients AS SELECT 7 AS n")
    with connect_warehouse(warehouse) as con:
        assert con.execute("SELECT n FROM staging.patients").fetchall() == [(7,)]  # no file yet
        build(con, 3)
        assert con.execute("SELECT n FROM staging.patients").fetchall() == [(3,)]
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name IN "
                           "('staging', 'marts') AND database_name = current_database()"
                           ).fetchone()[0] == 0


def test_an_unreadable_working_snapshot_is_one_line_naming_the_fix(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()
    snapshot_path(warehouse).write_bytes(b"not a database" * 1000)
    with pytest.raises(WorkingSnapshotUnusable, match="run `oligo rebuild` to set it aside"):
        connect_warehouse(warehouse)


def test_the_clinical_writer_commits_marts_in_the_snapshot_and_the_rest_in_the_warehouse(
        tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    frame = pl.DataFrame({"n": [1, 2]})
    layers = {"m": "marts", "c": "clinical"}
    with connect_warehouse(warehouse) as con:
        build(con, 1)
        with pytest.raises(RuntimeError, match="derivation failed"), \
                writing(con, layers) as out:
            out.append({"m": frame, "c": frame})
            out.wait()
            raise RuntimeError("derivation failed")
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name IN "
                           "('m', 'c')").fetchone()[0] == 0  # both rolled back
        with writing(con, layers) as out:
            out.append({"m": frame, "c": frame})
            out.append({"m": frame})
        placed = con.execute("SELECT database_name, schema_name, table_name, estimated_size "
                             "FROM duckdb_tables() WHERE table_name IN ('m', 'c') "
                             "ORDER BY ALL").fetchall()
        assert placed == [("warehouse", "clinical", "c", 2),
                          ("working_snapshot", "marts", "m", 4)]


def test_publishing_refuses_a_working_snapshot_without_its_marts_or_with_other_tables(
        tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    expected = [("staging", "patients"), ("marts", "omd_episodes")]
    with connect_warehouse(warehouse) as con:
        build(con, 1)  # a new staging build: the marts are not derived yet
        with pytest.raises(MissingSnapshotTables, match="no marts.omd_episodes: staging was "
                           "built again since the marts were derived; materialise"):
            require_tables(con, expected)
        con.execute("CREATE TABLE marts.omd_episodes AS SELECT 1 AS n")
        require_tables(con, expected)
        con.execute("CREATE TABLE marts.scratch AS SELECT 1 AS n")
        with pytest.raises(MissingSnapshotTables, match="tables no published file may: "
                           "marts.scratch"):
            require_tables(con, expected)


def test_publishing_refuses_a_working_snapshot_of_another_batch_or_parameter_set(tmp_path):
    with connect_warehouse(tmp_path / "warehouse.duckdb") as con:
        with pytest.raises(MissingSnapshotTables, match="staging of batch \\(none\\)"):
            require_contents(con, "B", "default")  # nothing recorded yet
        record_contents(con, "staging", "B")
        record_contents(con, "marts", None)  # a new staging build: no marts yet
        with pytest.raises(MissingSnapshotTables, match="marts of batch \\(none\\)"):
            require_contents(con, "B", "default")
        record_contents(con, "marts", "B", "sensitivity-1")
        with pytest.raises(MissingSnapshotTables, match="parameters sensitivity-1\\), not "
                           "batch B with parameters default: run the whole job for batch B"):
            require_contents(con, "B", "default")
        record_contents(con, "marts", "B", "default")
        require_contents(con, "B", "default")
        with pytest.raises(MissingSnapshotTables, match="staging of batch B and marts of batch "
                           "B \\(parameters default\\), not batch A"):
            require_contents(con, "A", "default")


def tables_and_comments(con):
    return (con.execute("SELECT schema_name, table_name, comment FROM duckdb_tables() "
                        "ORDER BY ALL").fetchall(),
            con.execute("SELECT schema_name, table_name, column_name, data_type, comment "
                        "FROM duckdb_columns() ORDER BY schema_name, table_name, column_index"
                        ).fetchall())


def test_a_frozen_file_copied_from_the_working_snapshot_equals_one_written_table_by_table(home):
    """The published file of a run (a copy of the working snapshot's bytes) against a copy
    written table by table from the same warehouse: same tables, columns, comments, and
    rows in the same order."""
    frozen = home / "published" / "batches" / "2026-10-31.duckdb"
    by_table = home / "by-table.duckdb"
    with connect_warehouse(home / "warehouse.duckdb") as con:
        assert checkpointed_file(con) == snapshot_path(home / "warehouse.duckdb")
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

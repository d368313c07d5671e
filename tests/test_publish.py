"""Atomic publishing: complete files only, read-only, crash-safe, readers never disturbed."""

import os
import stat
import subprocess
import sys
import textwrap
import time

import duckdb

from pipelines.publish import publish_files, temporary_path, write_database_copy
from pipelines.run_lock import run_lock


def make_source(version: int) -> duckdb.DuckDBPyConnection:
    """A working database whose table `marts.t` holds `version` rows all equal to version."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.t AS SELECT ?::INT AS v FROM range(?)", [version, version])
    return con


def publish_version(target, version: int) -> None:
    con = make_source(version)
    tmp = temporary_path(target)
    write_database_copy(con, tmp, [("marts", "t")], docs={
        "t": {"description": "test table", "grain": "one row per unit",
              "columns": {"v": "the version"}}})
    publish_files([(tmp, target)])
    con.close()


def test_published_file_is_complete_read_only_and_commented(tmp_path):
    target = tmp_path / "current.duckdb"
    publish_version(target, 3)
    assert not os.stat(target).st_mode & stat.S_IWUSR
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.sql("select count(*), min(v) from marts.t").fetchone() == (3, 3)
        comment = con.sql("select comment from duckdb_tables() where table_name='t'").fetchone()
        assert comment[0] == "test table Grain: one row per unit."
        col = con.sql("select comment from duckdb_columns() where column_name='v'").fetchone()
        assert col[0] == "the version"
    assert not list(tmp_path.glob(".*.tmp"))


def test_crash_at_publish_leaves_published_file_byte_identical(tmp_path):
    target = tmp_path / "current.duckdb"
    publish_version(target, 2)
    before = target.read_bytes()
    script = textwrap.dedent(f"""
        import pathlib, sys
        sys.path.insert(0, {str(os.getcwd())!r})
        from tests.test_publish import publish_version
        publish_version(pathlib.Path({str(target)!r}), 5)
    """)
    env = dict(os.environ, OLIGO_FAULT_POINT="publish")
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True)
    assert proc.returncode == -9  # killed by SIGKILL at the fault point
    assert target.read_bytes() == before
    publish_version(target, 6)  # the next publish completes
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.sql("select count(*) from marts.t").fetchone()[0] == 6


READER = textwrap.dedent("""
    import sys, time, duckdb
    path, until = sys.argv[1], float(sys.argv[2])
    seen = set()
    while time.time() < until:
        con = duckdb.connect(path, read_only=True)
        n, lo, hi = con.execute("select count(*), min(v), max(v) from marts.t").fetchone()
        con.close()
        if not (n == lo == hi):
            print("INCOMPLETE", n, lo, hi); sys.exit(1)
        seen.add(n)
    print(len(seen))
""")


def test_readers_see_only_complete_snapshots_during_repeated_publishes(tmp_path):
    target = tmp_path / "current.duckdb"
    publish_version(target, 1)
    until = time.time() + 6
    readers = [subprocess.Popen([sys.executable, "-c", READER, str(target), str(until)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(3)]
    version = 1
    while time.time() < until - 0.5:
        version += 1
        publish_version(target, version)
    for reader in readers:
        out, err = reader.communicate(timeout=60)
        assert reader.returncode == 0, out + err
        assert int(out.strip()) >= 1
    assert version > 5


def test_run_lock_excludes_other_processes_and_is_reentrant(tmp_path):
    lock = tmp_path / "run.lock"
    script = textwrap.dedent(f"""
        import pathlib, sys
        sys.path.insert(0, {str(os.getcwd())!r})
        from pipelines.run_lock import run_lock, RunInProgress
        try:
            with run_lock(pathlib.Path({str(lock)!r})):
                print("acquired")
        except RunInProgress as exc:
            print("refused:", exc)
    """)
    with run_lock(lock), run_lock(lock):  # re-entrant in this process
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
        assert out.stdout.startswith("refused: another pipeline run holds")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.stdout.strip() == "acquired"



def _frozen(path, batch_id: str, published_at: str) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA meta")
        con.execute("CREATE TABLE meta.provenance AS SELECT ? AS batch_id, 'default' AS "
                    "parameter_set, ?::TIMESTAMP AS published_at", [batch_id, published_at])


def test_frozen_files_are_offered_only_once_ops_records_their_publication(tmp_path):
    from pipelines.publish import offered_snapshots

    batches = tmp_path / "batches"
    batches.mkdir()
    _frozen(batches / "b1.duckdb", "b1", "2026-11-01 10:00:00")
    _frozen(batches / "b2.duckdb", "b2", "2026-12-01 10:00:00")  # swapped, then a crash
    _frozen(batches / "b3.duckdb", "b3", "2026-12-02 10:00:00")  # replaced, ops has the old
    ops = tmp_path / "ops.duckdb"
    assert offered_snapshots(batches, ops) == {}  # no ops file: nothing is vouched for
    with duckdb.connect(str(ops)) as con:
        con.execute("CREATE SCHEMA ops.ops")
        con.execute("CREATE TABLE ops.ops.batches AS SELECT * FROM (VALUES "
                    "('b1', TIMESTAMP '2026-11-01 10:00:00'), ('b2', NULL), "
                    "('b3', TIMESTAMP '2026-11-15 10:00:00')) t(batch_id, published_at)")
    assert offered_snapshots(batches, ops) == {"b1": batches / "b1.duckdb"}


def test_a_failed_copy_leaves_no_temporary(tmp_path):
    import pytest

    from pipelines.publish import discard_pending_temporaries

    target = tmp_path / "current.duckdb"
    con = make_source(3)
    tmp = temporary_path(target)
    with pytest.raises(duckdb.Error):
        write_database_copy(con, tmp, [("marts", "no_such_table")])
    assert not list(tmp_path.iterdir())
    orphan = temporary_path(target)
    orphan.write_bytes(b"half a file")
    assert discard_pending_temporaries() == [orphan] and not orphan.exists()


def test_tables_copied_side_by_side_are_all_there_and_a_failure_among_them_leaves_nothing(
        tmp_path):
    import pytest

    con = make_source(3)
    for i in range(5):
        con.execute(f"CREATE TABLE marts.t{i} AS SELECT range AS v FROM range({1000 * i})")
    tables = [("marts", "t")] + [("marts", f"t{i}") for i in range(5)]
    docs = {f"t{i}": {"description": f"table {i}", "columns": {"v": f"value {i}"}}
            for i in range(5)}
    target = tmp_path / "current.duckdb"
    tmp = temporary_path(target)
    write_database_copy(con, tmp, tables, docs=docs)
    publish_files([(tmp, target)])
    with duckdb.connect(str(target), read_only=True) as copy:
        assert [copy.sql(f"select count(*) from marts.t{i}").fetchone()[0] for i in range(5)] \
            == [1000 * i for i in range(5)]
        assert copy.sql("select comment from duckdb_columns() where table_name = 't4'"
                        ).fetchone()[0] == "value 4"
    failing = tmp_path / "failing.duckdb"
    with pytest.raises(duckdb.Error) as failure:
        write_database_copy(con, temporary_path(failing),
                            [*tables[:3], ("marts", "no_such_table"), *tables[3:]])
    assert "while running the copy of marts.no_such_table" in failure.value.__notes__
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current.duckdb"]

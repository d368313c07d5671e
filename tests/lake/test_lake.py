"""The DuckLake target end to end on a real PostgreSQL: two batches published by `oligo run`,
read back from another (empty) data folder through the same SQL-safety module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines import safe_sql
from pipelines.contract import TABLES
from pipelines.lake import publish_batch
from pipelines.lake.catalog import current_snapshot, frozen_snapshots, lake_connection
from pipelines.lake.config import lake_target
from pipelines.lake.read import list_snapshots, snapshot_of
from pipelines.marts_catalog import MART_TABLES
from tests.lake.conftest import BATCHES

pytestmark = pytest.mark.timeout(600)
REPO = Path(__file__).resolve().parents[2]
ALL_TABLES = [("marts", t) for t in MART_TABLES] + [("staging", t.name) for t in TABLES] + [
    ("meta", "provenance")]


def oligo(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], capture_output=True,
                          text=True, env=env or dict(os.environ), cwd=REPO)


def embedded_counts(frozen: Path) -> dict[str, int]:
    with duckdb.connect(str(frozen), read_only=True) as con:
        return {f"{s}.{t}": con.execute(f"SELECT count(*) FROM {s}.{t}").fetchone()[0]
                for s, t in ALL_TABLES if (s, t) != ("meta", "provenance")}


def test_each_batch_is_a_snapshot_with_its_provenance(lake_home):
    snapshots = list_snapshots()
    assert [s.name for s in snapshots] == ["b1", "b2"]  # discovered oldest cut-off first
    for snapshot in snapshots:
        cutoff = BATCHES[snapshot.batch_id][0]
        assert str(snapshot.data_cutoff_date) == cutoff
        assert snapshot.parameter_set == "default"
        with duckdb.connect(str(lake_home.frozen(snapshot.batch_id)), read_only=True) as con:
            published_at = con.execute("SELECT published_at FROM meta.provenance").fetchone()[0]
        assert snapshot.published_at == published_at
    assert current_snapshot(snapshots).batch_id == "b2"
    # The Dagster runs of that `oligo run` are in PostgreSQL, not in SQLite files.
    (runs,) = lake_home.server.sql("SELECT count(*) FROM runs", dbname="dagster")[0]
    assert runs == 2
    assert not list((lake_home.home / "dagster_home").glob("**/*.db"))


def test_as_of_a_batch_returns_that_batch(lake_home):
    for batch_id in BATCHES:
        proc = oligo("sql", "--csv", "--batch", batch_id,
                     "SELECT p.batch_id, p.data_cutoff_date, count(*) AS n "
                     "FROM meta.provenance p, marts.episode_cohort GROUP BY ALL")
        assert proc.returncode == 0, proc.stderr
        expected = embedded_counts(lake_home.frozen(batch_id))["marts.episode_cohort"]
        assert proc.stdout.splitlines()[1] == f"{batch_id},{BATCHES[batch_id][0]},{expected}"
    current = oligo("sql", "--csv", "SELECT batch_id FROM meta.provenance")
    assert current.stdout.splitlines()[1] == "b2"


def test_marts_equal_the_embedded_target_row_for_row(lake_home):
    """Every table of every snapshot against the embedded frozen file: same columns and
    types, and no row of one missing from the other (EXCEPT ALL both ways, so duplicates
    count)."""
    frozen = frozen_snapshots(list_snapshots())
    for batch_id in BATCHES:
        with lake_connection(lake_target(), snapshot_id=frozen[batch_id].snapshot_id) as con:
            con.execute(f"ATTACH '{lake_home.frozen(batch_id)}' AS embedded (READ_ONLY)")
            for schema, table in ALL_TABLES:
                lake_name, file_name = f"lake.{schema}.{table}", f"embedded.{schema}.{table}"
                columns = [con.execute(
                    "SELECT column_name, data_type, comment FROM duckdb_columns() "
                    "WHERE database_name = ? AND schema_name = ? AND table_name = ? "
                    "ORDER BY column_index", [db, schema, table]).fetchall()
                    for db in ("lake", "embedded")]
                assert columns[0] == columns[1], f"{batch_id} {schema}.{table} columns"
                (missing, extra, n_lake, n_file) = con.execute(
                    f"SELECT (SELECT count(*) FROM (FROM {file_name} EXCEPT ALL FROM {lake_name})),"
                    f" (SELECT count(*) FROM (FROM {lake_name} EXCEPT ALL FROM {file_name})),"
                    f" (SELECT count(*) FROM {lake_name}), (SELECT count(*) FROM {file_name})"
                ).fetchone()
                assert (missing, extra, n_lake) == (0, 0, n_file), f"{batch_id} {schema}.{table}"
                assert n_file > 0 or schema == "staging", f"{schema}.{table} is empty"


def test_readers_on_another_host_use_the_lake_only(lake_home):
    """The reader's data folder is empty: `oligo sql`, survival and export work from the
    lake alone; ops tables (local to the pipeline host) are simply absent."""
    assert not any(lake_home.reader_home.iterdir())
    assert snapshot_of(safe_sql.published_database()) == current_snapshot(list_snapshots()).snapshot_id
    survival = oligo("survival", "--endpoint", "os", "--batch", "b1")
    assert survival.returncode == 0, survival.stderr
    assert "median survival" in survival.stdout
    out = lake_home.reader_home / "export-b1"
    export = oligo("export", "--batch", "b1", "--out", str(out))
    assert export.returncode == 0, export.stderr
    assert json.loads((out / "provenance.json").read_text())["batch_id"] == "b1"
    dictionary = (out / "data_dictionary.csv").read_text()
    assert "Grain:" in dictionary  # the comments travelled into the lake
    missing = oligo("sql", "--batch", "b9", "SELECT 1")
    assert missing.returncode == 2 and "no batch 'b9' in the DuckLake" in missing.stderr


@pytest.mark.parametrize("query, reason", [
    ("SELECT * FROM postgres_query('__ducklake_metadata_lake', 'SELECT 1')", "postgres_query"),
    ("SELECT * FROM postgres_scan('dbname=postgres host=127.0.0.1', 'public', 't')",
     "postgres_scan"),
    ('SELECT * FROM "__ducklake_metadata_lake".public.ducklake_snapshot', "__ducklake_metadata"),
    ("SELECT * FROM query('SELECT * FROM postgres' || '_query(1)')", "query"),
    ("SELECT * FROM read_csv('/etc/passwd')", "file system operations are disabled"),
    ("SELECT * FROM ducklake_list_files('lake', 'episode_cohort')", "ducklake_list_files"),
    ("CREATE TABLE marts.x AS SELECT 1", "CREATE statement"),
    ("ATTACH 'ducklake:postgres:dbname=oligo_lake' AS other", "ATTACH statement"),
])
def test_lake_readers_are_refused_what_the_files_readers_are(lake_home, query, reason):
    with pytest.raises(safe_sql.QueryRefused, match=reason):
        safe_sql.run_query(query, safe_sql.published_database())


def test_oligo_sql_reports_a_refusal_on_the_lake(lake_home):
    proc = oligo("sql", "SELECT * FROM postgres_query('__ducklake_metadata_lake', 'SELECT 1')")
    assert proc.returncode == 2
    assert proc.stderr.startswith("oligo sql: refused: postgres_query is not allowed")


def test_lake_data_folder_is_the_only_readable_path(lake_home):
    """Allowed by design: the Parquet files of the lake itself (readers must open them)."""
    data = lake_target().data_path
    database = safe_sql.published_database()
    inside = safe_sql.run_query(f"SELECT count(*) AS n FROM glob('{data}/**/*.parquet')", database)
    assert inside.frame["n"][0] > 0
    with pytest.raises(safe_sql.QueryRefused, match="file system operations are disabled"):
        safe_sql.run_query(f"SELECT * FROM glob('{lake_home.home}/published/*')", database)
    with pytest.raises(safe_sql.QueryRefused, match="file system operations are disabled"):
        safe_sql.run_query(f"FROM read_csv('{data}/../../../../../../etc/passwd')", database)


def test_the_reader_role_cannot_write_the_catalog(lake_home):
    import psycopg2

    with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction):
        lake_home.server.sql("DELETE FROM ducklake_snapshot", dbname="oligo_lake",
                             user="oligo_reader")


def test_dashboards_read_the_lake(lake_home):
    from dashboards import data

    assert data.batch_choices() == ["current", "b2", "b1"]
    current = data.database_for("current")
    assert data.provenance(current).batch_id == "b2"
    b1 = data.read_mart(data.database_for("b1"), "episode_cohort")
    with duckdb.connect(str(lake_home.frozen("b1")), read_only=True) as con:
        embedded = con.execute("FROM marts.episode_cohort").pl()
    assert b1.sort("episode_id").equals(embedded.sort("episode_id"))


def test_a_publisher_killed_before_commit_leaves_the_lake_as_it_was(lake_home):
    """SIGKILL at the last moment of a lake publish (its Parquet files written, the commit
    not yet made): no new snapshot, `current` and every batch read as before."""
    before = list_snapshots()
    env = dict(os.environ, OLIGO_FAULT_POINT="lake_commit")
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from pathlib import Path; "
         "from pipelines.lake import publish_batch; publish_batch(Path(sys.argv[1]))",
         str(lake_home.frozen("b1"))], env=env, cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr
    assert list_snapshots() == before
    current = safe_sql.run_query("SELECT batch_id FROM meta.provenance",
                                 safe_sql.published_database())
    assert current.frame["batch_id"].to_list() == ["b2"]


def test_readers_see_only_complete_snapshots_during_publishes(lake_home, tmp_path):
    """READERS reader processes read the newest snapshot in a loop while this process
    publishes the two batches alternately PUBLISHES times; every read must be one whole
    batch (all table counts of the same batch), with 0 errors."""
    readers = int(os.environ.get("OLIGO_LAKE_TEST_READERS", "3"))
    publishes = int(os.environ.get("OLIGO_LAKE_TEST_PUBLISHES", "6"))
    expected = {b: embedded_counts(lake_home.frozen(b)) for b in BATCHES}
    (tmp_path / "expected.json").write_text(json.dumps(expected))
    stop = tmp_path / "stop"
    results = [tmp_path / f"reader-{i}.json" for i in range(readers)]
    processes = [subprocess.Popen(
        [sys.executable, "-m", "tests.lake.reader_loop", str(tmp_path / "expected.json"),
         str(stop), str(result)], cwd=REPO, env=dict(os.environ)) for result in results]
    try:
        deadline = time.monotonic() + 120
        while not all(r.exists() for r in results):  # every reader has read once
            assert time.monotonic() < deadline, "readers did not start"
            assert all(p.poll() is None for p in processes), "a reader exited"
            time.sleep(0.2)
        started, waited = time.monotonic(), 0.0
        for i in range(publishes):
            publish_batch(lake_home.frozen("b1" if i % 2 == 0 else "b2"))
            # Let some reader finish a read after each publish, so reads interleave.
            waited += wait_for_more_reads(results, total_reads(results), processes)
        publish_seconds = time.monotonic() - started - waited
        time.sleep(1.0)  # a last round of reads after the final publish
    finally:
        stop.touch()
        for process in processes:
            process.wait(timeout=120)
    figures = [json.loads(r.read_text()) for r in results]
    reads = sum(f["reads"] for f in figures)
    errors = sum(f["errors"] for f in figures)
    seen = sorted({s for f in figures for s in f["snapshots"]})
    print(f"\nDuckLake concurrency: {readers} readers x {publishes} publishes "
          f"({publish_seconds:.1f} s publishing, {waited:.1f} s waiting for reads): "
          f"{reads} reads, {errors} errors, {len(seen)} snapshots seen")
    assert errors == 0, [f["messages"] for f in figures]
    assert reads >= 2 * readers
    assert {b for f in figures for b in f["batches"]} == {"b1", "b2"}
    assert len(seen) >= publishes // 2  # reads really happened between the publishes
    # Publishing b1 again (older cut-off) made it the newest snapshot, not `current`.
    assert current_snapshot(list_snapshots()).batch_id == "b2"



@pytest.mark.browser
def test_dashboards_in_chromium_on_another_host(lake_home):
    """The study view served from an empty data folder shows the lake's `current` batch."""
    from tests.dashboards.browser import CHROMIUM, chromium, metric_value, serve

    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (install Debian's chromium: `make browser`)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with duckdb.connect(str(lake_home.frozen("b2")), read_only=True) as con:
        (episodes,) = con.execute("SELECT count(*) FROM marts.episode_cohort").fetchone()
    log = lake_home.reader_home.parent / "streamlit-lake.log"
    # The analyst role sees unperturbed counts (docs/disclosure-control.md), so the page's
    # figure must equal the lake's row count exactly.
    with serve(lake_home.reader_home, log, env={"OLIGO_DEMO_ROLE": "analyst"}) as url, \
            chromium() as browser:
        page = browser.new_page(viewport={"width": 1440, "height": 1400})
        page.goto(url, wait_until="domcontentloaded")
        value = metric_value(page, "OMD episodes")
        value.wait_for(timeout=90_000)
        assert value.inner_text() == f"{episodes:,}"
        page.get_by_text("data cut-off 2026-10-31").first.wait_for(timeout=30_000)  # provenance


def total_reads(results: list[Path]) -> int:
    return sum(json.loads(r.read_text())["reads"] for r in results if r.exists())


def wait_for_more_reads(results: list[Path], than: int, processes: list) -> float:
    """Seconds spent until the readers together have done more than `than` reads."""
    started = time.monotonic()
    while total_reads(results) <= than:
        assert time.monotonic() - started < 60, "no reader read within 60 s"
        assert all(p.poll() is None for p in processes), "a reader exited"
        time.sleep(0.05)
    return time.monotonic() - started

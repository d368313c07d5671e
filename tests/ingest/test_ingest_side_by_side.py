"""The ingestion steps' statements side by side on cursors (pipelines/side_by_side.py): the
same tables as one after another, a failure that names its table and leaves nothing half
done, and a load that swaps every raw table in at once."""

from __future__ import annotations

import threading

import duckdb
import pytest

from pipelines.contract.dialects import DEFAULT
from pipelines.contract.tables import TABLES
from pipelines.ingest.batch import open_batch
from pipelines.ingest.load import LOADING_PREFIX, load_keyed_batch
from pipelines.ingest.pseudonym import Pseudonymizer
from pipelines.ingest.quarantine import find_row_defects
from pipelines.ingest.staging import build_staging_table, build_staging_tables
from pipelines.side_by_side import run_side_by_side
from tests.ingest.ingest_batches import clean_tables, with_cell, write_batch

KEYS = Pseudonymizer(b"side-by-side-test-secret")


def _loaded(tmp_path, tables=None) -> duckdb.DuckDBPyConnection:
    """A file warehouse with the batch loaded the loader's way (rows in the connection)."""
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    batch = open_batch(write_batch(tmp_path / "exports", tables or clean_tables()), DEFAULT,
                       con)
    try:
        assert batch.ok, [d.describe() for d in batch.defects]
        load_keyed_batch(con, batch, KEYS, [])
    finally:
        batch.release()
    find_row_defects(con, batch.batch_id, DEFAULT, quarantine_rate_threshold=1.0)
    return con


def _rows(con, schema: str, table: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM {schema}.{table} ORDER BY ALL").fetchall()


def test_staging_side_by_side_equals_one_table_after_another(tmp_path):
    tables = with_cell(clean_tables(), "primary_tumors", "T001", "topography_code", "C50.1")
    con = _loaded(tmp_path, tables)
    counts = build_staging_tables(con, DEFAULT)
    together = {t.name: _rows(con, "staging", t.name) for t in TABLES}
    for t in TABLES:
        assert build_staging_table(con, t.name, DEFAULT) == counts[t.name]
        assert _rows(con, "staging", t.name) == together[t.name], t.name
    assert sum(counts.values()) > 0 and counts["metastases"] < len(tables["metastases"])


def test_a_failing_staging_statement_names_its_table(tmp_path):
    con = _loaded(tmp_path)
    con.execute("ALTER TABLE raw.imaging DROP COLUMN modality")  # its statement cannot bind
    with pytest.raises(duckdb.Error) as failure:
        build_staging_tables(con, DEFAULT)
    assert "while running the statement of staging.imaging" in failure.value.__notes__


def test_no_job_starts_after_a_failure_and_the_first_failure_is_raised():
    con = duckdb.connect()
    started, release = [], threading.Event()

    def slow(cursor):
        started.append("slow")
        release.wait(5)
        return cursor.execute("SELECT 1").fetchone()[0]

    def fails(cursor):
        started.append("fails")
        try:
            cursor.execute("SELECT * FROM no_such_table")
        finally:
            release.set()

    def later(cursor):
        started.append("later")

    with pytest.raises(duckdb.CatalogException) as failure:
        run_side_by_side(con, [("slow", slow), ("fails", fails), ("later", later)],
                         what="job ")
    assert sorted(started) == ["fails", "slow"]
    assert failure.value.__notes__ == ["while running job fails"]


def test_transactions_of_a_failed_run_are_rolled_back(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE TABLE a (x INT)")
    con.execute("CREATE TABLE b (x INT)")

    def insert(table):
        return lambda cursor: cursor.execute(f"INSERT INTO {table} VALUES (1)")

    def fails(cursor):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        run_side_by_side(con, [("a", insert("a")), ("f", fails), ("b", insert("b"))],
                         transaction=True)
    assert con.execute("SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b)"
                       ).fetchone()[0] == 0
    run_side_by_side(con, [("a", insert("a")), ("b", insert("b"))], transaction=True)
    assert con.execute("SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM b)"
                       ).fetchone() == (1, 1)


def test_a_failed_load_leaves_raw_and_ops_as_they_were(tmp_path):
    con = _loaded(tmp_path)
    con.execute("CREATE SCHEMA IF NOT EXISTS ops")
    con.execute("CREATE TABLE ops.batches AS SELECT 'b1' AS batch_id, 'kept' AS note")
    before = {t.name: _rows(con, "raw", t.name) for t in TABLES}
    changed = with_cell(clean_tables(), "patients", "P001", "sex", "F")

    def fails_in_the_transaction():
        con.execute("UPDATE ops.batches SET note = 'changed'")
        raise RuntimeError("the batch record failed")

    batch = open_batch(write_batch(tmp_path / "again", changed), DEFAULT, con)
    try:
        with pytest.raises(RuntimeError):
            load_keyed_batch(con, batch, KEYS, [], in_transaction=fails_in_the_transaction)
    finally:
        batch.release()
    assert {t.name: _rows(con, "raw", t.name) for t in TABLES} == before
    assert con.execute("SELECT note FROM ops.batches").fetchall() == [("kept",)]
    leftovers = con.execute("SELECT table_name FROM duckdb_tables() WHERE starts_with("
                            "table_name, ?) OR database_name LIKE 'oligo_scratch%'",
                            [LOADING_PREFIX]).fetchall()
    assert leftovers == []


def test_a_killed_loads_leftovers_are_dropped_by_the_next_load(tmp_path):
    con = _loaded(tmp_path)
    con.execute(f"CREATE TABLE raw.{LOADING_PREFIX}patients AS SELECT 1 AS x")
    batch = open_batch(write_batch(tmp_path / "again", clean_tables()), DEFAULT, con)
    try:
        rows, _ = load_keyed_batch(con, batch, KEYS, [])
    finally:
        batch.release()
    names = {n for (n,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw'").fetchall()}
    assert names == {t.name for t in TABLES} | {"opt_out_exclusions"}
    assert rows["patients"] == len(clean_tables()["patients"])


def test_a_failing_staging_statement_leaves_staging_as_it_was(tmp_path):
    con = _loaded(tmp_path)
    build_staging_tables(con, DEFAULT)
    before = {t.name: _rows(con, "staging", t.name) for t in TABLES}
    con.execute("UPDATE raw.patients SET sex = 'F'")  # would change staging.patients
    con.execute("ALTER TABLE raw.imaging DROP COLUMN modality")
    with pytest.raises(duckdb.Error):
        build_staging_tables(con, DEFAULT)
    assert {t.name: _rows(con, "staging", t.name) for t in TABLES} == before

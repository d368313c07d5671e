"""The catalog guard and the target settings, without a server."""

from __future__ import annotations

import pytest

from pipelines import safe_sql
from pipelines.lake.config import LakeMisconfigured, lake_target, parse_libpq, publish_target
from pipelines.lake.dagster_storage import dagster_storage_yaml
from pipelines.lake.guard import refused_identifier
from pipelines.lake.read import snapshot_address, snapshot_of


@pytest.mark.parametrize("sql, name", [
    ("SELECT * FROM postgres_query('x', 'SELECT 1')", "postgres_query"),
    ('SELECT * FROM "Postgres_Query"(\'x\', \'y\')', "postgres_query"),
    ("SELECT * FROM POSTGRES_SCAN /* hidden */ ('dbname=x', 'public', 't')", "postgres_scan"),
    ("SELECT a.b.postgres_scan_pushdown(1)", "postgres_scan_pushdown"),
    ('FROM "__ducklake_metadata_lake".public.ducklake_snapshot', "__ducklake_metadata_lake"),
    ("FROM ducklake_snapshots('lake')", "ducklake_snapshots"),
    ("SELECT * FROM query('SELECT 4' || '2')", "query"),
    ("FROM query_table('marts.episode_cohort')", "query_table"),
    ("SELECT json_execute_serialized_sql('{}')", "json_execute_serialized_sql"),
])
def test_names_that_reach_the_catalog_server_are_found(sql, name):
    assert refused_identifier(sql) == name


@pytest.mark.parametrize("sql", [
    "SELECT 'postgres_query(1)' AS text, 'query' AS q",  # string constants are data
    'SELECT "a""postgres_" FROM t',  # a quoted name that only contains the word
    "SELECT omd_state, count(*) FROM marts.omd_episodes GROUP BY 1",
    "FROM lake.snapshots()",
])
def test_ordinary_queries_pass(sql):
    assert refused_identifier(sql) is None


def test_safe_sql_refuses_them_before_anything_runs():
    with pytest.raises(safe_sql.QueryRefused, match="postgres_query is not allowed"):
        safe_sql.check_statement("SELECT * FROM postgres_query('db', 'SELECT 1')")


def test_snapshot_addresses_survive_a_path_round_trip():
    from pathlib import Path

    address = snapshot_address(42)
    assert snapshot_of(Path(str(address))) == 42
    assert snapshot_of(Path("/data/published/current.duckdb")) is None
    assert snapshot_of("ducklake:snapshot/../x") is None


def test_target_settings(monkeypatch, tmp_path):
    monkeypatch.delenv("OLIGO_PUBLISH_TARGET", raising=False)
    assert publish_target() == "embedded"
    assert dagster_storage_yaml() == ""  # SQLite storage as before
    monkeypatch.setenv("OLIGO_PUBLISH_TARGET", "lakehouse")
    with pytest.raises(LakeMisconfigured, match="embedded, ducklake"):
        publish_target()
    monkeypatch.setenv("OLIGO_PUBLISH_TARGET", "ducklake")
    monkeypatch.delenv("OLIGO_LAKE_CATALOG", raising=False)
    with pytest.raises(LakeMisconfigured, match="needs OLIGO_LAKE_CATALOG"):
        lake_target()
    monkeypatch.setenv("OLIGO_LAKE_CATALOG", "dbname=lake host=h port=1 user=u password=x")
    with pytest.raises(LakeMisconfigured, match="must not contain a password"):
        lake_target()
    monkeypatch.setenv("OLIGO_LAKE_CATALOG", "dbname=lake host=db port=6543 user=pub")
    monkeypatch.setenv("OLIGO_HOME", str(tmp_path))
    monkeypatch.delenv("OLIGO_LAKE_DATA_PATH", raising=False)
    monkeypatch.delenv("OLIGO_DAGSTER_DB", raising=False)
    target = lake_target()
    assert target.data_path == tmp_path / "lake"
    assert target.reader_catalog == target.catalog
    yaml = dagster_storage_yaml()
    assert 'hostname: "db"' in yaml and "port: 6543" in yaml and 'db_name: "dagster"' in yaml


def test_catalog_parameters_must_be_key_value():
    assert parse_libpq("dbname=a host='x y'") == {"dbname": "a", "host": "x y"}
    with pytest.raises(LakeMisconfigured, match="not key=value"):
        parse_libpq("postgresql://u@h/db")
    with pytest.raises(LakeMisconfigured, match="dbname"):
        parse_libpq("host=x")


def test_a_misconfigured_lake_is_a_readable_refusal(monkeypatch, capsys):
    from pipelines.cli import main

    monkeypatch.setenv("OLIGO_PUBLISH_TARGET", "ducklake")
    monkeypatch.delenv("OLIGO_LAKE_CATALOG", raising=False)
    assert main(["sql", "SELECT 1"]) == 2
    assert "refused: OLIGO_PUBLISH_TARGET=ducklake needs OLIGO_LAKE_CATALOG" in capsys.readouterr().err

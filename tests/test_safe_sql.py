"""The SQL-safety module: hostile statements refused, limits enforced, legal queries work."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import pytest

from pipelines.safe_sql import (
    QueryRefused,
    QueryTimedOut,
    SafetyLimits,
    check_filter,
    check_statement,
    open_read_only,
    read_table,
    run_query,
)


@pytest.fixture()
def published(tmp_path: Path) -> dict[str, Path]:
    """A tiny published marts file, an ops file and a CSV file an attacker would like to read."""
    current = tmp_path / "current.duckdb"
    with duckdb.connect(str(current)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute(
            "CREATE TABLE marts.episode_cohort AS "
            "SELECT 'p' || range AS patient_id, range AS n_lesions, range % 2 = 0 AS has_brain "
            "FROM range(20)"
        )
        con.execute("CREATE TABLE marts.other AS SELECT 42 AS secret")
    ops = tmp_path / "ops.duckdb"
    with duckdb.connect(str(ops)) as con:
        con.execute("CREATE SCHEMA ops")
        con.execute("CREATE SCHEMA dq")
        # fully qualified: the file's catalog is also called "ops"
        con.execute("CREATE TABLE ops.ops.runs AS SELECT 'r1' AS run_id, 'published' AS status")
        con.execute("CREATE TABLE ops.dq.check_results AS SELECT 'c1' AS check_name, true AS passed")
    secret = tmp_path / "secret.csv"
    secret.write_text("a,b\n1,2\n")
    return {"current": current, "ops": ops, "secret": secret, "home": tmp_path}


def _hostile(paths: dict[str, Path]) -> list[str]:
    secret = paths["secret"]
    out = paths["home"] / "stolen.csv"
    return [
        f"SELECT * FROM read_csv('{secret}')",
        f"SELECT * FROM read_csv_auto('{secret}')",
        f"SELECT * FROM '{secret}'",
        f"SELECT * FROM read_parquet('{secret}')",
        f"SELECT * FROM read_text('{secret}')",
        f"SELECT * FROM read_blob('{secret}')",
        f"SELECT * FROM glob('{paths['home']}/*')",
        f"COPY marts.episode_cohort TO '{out}'",
        f"COPY (SELECT 1) TO '{out}'",
        f"EXPORT DATABASE '{paths['home'] / 'dump'}'",
        f"ATTACH '{paths['home'] / 'new.duckdb'}' AS x",
        "DETACH published_ops",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "SET threads = 64",
        "RESET memory_limit",
        "SET VARIABLE x = 1",
        "PRAGMA enable_profiling",
        "PRAGMA threads = 64",
        "CREATE TABLE marts.x AS SELECT 1",
        "CREATE TEMP TABLE x AS SELECT 1",
        "CREATE MACRO m(a) AS a",
        "DROP TABLE marts.episode_cohort",
        "ALTER TABLE marts.episode_cohort ADD COLUMN y INT",
        "INSERT INTO marts.episode_cohort VALUES ('x', 1, true)",
        "UPDATE marts.episode_cohort SET n_lesions = 0",
        "DELETE FROM marts.episode_cohort",
        "CALL pragma_version()",
        "CHECKPOINT",
        "BEGIN TRANSACTION",
        "EXPLAIN ANALYZE SELECT 1",
        "SELECT 1; DROP TABLE marts.episode_cohort",
        "SELECT 1; SELECT 2",
        "USE published_ops",
    ]


def test_hostile_statements_are_refused(published: dict[str, Path]) -> None:
    for sql in _hostile(published):
        with pytest.raises(QueryRefused) as refused:
            run_query(sql, published["current"], ops_database=published["ops"])
        assert str(refused.value), sql
    # nothing was written or changed
    assert not (published["home"] / "stolen.csv").exists()
    assert not (published["home"] / "dump").exists()
    assert not (published["home"] / "new.duckdb").exists()
    result = run_query("SELECT count(*) AS n FROM marts.episode_cohort", published["current"])
    assert result.frame["n"].to_list() == [20]


def test_refusals_say_why() -> None:
    with pytest.raises(QueryRefused, match="one statement"):
        check_statement("SELECT 1; DROP TABLE x")
    with pytest.raises(QueryRefused, match="DROP"):
        check_statement("DROP TABLE x")
    with pytest.raises(QueryRefused, match="empty"):
        check_statement("  ")


def test_file_reads_are_refused_by_the_connection_itself(published: dict[str, Path]) -> None:
    # read_csv is a SELECT, so the allow-list passes it: the locked connection must refuse.
    with pytest.raises(QueryRefused, match="not allowed"):
        run_query(f"SELECT * FROM read_csv('{published['secret']}')", published["current"])


def test_configuration_is_locked(published: dict[str, Path]) -> None:
    with open_read_only(published["current"]) as con:
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("SET enable_external_access = true")
        with pytest.raises(duckdb.Error):
            con.execute("CREATE TABLE marts.y AS SELECT 1")
        settings = dict(
            con.execute(
                "SELECT name, value FROM duckdb_settings() WHERE name IN "
                "('enable_external_access', 'autoload_known_extensions', "
                "'autoinstall_known_extensions', 'lock_configuration', 'threads')"
            ).fetchall()
        )
    assert settings == {
        "enable_external_access": "false",
        "autoload_known_extensions": "false",
        "autoinstall_known_extensions": "false",
        "lock_configuration": "true",
        "threads": "2",
    }


def test_legal_queries_work_on_marts_and_ops(published: dict[str, Path]) -> None:
    kwargs = {"ops_database": published["ops"]}
    res = run_query(
        "WITH b AS (SELECT * FROM marts.episode_cohort WHERE has_brain) "
        "SELECT count(*) AS n FROM b",
        published["current"],
        **kwargs,
    )
    assert res.frame["n"].to_list() == [10] and not res.truncated
    assert run_query("SELECT status FROM ops.runs", published["current"], **kwargs).frame[
        "status"
    ].to_list() == ["published"]
    assert run_query(
        "SELECT passed FROM dq.check_results", published["current"], **kwargs
    ).frame.height == 1
    described = run_query("DESCRIBE marts.episode_cohort", published["current"]).frame
    assert described["column_name"].to_list() == ["patient_id", "n_lesions", "has_brain"]
    assert run_query("SUMMARIZE marts.episode_cohort", published["current"]).frame.height == 3
    assert run_query("SHOW ALL TABLES", published["current"], **kwargs).frame.height == 4
    bound = run_query(
        "SELECT count(*) AS n FROM marts.episode_cohort WHERE n_lesions >= ?",
        published["current"],
        params=[15],
    )
    assert bound.frame["n"].to_list() == [5]


def test_row_limit_truncates_and_says_so(published: dict[str, Path]) -> None:
    res = run_query(
        "SELECT * FROM marts.episode_cohort", published["current"], limits=SafetyLimits(row_limit=7)
    )
    assert res.frame.height == 7 and res.truncated
    exact = run_query(
        "SELECT * FROM marts.episode_cohort", published["current"], limits=SafetyLimits(row_limit=20)
    )
    assert exact.frame.height == 20 and not exact.truncated


def test_timeout_interrupts_a_slow_cross_join(published: dict[str, Path]) -> None:
    start = time.monotonic()
    with pytest.raises(QueryTimedOut, match="longer than 0.3 s"):
        run_query(
            "SELECT sum(a.range * b.range) FROM range(200000) a, range(200000) b",
            published["current"],
            limits=SafetyLimits(timeout_seconds=0.3),
        )
    assert time.monotonic() - start < 5


def test_missing_database_is_refused(tmp_path: Path) -> None:
    with pytest.raises(QueryRefused, match="no published database"):
        run_query("SELECT 1", tmp_path / "absent.duckdb")


COLUMNS = ["patient_id", "n_lesions", "has_brain"]


def test_legal_filters_pass_and_apply(published: dict[str, Path]) -> None:
    check_filter("n_lesions >= 3 AND has_brain", COLUMNS)
    check_filter("upper(patient_id) LIKE 'P1%' OR n_lesions BETWEEN 1 AND 2", COLUMNS)
    rows = read_table(
        published["current"], "marts.episode_cohort", filter_sql="n_lesions >= 18 AND has_brain"
    )
    assert rows["patient_id"].to_list() == ["p18"]


@pytest.mark.parametrize(
    ("filter_sql", "reason"),
    [
        ("n_lesions > 1; DROP TABLE marts.episode_cohort", "not valid SQL"),
        ("n_lesions > 1); DROP TABLE marts.episode_cohort; --", "one statement"),
        ("n_lesions IN (SELECT secret FROM marts.other)", "subquery"),
        ("EXISTS (SELECT * FROM read_csv('/etc/passwd'))", "subquery"),
        ("1=1) UNION ALL SELECT * FROM marts.other WHERE (1=1", "single boolean expression"),
        ("1=1) ORDER BY (1", "single boolean expression"),
        ("secret = 42", "not a column"),
        ("other.secret = 42", "not a column"),
        ("", "empty"),
        ("n_lesions >", "not valid SQL"),
    ],
)
def test_hostile_filters_are_refused(filter_sql: str, reason: str) -> None:
    with pytest.raises(QueryRefused, match=reason):
        check_filter(filter_sql, COLUMNS)


def test_filter_cannot_leave_its_table(published: dict[str, Path]) -> None:
    with pytest.raises(QueryRefused):
        read_table(
            published["current"],
            "marts.episode_cohort",
            filter_sql="n_lesions IN (SELECT secret FROM marts.other)",
        )


# --- the checker never touches files; the query connection's memory and spill caps -------


def test_checking_import_database_never_reads_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "dump"
    folder.mkdir()
    (folder / "schema.sql").write_text("CREATE TABLE marker_from_schema_sql_4711 (a INT);")
    (folder / "load.sql").write_text("")
    for sql in (f"IMPORT DATABASE '{folder}'", f"PRAGMA import_database('{folder}')"):
        with pytest.raises(QueryRefused) as refused:
            check_statement(sql)
        assert "marker_from_schema_sql_4711" not in str(refused.value)
        assert "marker_from_schema_sql_4711" not in repr(refused.value.__cause__)


def test_checker_connection_never_had_file_access() -> None:
    from pipelines.safe_sql import checker_connection

    with checker_connection() as con:
        settings = dict(con.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN ('enable_external_access', "
            "'autoload_known_extensions', 'autoinstall_known_extensions', 'lock_configuration')"
        ).fetchall())
        assert settings == {"enable_external_access": "false", "lock_configuration": "true",
                            "autoload_known_extensions": "false",
                            "autoinstall_known_extensions": "false"}
        with pytest.raises(duckdb.Error):
            con.execute("SET enable_external_access = true")


def test_a_query_beyond_memory_and_spill_caps_stops_in_one_line(published: dict[str, Path]) -> None:
    from pipelines.safe_sql import QueryTooLarge

    limits = SafetyLimits(memory_limit="32MB", temp_limit="8MB", timeout_seconds=30)
    sql = ("SELECT count(DISTINCT s) FROM (SELECT 'a fairly long string to spill, number ' "
           "|| range::VARCHAR AS s FROM range(6000000))")
    started = time.monotonic()
    with pytest.raises(QueryTooLarge) as stopped:
        run_query(sql, published["current"], limits=limits)
    assert time.monotonic() - started < 30
    assert "32MB" in str(stopped.value) and "\n" not in str(stopped.value)
    # Nothing spilled next to the published file, and the private spill folder is gone.
    assert not list(published["home"].glob("*.tmp"))
    with open_read_only(published["current"], limits=limits) as con:
        spill = Path(con.execute("SELECT current_setting('temp_directory')").fetchone()[0])
        assert published["home"] not in spill.parents and spill.is_dir()
    assert not spill.exists()

"""Data quality and the SQL explorer through the router (AppTest), on a data folder the
real pipeline built (two published deliveries and a refused messy one). Expected values come
from ops.duckdb and the published file with DuckDB directly."""

from __future__ import annotations

import io
import sqlite3

import duckdb
import polars as pl
import pytest

from tests.dashboards.conftest import no_exception, open_page, table_with
from tests.dashboards.pipeline_home import UPDATED_PATIENTS

DATA_QUALITY = "views/data_quality.py"
SQL = "views/sql.py"


def ops_rows(home, query: str, params=()):
    with duckdb.connect(str(home.paths.ops), read_only=True) as con:
        return con.execute(query, list(params)).fetchall()


def audit_actions(home) -> list[tuple[str, str, str]]:
    with sqlite3.connect(home.home / "app.sqlite") as con:
        return con.execute("SELECT page, action, filters FROM audit_log ORDER BY id").fetchall()


def test_check_matrix_by_kahn_category_and_context(app, pipeline_home):
    at = open_page(app, pipeline_home, DATA_QUALITY)
    batch = at.selectbox(key="dq_batch").value
    matrix = table_with(at, "Subcategory")
    expected = ops_rows(pipeline_home, """
        SELECT kahn_category, kahn_subcategory, split_part(asset, '/', 1), passed, count(*)
        FROM dq.check_results WHERE run_id = (SELECT run_id FROM dq.check_results
            WHERE batch_id = ? GROUP BY 1 ORDER BY max(checked_at) DESC LIMIT 1)
          AND total_count > 0 GROUP BY ALL""", [batch])
    context = {"staging": "Staging", "marts": "Marts"}
    for category, subcategory, layer, passed, n in expected:
        row = matrix[(matrix["Category"] == category.title())
                     & (matrix["Subcategory"] == subcategory.title())].iloc[0]
        column = f"{context[layer]}: {'pass' if passed else 'fail'}"
        assert row[column] == n, (category, subcategory, column)


def test_failing_checks_and_their_keys_for_an_analyst(app, pipeline_home):
    at = open_page(app, pipeline_home, DATA_QUALITY)
    failing = table_with(at, "Failing records")
    batch = at.selectbox(key="dq_batch").value
    expected = ops_rows(pipeline_home, """
        SELECT check_id, failing_count FROM dq.check_results WHERE batch_id = ? AND NOT passed
        AND run_id = (SELECT run_id FROM dq.check_results WHERE batch_id = ? GROUP BY 1
                      ORDER BY max(checked_at) DESC LIMIT 1)""", [batch, batch])
    assert sorted(zip(failing["Check"], failing["Failing records"], strict=True)) == sorted(
        expected)
    check = at.selectbox(key="dq_drill").value
    keys = table_with(at, "record_key")
    (stored,) = ops_rows(pipeline_home, "SELECT count(*) FROM dq.failing_rows WHERE check_id = ? "
                         "AND batch_id = ? AND run_id = (SELECT max(run_id) FILTER (batch_id = ?) "
                         "FROM dq.failing_rows WHERE check_id = ?)",
                         [check, batch, batch, check])[0]
    assert len(keys) == min(stored, 1000) and len(keys) > 0
    assert ("data_quality", "failing_keys") in [a[:2] for a in audit_actions(pipeline_home)]


def test_aggregate_role_sees_counts_but_no_keys(app, pipeline_home):
    at = open_page(app, pipeline_home, DATA_QUALITY, role="aggregate")
    assert "dq_drill" not in [s.key for s in at.selectbox]
    assert not any("record_key" in d.value.columns for d in at.dataframe)
    assert any("shown to the analyst and admin roles" in c.value for c in at.caption)


def test_quarantine_by_table_and_reason(app, pipeline_home):
    at = open_page(app, pipeline_home, DATA_QUALITY)
    at.selectbox(key="dq_quarantine_batch").set_value(pipeline_home.messy).run()
    shown = table_with(at, "Reason")
    expected = ops_rows(pipeline_home, "SELECT table_name, reason, count(*) FROM ops.ops.quarantine "
                        "WHERE batch_id = ? GROUP BY ALL", [pipeline_home.messy])
    assert int(shown["Rows"].astype(int).sum()) == sum(n for *_, n in expected)
    assert set(zip(shown["Table"], shown["Reason"], strict=True)) == {(t, r) for t, r, _ in expected}


def test_batch_to_batch_diff_finds_the_updated_patients(app, pipeline_home):
    at = open_page(app, pipeline_home, DATA_QUALITY)
    at.selectbox(key="dq_after").set_value(pipeline_home.later).run()
    at.selectbox(key="dq_before").set_value(pipeline_home.earlier).run()
    no_exception(at)
    changes = table_with(at, "n_patients")
    patients = changes[changes["table_name"] == "patients"]
    assert list(patients["change"]) == ["changed"]
    assert int(patients["n_rows"].iloc[0]) == UPDATED_PATIENTS
    assert set(changes["table_name"]) == {"patients"}  # nothing else was touched


def test_run_history_includes_the_refused_run(app, pipeline_home):
    at = open_page(app, pipeline_home, DATA_QUALITY)
    runs = table_with(at, "Outcome")
    assert len(runs) == len(ops_rows(pipeline_home, "SELECT * FROM ops.ops.runs"))
    messy = runs[runs["Batch"] == pipeline_home.messy].iloc[0]
    assert messy["Outcome"] in {"refused", "blocked by data-quality checks"}
    assert messy["Message"]


def test_sql_explorer_is_for_row_level_roles_only(app, pipeline_home):
    at = open_page(app, pipeline_home, SQL, role="aggregate")
    assert any("analyst or admin role" in i.value for i in at.info)
    assert not at.text_area


@pytest.mark.parametrize("query", [
    "DROP TABLE marts.episode_cohort",
    "SELECT 1; SELECT 2",
    "COPY marts.episode_cohort TO '/tmp/x.csv'",
    "SELECT * FROM read_csv('/etc/passwd')",
])
def test_sql_explorer_refuses_and_audits(app, pipeline_home, query):
    at = open_page(app, pipeline_home, SQL)
    at.text_area(key="sql_query").set_value(query)
    at.button(key="sql_run").click().run()
    no_exception(at)
    assert at.error and ("Refused" in at.error[0].value or "failed" in at.error[0].value)
    assert not any(d.value.columns.tolist() == ["x"] for d in at.dataframe)
    page, action, filters = audit_actions(pipeline_home)[-1]
    assert page == "sql" and action in {"query:refused", "query:error"} and query in filters


def test_sql_explorer_runs_a_query_with_a_row_cap_and_downloads(app, pipeline_home):
    at = open_page(app, pipeline_home, SQL)
    columns = table_with(at, "Meaning")
    assert columns["Meaning"].notna().all()  # marts.episode_cohort is documented
    at.text_area(key="sql_query").set_value(
        "SELECT omd_state, count(*) AS n FROM marts.episode_cohort GROUP BY 1 ORDER BY 1")
    at.button(key="sql_run").click().run()
    no_exception(at)
    result = table_with(at, "n")
    with duckdb.connect(str(pipeline_home.paths.current), read_only=True) as con:
        expected = con.execute("SELECT omd_state, count(*) FROM marts.episode_cohort "
                               "GROUP BY 1 ORDER BY 1").fetchall()
    assert list(zip(result["omd_state"], result["n"], strict=True)) == expected
    assert audit_actions(pipeline_home)[-1][:2] == ("sql", "query:ok")
    at.selectbox(key="sql_cap").set_value(100)
    at.text_area(key="sql_query").set_value("SELECT * FROM staging.imaging")
    at.button(key="sql_run").click().run()
    assert len(table_with(at, "patient_id")) == 100
    assert any("row cap of 100" in s.value for s in at.success)


def test_sql_downloads_are_faithful():
    from dashboards.sql_explorer import csv_bytes, parquet_bytes

    frame = pl.DataFrame({"a": [1, 2], "drugs": [["x", "y"], []]})
    assert pl.read_parquet(io.BytesIO(parquet_bytes(frame))).equals(frame)
    assert csv_bytes(frame).decode().splitlines() == ["a,drugs", "1,x;y", "2,\"\""]

"""`oligo sql` on a small published snapshot (tests/stats/published_fixture.py)."""

from __future__ import annotations

import pytest

from pipelines.cli import main
from tests.stats.published_fixture import BATCH_ID


def test_query_on_current_marts_and_ops(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sql", "SELECT count(*) AS n FROM marts.episode_cohort WHERE is_first_episode",
                 "--csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["n", "80"]
    assert main(["sql", "SELECT r.status, c.passed FROM ops.runs r, dq.check_results c",
                 "--csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["status,passed", "published,true"]


def test_query_on_a_frozen_batch(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sql", "SELECT batch_id FROM meta.provenance", "--batch", BATCH_ID, "--csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["batch_id", BATCH_ID]


def test_table_output_and_list_columns_in_csv(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sql", "SELECT organs FROM marts.episode_cohort WHERE episode_id = 'pat001-e1'",
                 "--csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["organs", "lung;bone"]
    assert main(["sql", "SELECT 42 AS answer"]) == 0
    out = capsys.readouterr().out
    assert "answer" in out and "42" in out and "1 row" in out


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/hostname')",
        "COPY marts.episode_cohort TO '/tmp/stolen.csv'",
        "EXPORT DATABASE '/tmp/stolen_db'",
        "ATTACH '/tmp/other.duckdb' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "PRAGMA threads = 8",
        "CREATE TABLE marts.x AS SELECT 1",
        "DROP TABLE marts.episode_cohort",
        "DELETE FROM marts.episode_cohort",
        "UPDATE marts.episode_cohort SET sex = 'x'",
        "SELECT 1; DROP TABLE marts.episode_cohort",
    ],
)
def test_hostile_statements_are_refused_with_a_reason(
    query: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sql", query]) == 2
    err = capsys.readouterr().err
    assert err.startswith("oligo sql: refused: ") and len(err) > len("oligo sql: refused: ") + 10


def test_marts_unchanged_after_hostile_attempts(capsys: pytest.CaptureFixture[str]) -> None:
    main(["sql", "DROP TABLE marts.episode_cohort"])
    capsys.readouterr()
    assert main(["sql", "SELECT count(*) AS n FROM marts.episode_cohort", "--csv"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "101"


def test_row_limit_and_sql_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sql", "SELECT * FROM range(50)", "--max-rows", "5", "--csv"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 6 and "row limit (5)" in captured.err
    assert main(["sql", "SELECT no_such_column FROM marts.episode_cohort"]) == 1
    assert "no_such_column" in capsys.readouterr().err


def test_bad_batch_id_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sql", "SELECT 1", "--batch", "../current"]) == 2
    assert "not a batch id" in capsys.readouterr().err
    assert main(["sql", "SELECT 1", "--batch", "absent"]) == 2
    assert "no published database" in capsys.readouterr().err


def test_import_database_is_refused_without_reading_the_folder(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "some_dir"
    folder.mkdir()
    (folder / "schema.sql").write_text("CREATE TABLE text_of_schema_sql_0815 (a INT);")
    (folder / "load.sql").write_text("")
    assert main(["sql", f"IMPORT DATABASE '{folder}'"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("oligo sql: refused: ") and "text_of_schema_sql_0815" not in err
    assert len(err.strip().splitlines()) == 1

"""The one mart registry: docs rendered from the run's parameters (a sensitivity run with
`--set line_regimen_window_days=14` publishes comments saying 14), and the lists derived
from it (published tables, check keys, fixtures) agree with it."""

import duckdb

from pipelines.clinical.parameters import ClinicalParameters
from pipelines.marts_catalog import MART_TABLES, MARTS, mart_docs, mart_keys, render
from pipelines.quality.relations import MART_KEYS
from pipelines.runner import run_batches
from pipelines.settings import paths
from tests.pipeline.helpers import BATCH


def comments(path, schema: str, table: str) -> tuple[str, dict]:
    with duckdb.connect(str(path), read_only=True) as con:
        [(table_comment,)] = con.execute(
            "select comment from duckdb_tables() where schema_name = ? and table_name = ?",
            [schema, table]).fetchall()
        columns = dict(con.execute(
            "select column_name, comment from duckdb_columns() where schema_name = ? "
            "and table_name = ?", [schema, table]).fetchall())
    return table_comment, columns


def test_a_sensitivity_run_publishes_comments_with_its_own_parameters(home):
    [outcome] = run_batches(batch_id=BATCH, overrides={"line_regimen_window_days": "14",
                                                       "acute_toxicity_days": "60"})
    assert outcome.status == "published", outcome.message
    params = ClinicalParameters().with_overrides({"line_regimen_window_days": "14",
                                                  "acute_toxicity_days": "60"})
    sensitivity = paths().sensitivity_snapshot(BATCH, params.parameter_set)
    lines, _ = comments(sensitivity, "marts", "therapy_lines")
    assert "14-day regimen window" in lines and "28-day" not in lines
    _, toxicity = comments(sensitivity, "marts", "toxicity_summary")
    assert "0-60 days" in toxicity["max_grade_acute"]
    default_lines, _ = comments(paths().batch_snapshot(BATCH), "marts", "therapy_lines")
    assert "28-day regimen window" in default_lines


def test_no_placeholder_is_left_unrendered():
    for table, doc in mart_docs().items():
        texts = [doc["grain"], doc["description"], *doc["columns"].values()]
        assert not [t for t in texts if "{" in t], table
    assert render("{max_organs} organs") == "no limit organs"
    assert render("BED10 >= {lung_bed10_adequate_gy} Gy") == "BED10 >= 100 Gy"


def test_published_tables_checks_and_fixtures_follow_the_registry():
    from tests.quality.tiny_warehouse import MARTS as TINY_MARTS

    published = [m.name for m in MARTS if m.layer == "marts"]
    assert list(MART_TABLES) == published
    assert set(mart_docs()) == set(published)  # every published mart documented
    assert mart_keys() == MART_KEYS
    assert set(TINY_MARTS) <= set(published)

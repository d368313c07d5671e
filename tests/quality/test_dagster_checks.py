"""The asset checks under real `dagster.materialize` on a DuckDB file: results carry their
metadata, land in dq.check_results, a blocking failure stops the downstream mart and a
warning does not."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
from dagster import AssetCheckSeverity, AssetKey, asset, materialize
from dagster_duckdb import DuckDBResource

from pipelines.quality.catalog import all_checks
from pipelines.quality.checks import BATCH_TAG, build_asset_checks
from tests.quality.tiny_warehouse import BATCH_ID, STAGING, staging_frames, write_tables

# A few checks of staging.patients, SQL and GX, blocking and warning (the whole catalogue is
# exercised without Dagster in test_each_check.py).
CHECK_IDS = ("patients__key_unique", "patients__sex__code_list", "patients__quarantine_rate",
             "patients__death_date_for_living")
MART = AssetKey(["marts", "cohort_attrition"])


def _stand_in_assets(patients: list[dict]):
    """Stand-ins with the lead's asset keys: staging.patients and a mart downstream of it."""

    @asset(key=["staging", "patients"])
    def staging_patients(warehouse: DuckDBResource) -> None:
        with warehouse.get_connection() as con:
            write_tables(con, "staging", staging_frames({"patients": patients}))

    @asset(key=MART.path, deps=[AssetKey(["staging", "patients"])])
    def cohort_attrition(warehouse: DuckDBResource) -> None:
        with warehouse.get_connection() as con:
            write_tables(con, "marts", {"cohort_attrition": pl.DataFrame(
                {"step_order": [1], "step": ["registry"], "remaining": [len(patients)],
                 "excluded": [0], "reason": ["registry"]})})

    return [staging_patients, cohort_attrition]


@pytest.fixture
def run(warehouse_copy):
    specs = [s for s in all_checks() if s.check_id in CHECK_IDS]

    def _run(patients: list[dict], results_per: str = "check"):
        result = materialize(
            [*_stand_in_assets(patients), *build_asset_checks(specs, results_per=results_per)],
            resources={"warehouse": DuckDBResource(database=str(warehouse_copy))},
            tags={BATCH_TAG: BATCH_ID},
            raise_on_error=False,
        )
        with duckdb.connect(str(warehouse_copy), read_only=True) as con:
            history = con.sql("select * from dq.check_results").pl()
        evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
        materialized = {e.event_specific_data.materialization.asset_key
                        for e in result.get_asset_materialization_events()}
        return result, evaluations, materialized, history

    return _run


def test_clean_batch_passes_and_the_mart_materializes(run):
    result, evaluations, materialized, history = run(STAGING["patients"])
    assert set(evaluations) == set(CHECK_IDS)
    assert all(e.passed for e in evaluations.values())
    assert MART in materialized
    assert sorted(history["check_id"]) == sorted(CHECK_IDS)
    assert history["passed"].all()
    assert history["batch_id"].unique().to_list() == [BATCH_ID]
    assert history["run_id"].unique().to_list() == [result.run_id]


def test_blocking_failure_stops_the_mart_and_the_history_shows_why(run):
    _, evaluations, materialized, history = run(STAGING["patients"] + STAGING["patients"][:1])
    failed = evaluations["patients__key_unique"]
    assert not failed.passed and failed.severity == AssetCheckSeverity.ERROR
    meta = {k: v.value for k, v in failed.metadata.items()}
    assert meta["failing_count"] == 2  # every row sharing the key
    assert meta["total_count"] == 4
    assert meta["failing_pct"] == 50.0
    assert meta["threshold_pct"] == 0.0
    assert (meta["kahn_category"], meta["kahn_subcategory"]) == ("conformance", "relational")
    assert meta["failing_keys_sample"] == ["P1", "P1"]
    assert meta["severity"] == "block"
    assert MART not in materialized
    row = history.filter(pl.col("check_id") == "patients__key_unique").row(0, named=True)
    assert (row["passed"], row["failing_count"], row["total_count"]) == (False, 2, 4)


def test_a_failing_warning_does_not_block(run):
    alive_with_death_date = [{**STAGING["patients"][0], "death_date": STAGING["patients"][1]
                              ["death_date"]}, *STAGING["patients"][1:]]
    _, evaluations, materialized, history = run(alive_with_death_date)
    warned = evaluations["patients__death_date_for_living"]
    assert not warned.passed and warned.severity == AssetCheckSeverity.WARN
    assert warned.metadata["failing_keys_sample"].value == ["P1"]
    assert MART in materialized
    assert history.filter(~pl.col("passed"))["check_id"].to_list() == [
        "patients__death_date_for_living"]


def test_results_per_asset_summarise_by_severity_and_still_block(run):
    duplicated = STAGING["patients"] + STAGING["patients"][:1]
    _, evaluations, materialized, history = run(duplicated, results_per="asset")
    assert set(evaluations) == {"dq_block_checks", "dq_warn_checks"}
    blocked = evaluations["dq_block_checks"]
    assert not blocked.passed and blocked.severity == AssetCheckSeverity.ERROR
    assert blocked.metadata["checks"].value == 3
    [failing] = blocked.metadata["failing"].value
    assert (failing["check_id"], failing["failing_count"], failing["failing_keys_sample"]) == (
        "patients__key_unique", 2, ["P1", "P1"])
    table = blocked.metadata["results"].value.splitlines()
    assert table[2].startswith("| conformance / relational | `patients__key_unique` | **fail**")
    assert len(table) == 2 + 3  # header, rule, one row per check of the result
    assert evaluations["dq_warn_checks"].passed
    assert MART not in materialized
    assert sorted(history["check_id"]) == sorted(CHECK_IDS)  # one row per check all the same


def test_results_per_asset_let_a_clean_batch_through(run):
    _, evaluations, materialized, _ = run(STAGING["patients"], results_per="asset")
    assert all(e.passed for e in evaluations.values())
    assert MART in materialized

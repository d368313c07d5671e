"""Runs launched the way the UI launches them: `execute_job` on the reconstructable asset job
with an asset selection and a partition tag, so the definitions' own executor runs the steps
(a multiprocess executor would open warehouse.duckdb from several processes and fail with
"Could not set lock"). They leave the same records as `oligo run`, and never rewrite a frozen
batch file."""

from pathlib import Path

import dagster as dg
import duckdb

from pipelines.dagster_home import dagster_instance
from pipelines.settings import paths
from tests.pipeline.helpers import BATCH

REPO = Path(__file__).resolve().parents[2]


def asset_job():
    """The UI's asset job, loaded from the code location like the webserver loads it."""
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    repository = ReconstructableRepository.for_module("pipelines.definitions", "defs",
                                                      str(REPO))
    return repository.get_reconstructable_job("__ASSET_JOB")


def launch_like_the_ui(selection: list[list[str]], partition: str = BATCH):
    """As the UI does: the assets picked, plus the rest of their multi-assets."""
    from pipelines.definitions import defs

    graph = defs.get_repository_def().asset_graph
    keys = dg.AssetSelection.assets(*[dg.AssetKey(k) for k in selection]
                                    ).required_multi_asset_neighbors().resolve(graph)
    instance = dagster_instance()
    with dg.execute_job(asset_job(), instance=instance, asset_selection=sorted(keys),
                        tags={"dagster/partition": partition}) as result:
        return result.success, result.run_id, [e.event_type_value for e in result.all_events]


def ops_rows(sql: str, params=None):
    with duckdb.connect(str(paths().ops), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def frozen_bytes() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(paths().published.rglob("*.duckdb"))
            if p.name != "ops.duckdb"}


def test_a_ui_subset_runs_in_process_and_keeps_the_frozen_file(home):
    before = frozen_bytes()
    success, run_id, events = launch_like_the_ui(
        [["staging", "patients"], ["staging", "imaging"], ["marts", "omd_episodes"],
         ["published", "snapshot"]])
    assert success
    assert "STEP_FAILURE" not in events
    assert frozen_bytes() == before  # published before: kept without a replace
    [(status, message)] = ops_rows("select status, message from ops.ops.runs where run_id = ?",
                                   [run_id])
    assert status == "unchanged" and "kept" in message
    steps = {s for (s,) in ops_rows("select step from ops.ops.run_steps where run_id = ?",
                                    [run_id])}
    assert {"staging_tables", "clinical_marts", "published__snapshot"} <= steps


def test_a_ui_run_of_the_whole_graph_stops_at_the_gate_for_a_published_batch(home):
    before = frozen_bytes()
    from pipelines.definitions import defs

    keys = [list(k.path) for k in defs.get_repository_def().asset_graph.get_all_asset_keys()]
    success, run_id, events = launch_like_the_ui(keys)
    assert success
    assert events.count("STEP_SUCCESS") == 1  # the delivery gate; the rest skipped
    assert frozen_bytes() == before
    assert ops_rows("select status from ops.ops.runs where run_id = ?", [run_id]) == [
        ("unchanged",)]


def test_a_run_killed_without_finishing_is_marked_failed_by_the_next_one(home):
    import os
    import subprocess
    import sys

    env = dict(os.environ, OLIGO_FAULT_POINT="derive")
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--batch", BATCH,
                           "--replace"], env=env, capture_output=True, text=True)
    assert proc.returncode == -9, proc.stdout + proc.stderr[-2000:]
    status = subprocess.run([sys.executable, "-m", "pipelines.cli", "status"],
                            capture_output=True, text=True).stdout
    assert "stopped without finishing" in status
    instance = dagster_instance()
    [killed] = [r for r in instance.get_runs() if r.status == dg.DagsterRunStatus.STARTED]
    success, run_id, _ = launch_like_the_ui([["staging", "patients"]])
    assert success
    rows = ops_rows("select status, message from ops.ops.runs where run_id = ?",
                    [killed.run_id])
    assert rows[0][0] == "failed" and "stopped without finishing" in rows[0][1]
    assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE

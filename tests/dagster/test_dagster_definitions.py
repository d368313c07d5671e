"""The definitions as the UI loads them: asset keys, groups, kinds, checks, jobs, the steps of
a run (the ops of `process_batch`: the run report and the bench list them), schedules,
sensors, executor, compared with definitions_snapshot.json (regenerate it after a deliberate
change with `OLIGO_UPDATE_SNAPSHOT=1 pytest tests/dagster/test_dagster_definitions.py`, and review
the diff), and what a data engineer expects of every asset."""

import json
import os
from pathlib import Path

import dagster as dg

from pipelines.definitions import defs
from pipelines.marts_catalog import MARTS

SNAPSHOT = Path(__file__).with_name("definitions_snapshot.json")


def snapshot() -> dict:
    repo = defs.get_repository_def()
    graph = repo.asset_graph
    assets = {}
    for key in sorted(graph.get_all_asset_keys()):
        node = graph.get(key)
        assets[key.to_user_string()] = {"group": node.group_name, "kinds": sorted(node.kinds),
                                        "partitioned": node.partitions_def is not None}
    checks = sorted(f"{c.asset_key.to_user_string()}:{c.name}" for c in graph.asset_check_keys)
    jobs = {job.name: job.executor_def.name for job in repo.get_all_jobs()}
    steps = sorted(node.name for node in repo.get_job("process_batch").graph.nodes)
    schedules = {s.name: {"cron": s.cron_schedule, "job": s.job_name}
                 for s in repo.schedule_defs}
    sensors = {s.name: {"type": s.sensor_type.value, "interval": s.minimum_interval_seconds,
                        "default_status": s.default_status.value}
               for s in repo.sensor_defs}
    return {"assets": assets, "checks": checks, "jobs": jobs, "steps": steps,
            "schedules": schedules,
            "sensors": sensors, "resources": sorted(defs.resources)}


def test_definitions_match_the_snapshot():
    current = snapshot()
    if os.environ.get("OLIGO_UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    assert current == json.loads(SNAPSHOT.read_text())


def test_every_job_runs_in_process_the_ui_asset_job_included():
    repo = defs.get_repository_def()
    assert {job.executor_def.name for job in repo.get_all_jobs()} == {"in_process"}
    assert "__ASSET_JOB" in {job.name for job in repo.get_all_jobs()}


def test_every_asset_has_its_own_description_kinds_owner_and_code_version():
    specs = [spec for assets in defs.get_repository_def().assets_defs_by_key.values()
             for spec in assets.specs]
    specs = list({spec.key: spec for spec in specs}.values())
    descriptions = [spec.description for spec in specs]
    assert all(descriptions) and len(set(descriptions)) == len(descriptions)
    assert all(spec.kinds and spec.owners and spec.code_version for spec in specs)


def test_the_clinical_assets_are_the_mart_registry():
    graph = defs.get_repository_def().asset_graph
    registry = {dg.AssetKey(list(m.asset_key)): m.builder for m in MARTS}
    built = {key: graph.get(key).group_name for key in graph.get_all_asset_keys()
             if key.path[0] in ("marts", "clinical")}
    assert built == registry
    publish_deps = graph.get(dg.AssetKey(["published", "snapshot"])).parent_keys
    assert {k for k in publish_deps if k.path[0] == "marts"} == {
        k for k in registry if k.path[0] == "marts"}

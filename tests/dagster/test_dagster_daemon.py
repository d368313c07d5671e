"""The real daemon on a temporary Dagster home: a batch copied into the exports folder is
published without any command; copied again it does not run twice; changed under the same
id it is refused and the refusal recorded. Bounds are generous for a loaded 2-core machine;
on a quiet one the whole test takes about 30 s."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.dagster_home import ensure_dagster_home
from pipelines.delivery import fingerprint
from tests.pipeline.helpers import BATCH, SECRET

REPO = Path(__file__).resolve().parents[2]
PUBLISH_BOUND_SECONDS = 150
SENSOR_BOUND_SECONDS = 60


def wait_for(condition, bound: float, what: str, daemon: subprocess.Popen):
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        assert daemon.poll() is None, "the daemon stopped"
        time.sleep(0.5)
    raise AssertionError(f"not within {bound} s: {what}")


def runs(ops: Path) -> list[tuple]:
    if not ops.exists():
        return []
    with duckdb.connect(str(ops), read_only=True) as con:
        return con.execute("select run_id, status, message from ops.ops.runs "
                           "order by started_at").fetchall()


def sensor_cursor(instance: dg.DagsterInstance) -> dict:
    import json

    states = [s for s in instance.all_instigator_state(
        instigator_type=dg._core.scheduler.instigation.InstigatorType.SENSOR)
        if s.origin.instigator_name == "batch_delivery_sensor"]
    if not states or states[0].instigator_data is None:
        return {}
    return json.loads(states[0].instigator_data.cursor or "{}")


@pytest.fixture
def daemon(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / "exports").mkdir(parents=True)
    monkeypatch.setenv("OLIGO_HOME", str(home))
    dagster_home = ensure_dagster_home(home / "dagster_home")
    env = dict(os.environ, OLIGO_HOME=str(home), DAGSTER_HOME=str(dagster_home),
               OLIGO_PSEUDONYM_SECRET=SECRET, DAGSTER_DISABLE_TELEMETRY="1",
               # A changed file no longer matches the manifest: the sensor then waits for
               # the folder to be quiet this long before it requests the run.
               OLIGO_DELIVERY_QUIET_SECONDS="3")
    log = (tmp_path / "daemon.log").open("w")
    proc = subprocess.Popen([str(Path(sys.executable).with_name("dagster-daemon")), "run",
                             "-w", str(REPO / "workspace.yaml")], cwd=REPO, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield home, proc
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.mark.slow
def test_daemon_publishes_a_delivery_once_and_refuses_a_changed_one(daemon, delivered_batch):
    home, proc = daemon
    exports, ops = home / "exports", home / "published" / "ops.duckdb"
    shutil.copytree(delivered_batch, exports / BATCH)
    published = wait_for(lambda: [r for r in runs(ops) if r[1] == "published"],
                         PUBLISH_BOUND_SECONDS, "the batch published", proc)
    assert len(published) == 1
    frozen = home / "published" / "batches" / f"{BATCH}.duckdb"
    frozen_bytes = frozen.read_bytes()
    instance = dg.DagsterInstance.get()
    [first] = instance.get_runs()
    assert first.tags["dagster/run_key"].startswith(f"{BATCH}:")

    # The same files again: the sensor sees the new copy (its cursor follows the folder)
    # and launches nothing.
    shutil.rmtree(exports / BATCH)
    shutil.copytree(delivered_batch, exports / BATCH)
    copied = fingerprint(exports / BATCH)
    wait_for(lambda: sensor_cursor(instance).get(BATCH, {}).get("fingerprint") == copied,
             SENSOR_BOUND_SECONDS, "the sensor saw the second copy", proc)
    assert len(instance.get_runs()) == 1

    # One file changed under the same id: one run, refused by the gate and recorded.
    patients = exports / BATCH / "patients.csv"
    patients.write_text(patients.read_text().replace(",former,", ",current,", 1))
    refused = wait_for(lambda: [r for r in runs(ops) if r[1] == "refused"],
                       PUBLISH_BOUND_SECONDS, "the changed delivery refused", proc)
    assert "different checksums" in refused[0][2]
    assert len(instance.get_runs()) == 2
    assert frozen.read_bytes() == frozen_bytes

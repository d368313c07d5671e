"""When a delivery is complete, and what the delivery sensor requests (evaluated directly,
without a daemon): one run per batch id and signature, none for a batch published as
delivered, none while files are still arriving."""

import json
import os
import shutil
import time

import dagster as dg
import pytest

from pipelines.delivery import batch_signature, fingerprint, readiness
from pipelines.sensors import batch_delivery_sensor
from tests.pipeline.helpers import BATCH

OLD = time.time() - 3600


def age(folder, seconds_ago: float = 3600) -> None:
    for file in folder.iterdir():
        os.utime(file, (time.time() - seconds_ago, time.time() - seconds_ago))


@pytest.fixture
def batch(tmp_path, delivered_batch):
    target = tmp_path / "exports" / BATCH
    shutil.copytree(delivered_batch, target)
    age(target)
    return target


def test_a_manifest_with_matching_checksums_makes_a_complete_delivery(batch):
    assert readiness(batch, quiet_seconds=600).ready


def test_a_file_that_does_not_match_its_manifest_waits_for_quiet(batch):
    patients = batch / "patients.csv"
    patients.write_bytes(patients.read_bytes()[: len(patients.read_bytes()) // 2])
    age(batch, 30)
    waiting = readiness(batch, quiet_seconds=600)
    assert not waiting.ready and "patients.csv" in waiting.reason
    assert readiness(batch, quiet_seconds=20).ready  # quiet long enough: the run reports it


def test_without_manifest_only_quiet_files_are_complete(batch):
    (batch / "manifest.json").unlink()
    age(batch, 30)
    assert not readiness(batch, quiet_seconds=60).ready
    assert readiness(batch, quiet_seconds=20).ready
    age(batch, -60)
    assert readiness(batch, quiet_seconds=0).reason == "files are still changing"


def test_signature_follows_content_and_fingerprint_follows_files(batch):
    signature, print_before = batch_signature(batch), fingerprint(batch)
    os.utime(batch / "patients.csv")
    assert batch_signature(batch) == signature and fingerprint(batch) != print_before
    (batch / "patients.csv").write_text((batch / "patients.csv").read_text() + "\n")
    assert batch_signature(batch) != signature


def evaluate(instance, cursor=None):
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    return batch_delivery_sensor(context)


def test_the_sensor_requests_one_run_keyed_by_batch_and_signature(batch, monkeypatch):
    monkeypatch.setenv("OLIGO_HOME", str(batch.parent.parent))
    with dg.instance_for_test() as instance:
        first = evaluate(instance)
        [request] = first.run_requests
        assert request.run_key == f"{BATCH}:{batch_signature(batch)}"
        assert request.partition_key == BATCH
        assert first.dynamic_partitions_requests[0].partition_keys == [BATCH]
        again = evaluate(instance, first.cursor)  # nothing changed: not even hashed again
        assert not again.run_requests and again.skip_reason
        os.utime(batch / "patients.csv", (OLD, OLD))  # touched, same content: same key
        touched = evaluate(instance, again.cursor)
        assert [r.run_key for r in touched.run_requests] == [request.run_key]
        assert json.loads(touched.cursor)[BATCH]["fingerprint"] == fingerprint(batch)


def test_the_sensor_waits_for_a_copy_in_progress(batch, monkeypatch):
    monkeypatch.setenv("OLIGO_HOME", str(batch.parent.parent))
    soon = time.time() + 60  # still being written (in the future: robust to a slow machine)
    os.utime(batch / "patients.csv", (soon, soon))
    with dg.instance_for_test() as instance:
        result = evaluate(instance)
    assert not result.run_requests
    assert "still changing" in result.skip_reason.skip_message

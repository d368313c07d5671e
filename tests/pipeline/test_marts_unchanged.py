"""The tables a run builds are the same, row for row, as those the code built before the speed
work (tests/pipeline/marts_reference.json, docs/benchmarks.md): a clean batch and a messy one
whose quarantine is not empty."""

import json

import pytest

from tests.pipeline.helpers import generate, publish_once
from tests.pipeline.marts_digest import REFERENCE, warehouse_digests


def differences(name: str, home) -> list[str]:
    want = json.loads(REFERENCE.read_text())[name]
    got = warehouse_digests(home)
    return [f"{table}: {got.get(table)} != {want.get(table)}"
            for table in sorted(set(want) | set(got)) if got.get(table) != want.get(table)]


def test_clean_batch_builds_the_reference_tables(published_template):
    assert differences("clean-150-seed-11", published_template) == []


@pytest.fixture(scope="module")
def messy_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("messy-home")
    generate(home / "exports", 800, 6, "--messy")
    return publish_once(home)


def test_messy_batch_builds_the_reference_tables(messy_home):
    digests = warehouse_digests(messy_home)
    assert digests["ops.quarantine"]["rows"] > 0  # the quarantine path is exercised
    assert differences("messy-800-seed-6", messy_home) == []

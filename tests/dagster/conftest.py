"""A 20-patient generated batch published once per session by `oligo run` (the thin
launcher of the same job the sensor and the UI launch), copied per test."""

import shutil
from pathlib import Path

import pytest

from tests.pipeline.helpers import BATCH, copy_home, generate, publish_once

PATIENTS = 20
SEED = 5


@pytest.fixture(scope="session")
def delivered_batch(tmp_path_factory) -> Path:
    """A generated batch folder outside any exports folder (to copy in)."""
    return generate(tmp_path_factory.mktemp("delivery"), PATIENTS, SEED)


@pytest.fixture(scope="session")
def published_home(tmp_path_factory, delivered_batch) -> Path:
    home = tmp_path_factory.mktemp("dagster-home")
    shutil.copytree(delivered_batch, home / "exports" / BATCH)
    return publish_once(home)


@pytest.fixture
def home(tmp_path, monkeypatch, published_home) -> Path:
    target = copy_home(published_home, tmp_path / "home", monkeypatch)
    monkeypatch.setenv("DAGSTER_HOME", str(target / "dagster_home"))
    return target

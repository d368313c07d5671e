"""A 20-patient generated batch published once per session by `oligo run` (the thin
launcher of the same job the sensor and the UI launch), copied per test."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pipeline.helpers import BATCH, SECRET, generate

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
    env = dict(os.environ, OLIGO_HOME=str(home), OLIGO_PSEUDONYM_SECRET=SECRET)
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--batch", BATCH],
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    return home


@pytest.fixture
def home(tmp_path, monkeypatch, published_home) -> Path:
    target = tmp_path / "home"
    shutil.copytree(published_home, target, symlinks=True)
    monkeypatch.setenv("OLIGO_HOME", str(target))
    monkeypatch.setenv("OLIGO_PSEUDONYM_SECRET", SECRET)
    monkeypatch.setenv("DAGSTER_HOME", str(target / "dagster_home"))
    return target

"""A data folder where a small generated batch was already published once (made once per
session, copied per test so each test starts from the same published state)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pipeline.helpers import BATCH, SECRET, generate


@pytest.fixture(scope="session")
def published_template(tmp_path_factory) -> Path:
    """A data folder with exports/<BATCH>/ (150 patients) published by a first `oligo run`."""
    home = tmp_path_factory.mktemp("published-home")
    generate(home / "exports", 150, 11)
    env = dict(os.environ, OLIGO_HOME=str(home), OLIGO_PSEUDONYM_SECRET=SECRET)
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--batch", BATCH],
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    return home


@pytest.fixture
def home(tmp_path, monkeypatch, published_template) -> Path:
    target = tmp_path / "home"
    shutil.copytree(published_template, target, symlinks=True)
    monkeypatch.setenv("OLIGO_HOME", str(target))
    monkeypatch.setenv("OLIGO_PSEUDONYM_SECRET", SECRET)
    return target

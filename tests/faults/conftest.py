"""A data folder with one published batch (made once per session, copied per test)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pipeline.helpers import BATCH, SECRET, generate


@pytest.fixture(scope="session")
def faults_template(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("faults-home")
    generate(home / "exports", 80, 11)
    env = dict(os.environ, OLIGO_HOME=str(home), OLIGO_PSEUDONYM_SECRET=SECRET)
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--batch", BATCH],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    return home


@pytest.fixture
def home(tmp_path, monkeypatch, faults_template) -> Path:
    target = tmp_path / "home"
    shutil.copytree(faults_template, target, symlinks=True)
    monkeypatch.setenv("OLIGO_HOME", str(target))
    monkeypatch.setenv("OLIGO_PSEUDONYM_SECRET", SECRET)
    return target

"""A small generated batch, made once per session, and a fresh data folder per test."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BATCH = "2026-10-31"


def generate(out: Path, patients: int, seed: int, *extra: str, batch_id: str = BATCH) -> Path:
    subprocess.run([sys.executable, "-m", "pipelines.cli", "generate", "--patients",
                    str(patients), "--seed", str(seed), "--out", str(out), "--batch-id",
                    batch_id, *extra], check=True, capture_output=True)
    return out / batch_id


@pytest.fixture(scope="session")
def small_exports(tmp_path_factory) -> Path:
    """exports/<BATCH>/ with 150 clean synthetic patients."""
    out = tmp_path_factory.mktemp("exports")
    generate(out, 150, 11)
    return out


@pytest.fixture
def home(tmp_path, monkeypatch, small_exports) -> Path:
    """OLIGO_HOME with a copy of the small batch under exports/ and a pseudonym secret."""
    monkeypatch.setenv("OLIGO_HOME", str(tmp_path))
    monkeypatch.setenv("OLIGO_PSEUDONYM_SECRET", "test-secret-not-for-real-data")
    shutil.copytree(small_exports / BATCH, tmp_path / "exports" / BATCH)
    return tmp_path

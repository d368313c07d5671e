"""Shared helpers of the pipeline tests."""

import subprocess
import sys
from pathlib import Path

BATCH = "2026-10-31"
SECRET = "test-secret-not-for-real-data-0123456789"  # >= 32 bytes


def generate(out: Path, patients: int, seed: int, *extra: str, batch_id: str = BATCH) -> Path:
    subprocess.run([sys.executable, "-m", "pipelines.cli", "generate", "--patients",
                    str(patients), "--seed", str(seed), "--out", str(out), "--batch-id",
                    batch_id, *extra], check=True, capture_output=True)
    return out / batch_id


def publish_once(home: Path, timeout: float = 300) -> Path:
    """`oligo run --batch BATCH` on the batch under home/exports; the home, published."""
    import os

    env = dict(os.environ, OLIGO_HOME=str(home), OLIGO_PSEUDONYM_SECRET=SECRET)
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--batch", BATCH],
                          env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    return home


def copy_home(template: Path, target: Path, monkeypatch) -> Path:
    """A per-test copy of a published data folder, set as OLIGO_HOME with the test secret."""
    import shutil

    shutil.copytree(template, target, symlinks=True)
    monkeypatch.setenv("OLIGO_HOME", str(target))
    monkeypatch.setenv("OLIGO_PSEUDONYM_SECRET", SECRET)
    return target

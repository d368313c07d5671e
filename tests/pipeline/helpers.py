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

"""A real PostgreSQL for the DuckLake tests: Debian's server started by the suite on a
loopback port with its data in a temporary folder (pipelines.lake.local_server), and a data
folder where two generated batches were published to the lake by `oligo run`.

Without PostgreSQL the tests skip, except under CI=true where that is a failure
(`make postgres` installs it, as `make browser` installs chromium).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.lake.local_server import LocalServer, PostgresMissing, binaries, start, stop

SECRET = "test-secret-not-for-real-data-0123456789"  # >= 32 bytes
BATCHES = {"b1": ("2026-09-30", 150, 11), "b2": ("2026-10-31", 160, 12)}  # id: cut-off, n, seed


def require_postgres() -> None:
    try:
        binaries()
    except PostgresMissing as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(str(exc))
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalServer]:
    require_postgres()
    # Not under pytest's 0700 tmp tree: the server runs as `postgres` when we are root.
    folder = Path(tempfile.mkdtemp(prefix="oligo-pg-"))
    try:
        yield start(folder)
    finally:
        stop(folder)
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class LakeHome:
    home: Path  # the pipeline host's data folder (embedded files + ops)
    reader_home: Path  # another host's data folder: empty, it reads the lake only
    server: LocalServer
    env: dict[str, str]  # the DuckLake settings

    def frozen(self, batch_id: str) -> Path:
        return self.home / "published" / "batches" / f"{batch_id}.duckdb"


@pytest.fixture(scope="module")
def lake_home(postgres: LocalServer, tmp_path_factory) -> Iterator[LakeHome]:
    """Two batches (b1 cut-off 2026-09-30, b2 2026-10-31) published by one `oligo run` with
    the DuckLake target; the settings stay in the environment for the module's tests."""
    home = tmp_path_factory.mktemp("lake-home")
    reader_home = tmp_path_factory.mktemp("reader-home")
    for database in ("oligo_lake", "dagster"):  # a fresh lake per module
        postgres.sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        postgres.sql(f"CREATE DATABASE {database}")
    from pipelines.lake.local_server import grant_reader

    grant_reader(postgres)
    env = postgres.environment() | {"OLIGO_LAKE_DATA_PATH": str(home / "lake")}
    for batch_id, (cutoff, patients, seed) in BATCHES.items():
        subprocess.run([sys.executable, "-m", "pipelines.cli", "generate", "--patients",
                        str(patients), "--seed", str(seed), "--out", str(home / "exports"),
                        "--batch-id", batch_id, "--cutoff", cutoff],
                       check=True, capture_output=True)
    run_env = dict(os.environ, OLIGO_HOME=str(home), OLIGO_PSEUDONYM_SECRET=SECRET, **env)
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "run"], env=run_env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        patch.setenv("OLIGO_HOME", str(reader_home))
        yield LakeHome(home, reader_home, postgres, env)

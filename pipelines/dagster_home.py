"""A persistent Dagster instance under the data folder, telemetry off."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from pipelines.lake.dagster_storage import dagster_storage_yaml
from pipelines.settings import paths

DAGSTER_YAML = "telemetry:\n  enabled: false\n"


def ensure_dagster_home(home: Path | None = None) -> Path:
    home = home or paths().dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    text = DAGSTER_YAML + dagster_storage_yaml()  # DuckLake target: storage on PostgreSQL
    if not config.exists() or config.read_text() != text:
        config.write_text(text)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def dagster_instance() -> dg.DagsterInstance:
    ensure_dagster_home()
    return dg.DagsterInstance.get()

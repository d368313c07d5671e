"""Dagster's own storage (runs, events, schedules) on the lake's PostgreSQL server, so that
webserver, daemon and run workers on different hosts share one instance.

Used by `pipelines.dagster_home` when the DuckLake target is configured: the same host,
port and user as the catalog, the database `OLIGO_DAGSTER_DB` (default `dagster`). No
password is written into dagster.yaml: psycopg2 is libpq, which reads PGPASSWORD or a
PGPASSFILE itself.
"""

from __future__ import annotations

import json

from pipelines.lake.config import lake_target, target_is_ducklake


def dagster_storage_yaml() -> str:
    """The `storage:` section of dagster.yaml for the configured target ('' = SQLite)."""
    if not target_is_ducklake():
        return ""
    target = lake_target()
    parameters = target.catalog_parameters()
    lines = [
        "storage:",
        "  postgres:",
        "    postgres_db:",
        f"      hostname: {json.dumps(parameters.get('host', '127.0.0.1'))}",
        f"      port: {int(parameters.get('port', 5432))}",
        f"      username: {json.dumps(parameters.get('user', 'postgres'))}",
        f"      db_name: {json.dumps(target.dagster_db)}",
        # SQLAlchemy 2.1 maps plain postgresql:// to psycopg 3; the lock has psycopg2.
        '      scheme: "postgresql+psycopg2"',
    ]
    return "\n".join(lines) + "\n"

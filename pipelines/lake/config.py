"""Which publish target is configured, read from the environment on call.

`OLIGO_PUBLISH_TARGET=embedded` (the default) publishes DuckDB files under the data folder
only. `OLIGO_PUBLISH_TARGET=ducklake` also publishes every batch as a snapshot of a DuckLake
whose catalog lives in PostgreSQL (docs/deployment.md):

- `OLIGO_LAKE_CATALOG`: libpq key=value parameters of the catalog database, e.g.
  `dbname=oligo_lake host=db.example.org port=5432 user=oligo_publisher`. Passwords never go
  here (they would show in `duckdb_databases()`): use PGPASSWORD or a PGPASSFILE.
- `OLIGO_LAKE_READER_CATALOG`: the same for readers (a read-only role); default: the above.
- `OLIGO_LAKE_DATA_PATH`: the folder of the Parquet files, default `<OLIGO_HOME>/lake`.
  Every host must see it at this path (a shared mount).
- `OLIGO_DAGSTER_DB`: the PostgreSQL database of Dagster's own storage, default `dagster`.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

EMBEDDED = "embedded"
DUCKLAKE = "ducklake"
TARGETS = (EMBEDDED, DUCKLAKE)


class LakeMisconfigured(ValueError):
    """The DuckLake target is chosen but cannot be used as configured; says what to set."""


@dataclass(frozen=True)
class LakeTarget:
    catalog: str  # libpq parameters of the publisher
    reader_catalog: str  # libpq parameters of readers
    data_path: Path
    dagster_db: str

    def catalog_parameters(self) -> dict[str, str]:
        return parse_libpq(self.catalog)


def publish_target() -> str:
    target = os.environ.get("OLIGO_PUBLISH_TARGET", EMBEDDED).strip().lower() or EMBEDDED
    if target not in TARGETS:
        raise LakeMisconfigured(
            f"OLIGO_PUBLISH_TARGET={target!r} is not a publish target; "
            f"use one of: {', '.join(TARGETS)}"
        )
    return target


def target_is_ducklake() -> bool:
    return publish_target() == DUCKLAKE


def lake_target() -> LakeTarget:
    """The configured DuckLake target, or LakeMisconfigured naming what is missing."""
    from pipelines.settings import paths  # OLIGO_HOME on call

    catalog = os.environ.get("OLIGO_LAKE_CATALOG", "").strip()
    if not catalog:
        raise LakeMisconfigured(
            "OLIGO_PUBLISH_TARGET=ducklake needs OLIGO_LAKE_CATALOG, the PostgreSQL catalog as "
            "libpq parameters, e.g. 'dbname=oligo_lake host=127.0.0.1 port=5432 user=oligo'"
        )
    parameters = parse_libpq(catalog)
    if "password" in parameters:
        raise LakeMisconfigured(
            "OLIGO_LAKE_CATALOG must not contain a password (DuckDB lists attached paths); "
            "set PGPASSWORD or a PGPASSFILE instead"
        )
    reader = os.environ.get("OLIGO_LAKE_READER_CATALOG", "").strip() or catalog
    if "password" in parse_libpq(reader):
        raise LakeMisconfigured("OLIGO_LAKE_READER_CATALOG must not contain a password; "
                                "set PGPASSWORD or a PGPASSFILE instead")
    data_path = Path(os.environ.get("OLIGO_LAKE_DATA_PATH", "") or paths().home / "lake")
    return LakeTarget(
        catalog=catalog,
        reader_catalog=reader,
        data_path=data_path.resolve(),
        dagster_db=os.environ.get("OLIGO_DAGSTER_DB", "").strip() or "dagster",
    )


def parse_libpq(text: str) -> dict[str, str]:
    """`key=value key='quoted value'` → dict; refuses anything else (a URI, a typo)."""
    parameters = {}
    for word in shlex.split(text):
        key, sep, value = word.partition("=")
        if not sep or not key.isidentifier():
            raise LakeMisconfigured(
                f"{word!r} in the catalog parameters is not key=value "
                "(expected e.g. 'dbname=oligo_lake host=127.0.0.1 port=5432 user=oligo')"
            )
        parameters[key] = value
    if "dbname" not in parameters:
        raise LakeMisconfigured("the catalog parameters need dbname=<database>")
    return parameters

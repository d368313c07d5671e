"""Load the DuckLake and PostgreSQL extensions from their PyPI packages, never the network.

`INSTALL` and auto-loading would download from extensions.duckdb.org; the packages
`duckdb-extension-ducklake` and `duckdb-extension-postgres` ship the binaries for exactly
one DuckDB version. The PostgreSQL one must be loaded under its internal name
`postgres_scanner` (loaded as `postgres.duckdb_extension` DuckDB looks for the entry point
`postgres_init` and fails), so it is copied once to a per-user cache under that name.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from importlib import util
from pathlib import Path

import duckdb

from pipelines.lake.config import LakeMisconfigured
from pipelines.sql_quoting import quote_literal


def _package_extension(package: str, file_name: str) -> Path:
    spec = util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LakeMisconfigured(f"the Python package {package} is not installed (make env)")
    version = f"v{duckdb.__version__}"
    path = Path(next(iter(spec.submodule_search_locations))) / "extensions" / version / file_name
    if not path.is_file():
        raise LakeMisconfigured(
            f"{package} has no build for DuckDB {duckdb.__version__} ({path} is missing); "
            "the lock pins matching versions: run make env"
        )
    return path


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = Path(base) / "oligo" / "duckdb-extensions" / f"v{duckdb.__version__}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    except OSError:  # a read-only home (a container): a private temporary folder
        folder = Path(tempfile.gettempdir()) / f"oligo-duckdb-extensions-{os.getuid()}"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return folder


def ducklake_extension() -> Path:
    return _package_extension("duckdb_extension_ducklake", "ducklake.duckdb_extension")


def postgres_extension() -> Path:
    """The packaged postgres extension, copied as postgres_scanner.duckdb_extension."""
    source = _package_extension("duckdb_extension_postgres", "postgres.duckdb_extension")
    target = _cache_dir() / "postgres_scanner.duckdb_extension"
    if not target.is_file() or target.stat().st_size != source.stat().st_size:
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)  # concurrent first uses each write their own copy
    return target


def load_lake_extensions(con: duckdb.DuckDBPyConnection) -> None:
    """LOAD both extensions into `con` (before external access is switched off)."""
    for path in (ducklake_extension(), postgres_extension()):
        con.execute(f"LOAD {quote_literal(str(path))}")

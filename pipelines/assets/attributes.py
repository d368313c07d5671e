"""What the Dagster UI shows about each asset besides its data: kinds, code versions.

A code version is a hash of the sources that decide an asset's content (its builder modules
and SQL files), so the UI flags assets whose code changed since they were materialised.
Owners are applied in pipelines/definitions.py (configurable, `OLIGO_ASSET_OWNERS`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
REPO = PACKAGE.parent

DUCKDB = "duckdb"
POLARS = "polars"
GX = "great_expectations"


def source_version(*patterns: str) -> str:
    """sha256 (12 hex) over the files matching the patterns (relative to the repository)."""
    digest = hashlib.sha256()
    for pattern in patterns:
        for path in sorted(REPO.glob(pattern)):
            if path.is_file():
                digest.update(path.relative_to(REPO).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]

"""Versioned code sets: clinical vocabularies kept as data files, not literals in code.

Each file is `<name>_v<version>.csv`; a change of content is a new version, so a result can
always say which code set it was derived with (`CODESET_VERSIONS`).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl

CODESET_DIR = Path(__file__).parent

CODESET_VERSIONS: dict[str, str] = {
    "drugs": "v2",
    "atc_class_prefixes": "v1",
    "nsclc_morphology": "v1",
    "lung_topography": "v1",
}


@cache
def _read(name: str) -> pl.DataFrame:
    path = CODESET_DIR / f"{name}_{CODESET_VERSIONS[name]}.csv"
    return pl.read_csv(path, infer_schema=False)


def load_codeset(name: str) -> pl.DataFrame:
    """The current version of code set `name`, every column as text (codes keep leading
    zeros; callers cast what they need)."""
    return _read(name).clone()

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from tests.quality.tiny_warehouse import build_clean_warehouse


@pytest.fixture(scope="session")
def clean_warehouse_file(tmp_path_factory) -> Path:
    return build_clean_warehouse(tmp_path_factory.mktemp("dq") / "clean.duckdb")


@pytest.fixture
def warehouse_copy(clean_warehouse_file, tmp_path) -> Path:
    """A private copy of the clean tiny warehouse, free to mutate."""
    target = tmp_path / "warehouse.duckdb"
    shutil.copyfile(clean_warehouse_file, target)
    return target


@pytest.fixture(scope="session")
def _session_connection(tmp_path_factory):
    path = build_clean_warehouse(tmp_path_factory.mktemp("dq_tx") / "clean.duckdb")
    con = duckdb.connect(str(path))
    yield con
    con.close()


@pytest.fixture
def mutable_warehouse(_session_connection):
    """The clean tiny warehouse inside a transaction that is rolled back after the test:
    a test may break anything (DDL included) without paying for a file copy."""
    con = _session_connection
    con.execute("begin transaction")
    try:
        yield con
    finally:
        con.execute("rollback")

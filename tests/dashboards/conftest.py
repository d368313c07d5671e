"""Fixture warehouses (built once per session in tmp) and an AppTest helper."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboards.fixtures import FixtureWarehouse, build_warehouse

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory) -> FixtureWarehouse:
    built = build_warehouse(tmp_path_factory.mktemp("oligo_home"))
    # A fixed record-key secret: the perturbation (and so the attack figures measured on
    # this fixture) is then the same on every run, not drawn anew per data folder.
    key = built.home / "keys" / "record-key"
    key.parent.mkdir(parents=True, exist_ok=True)
    key.write_text(hashlib.sha256(b"dashboard fixture record key").hexdigest())
    return built


@pytest.fixture(scope="session")
def blocked_warehouse(tmp_path_factory) -> FixtureWarehouse:
    return build_warehouse(
        tmp_path_factory.mktemp("oligo_home_blocked"),
        n_patients=40,
        frozen_older=False,
        latest_run=("blocked_dq", "staging.metastases: 12% of rows fail rule M07"),
    )


@pytest.fixture(scope="session")
def tiny_warehouse(tmp_path_factory) -> FixtureWarehouse:
    return build_warehouse(
        tmp_path_factory.mktemp("oligo_home_tiny"), n_patients=9, seed=3, frozen_older=False
    )


@pytest.fixture
def app(monkeypatch):
    """`app(home, role=...)` → an AppTest of the router pointed at that data folder (not yet
    run), in demo mode with the demo identity in `role` (default analyst: exact counts)."""

    def make(home: Path, threshold: int | None = None, role: str = "analyst") -> AppTest:
        """Demo mode (no [auth]) with the demo identity starting in `role`."""
        monkeypatch.setenv("OLIGO_HOME", str(home))
        monkeypatch.setenv("OLIGO_DEMO_ROLE", role)
        if threshold is None:
            monkeypatch.delenv("OLIGO_SMALL_COUNT_THRESHOLD", raising=False)
        else:
            monkeypatch.setenv("OLIGO_SMALL_COUNT_THRESHOLD", str(threshold))
        return AppTest.from_file(str(APP), default_timeout=120)

    return make


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def open_page(app, home, page: str, role: str = "analyst",
              threshold: int | None = None) -> AppTest:
    """The router run once, then switched to `page` for the demo identity in `role`."""
    at = app(home.home, role=role, threshold=threshold)
    at.run()
    at.switch_page(page)
    at.run()
    no_exception(at)
    return at


def table_with(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.fixture(scope="session")
def pipeline_home(tmp_path_factory):
    """A data folder built by the real pipeline (tests/dashboards/pipeline_home.py), once
    per test session even with xdist workers (a file lock in the shared temporary root)."""
    from filelock import FileLock

    from tests.dashboards.pipeline_home import build_pipeline_home, load_pipeline_home

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    home = root / "pages-pipeline-home"
    with FileLock(str(home) + ".lock"):
        done = home / "built.json"
        if not done.is_file():
            build_pipeline_home(home)
        return load_pipeline_home(home)

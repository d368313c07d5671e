"""A data folder with one published batch (made once per session, copied per test)."""

from pathlib import Path

import pytest

from tests.pipeline.helpers import copy_home, generate, publish_once


@pytest.fixture(scope="session")
def faults_template(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("faults-home")
    generate(home / "exports", 80, 11)
    return publish_once(home)


@pytest.fixture
def home(tmp_path, monkeypatch, faults_template) -> Path:
    return copy_home(faults_template, tmp_path / "home", monkeypatch)

"""A data folder where a small generated batch was already published once (made once per
session, copied per test so each test starts from the same published state)."""

from pathlib import Path

import pytest

from tests.pipeline.helpers import copy_home, generate, publish_once


@pytest.fixture(scope="session")
def published_template(tmp_path_factory) -> Path:
    """A data folder with exports/<BATCH>/ (150 patients) published by a first `oligo run`."""
    home = tmp_path_factory.mktemp("published-home")
    generate(home / "exports", 150, 11)
    return publish_once(home)


@pytest.fixture
def home(tmp_path, monkeypatch, published_template) -> Path:
    return copy_home(published_template, tmp_path / "home", monkeypatch)

"""The commands run on a small published snapshot (tests/stats/published_fixture.py)."""

from pathlib import Path

import pytest

from tests.stats.published_fixture import build_published


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("oligo_home")
    build_published(home)
    return home


@pytest.fixture(autouse=True)
def _oligo_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLIGO_HOME", str(home))

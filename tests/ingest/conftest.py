from __future__ import annotations

import pytest

from tests.ingest.ingest_batches import clean_tables


@pytest.fixture
def tables():
    return clean_tables()

import datetime as dt

import pytest

from pipelines.synthetic.batch import BatchSpec, generate_batch

CUTOFF = dt.date(2026, 10, 31)


@pytest.fixture(scope="session")
def batch_5000(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen5000")
    return generate_batch(BatchSpec(5000, 1, out, CUTOFF))


@pytest.fixture(scope="session")
def messy_5000(tmp_path_factory):
    out = tmp_path_factory.mktemp("messy5000")
    return generate_batch(BatchSpec(5000, 3, out, CUTOFF, messy=True))

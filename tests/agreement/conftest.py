"""One generated batch for the whole area, built once per session through the ingestion
library and the clinical functions (tests/agreement/pipeline_fixture.py).

10,000 patients, seed 1: the first 5,000 patients are exactly the 5,000-patient batch of
docs/agreement.md (a batch is a prefix of a larger one with the same seed), and the effects
need the larger sample (about 20 local failures per dose group)."""

import pytest

from tests.agreement.pipeline_fixture import build_generated_marts

PATIENTS = 10_000
SEED = 1


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    return build_generated_marts(PATIENTS, SEED, tmp_path_factory.mktemp("agreement"))

"""Checks evaluated together (several SQL checks per statement, one GX validation per table)
give each check the outcome it has alone."""

from __future__ import annotations

import pytest

from pipelines.quality.catalog import all_checks
from pipelines.quality.evaluate import evaluate_checks
from pipelines.quality.specs import Engine
from pipelines.quality.sql_runner import CHECKS_PER_STATEMENT
from tests.quality.breakers import break_check
from tests.quality.tiny_warehouse import BATCH_ID

CHECKS = all_checks()
BROKEN = ["imaging__key_unique", "imaging__modality__code_list"]


@pytest.mark.parametrize("check_id", BROKEN)
def test_a_broken_check_among_its_assets_checks_keeps_its_own_outcome(check_id,
                                                                      mutable_warehouse):
    spec = next(s for s in CHECKS if s.check_id == check_id)
    break_check(mutable_warehouse, spec)
    neighbours = [s for s in CHECKS if s.asset == spec.asset]
    # SQL: more than one statement's worth of checks; GX: a suite of several expectations
    least = CHECKS_PER_STATEMENT if spec.engine == Engine.SQL else 5
    assert len([s for s in neighbours if s.engine == spec.engine]) > least
    together = {o.spec.check_id: o for o in
                evaluate_checks(mutable_warehouse, neighbours, batch_id=BATCH_ID)}
    [alone] = evaluate_checks(mutable_warehouse, [spec], batch_id=BATCH_ID)
    assert not alone.passed
    got = together[check_id]
    assert (got.failing_count, got.total_count, got.failing_keys) == (
        alone.failing_count, alone.total_count, alone.failing_keys)

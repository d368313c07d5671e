"""Every check passes on the clean tiny warehouse and fails on a copy built to break it."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.quality.catalog import all_checks
from pipelines.quality.evaluate import evaluate_checks
from tests.quality.breakers import break_check
from tests.quality.tiny_warehouse import BATCH_ID

CHECKS = all_checks()


def test_catalogue_has_at_least_200_checks_over_the_nine_tables_and_the_marts():
    assets = {s.asset for s in CHECKS}
    assert len(CHECKS) >= 200
    assert len({a for a in assets if a[0] == "staging"}) == 10  # nine + the optional MDT table
    assert len({a for a in assets if a[0] == "marts"}) == 10
    for spec in CHECKS:
        assert spec.severity in ("block", "warn")
        assert spec.kahn_category in ("conformance", "completeness", "plausibility")
        assert spec.kahn_subcategory and spec.description
        assert 0 <= spec.threshold_pct <= 100


def test_clean_warehouse_passes_every_check_and_no_check_is_vacuous(clean_warehouse_file):
    with duckdb.connect(str(clean_warehouse_file), read_only=True) as con:
        outcomes = evaluate_checks(con, CHECKS, batch_id=BATCH_ID)
    failing = [(o.spec.check_id, o.failing_count, o.failing_keys[:3]) for o in outcomes
               if not o.passed]
    assert failing == []
    assert [o.spec.check_id for o in outcomes if o.total_count == 0] == []


def test_quarantine_rows_of_another_batch_do_not_count(clean_warehouse_file):
    spec = next(s for s in CHECKS if s.check_id == "patients__quarantine__duplicate_key")
    with duckdb.connect(str(clean_warehouse_file), read_only=True) as con:
        [this_batch] = evaluate_checks(con, [spec], batch_id=BATCH_ID)
        [every_batch] = evaluate_checks(con, [spec], batch_id=None)
    assert this_batch.passed and this_batch.failing_count == 0
    assert not every_batch.passed and every_batch.failing_keys == [("P9", None)]


@pytest.mark.parametrize("spec", CHECKS, ids=[s.check_id for s in CHECKS])
def test_check_fails_on_a_batch_built_to_break_it(spec, mutable_warehouse):
    break_check(mutable_warehouse, spec)
    [outcome] = evaluate_checks(mutable_warehouse, [spec], batch_id=BATCH_ID)
    assert not outcome.passed, spec.check_id
    assert outcome.failing_count > 0
    assert outcome.failing_pct > spec.threshold_pct
    assert outcome.failing_keys, "a failing check lists failing keys"

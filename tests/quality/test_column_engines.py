"""The column-level expectations give the same counts and failing keys whether DuckDB
evaluates them (the default, pipelines/quality/column_runner.py) or Great Expectations
validates them (pipelines/quality/gx_runner.py): GX's semantics are the reference."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.quality.catalog import all_checks
from pipelines.quality.evaluate import evaluate_checks
from pipelines.quality.specs import Engine
from tests.quality.breakers import break_check
from tests.quality.tiny_warehouse import BATCH_ID

COLUMN_CHECKS = [s for s in all_checks() if s.engine == Engine.GX]


def _by_engine(con, specs) -> dict[str, list]:
    return {
        engine: [(o.spec.check_id, o.failing_count, o.total_count, o.failing_keys)
                 for o in evaluate_checks(con, specs, batch_id=BATCH_ID, engine=engine)]
        for engine in ("sql", "gx")
    }


def test_engines_agree_on_the_clean_warehouse(clean_warehouse_file):
    with duckdb.connect(str(clean_warehouse_file), read_only=True) as con:
        got = _by_engine(con, COLUMN_CHECKS)
    assert got["sql"] == got["gx"]
    assert all(failing == 0 and total > 0 for _, failing, total, _ in got["sql"])


@pytest.mark.parametrize("spec", COLUMN_CHECKS, ids=[s.check_id for s in COLUMN_CHECKS])
def test_engines_agree_on_a_batch_built_to_break_each_check(spec, mutable_warehouse):
    break_check(mutable_warehouse, spec)
    # the whole table's expectations at once: one scan, one suite, as in a run
    neighbours = [s for s in COLUMN_CHECKS if s.table == spec.table]
    got = _by_engine(mutable_warehouse, neighbours)
    assert got["sql"] == got["gx"]
    [broken] = [row for row in got["sql"] if row[0] == spec.check_id]
    assert broken[1] > 0 and broken[3]


def test_missing_values_count_as_gx_counts_them(mutable_warehouse):
    """NULL and NaN are missing: they fail `not_null` and are ignored by ranges and code lists;
    several failing rows come in rowid order."""
    con = mutable_warehouse
    con.execute("update staging.radiotherapy set total_dose_gy = 'nan'::double, "
                "technique = null where rowid = (select min(rowid) from staging.radiotherapy)")
    con.execute("update staging.radiotherapy set total_dose_gy = 500, technique = 'zzz' "
                "where rowid = (select max(rowid) from staging.radiotherapy)")
    specs = [s for s in COLUMN_CHECKS if s.table == "radiotherapy"
             and s.column in ("total_dose_gy", "technique")]
    assert {s.expectation for s in specs} >= {"not_null", "between", "in_set"}
    got = _by_engine(con, specs)
    assert got["sql"] == got["gx"]
    counts = {check_id: failing for check_id, failing, _, _ in got["sql"]}
    assert counts["radiotherapy__total_dose_gy__range"] == 1  # 500 Gy, not NaN
    assert counts["radiotherapy__technique__code_list"] == 1  # 'zzz', not NULL
    assert counts["radiotherapy__total_dose_gy__not_null"] == 1  # NaN

"""The SQL runner counts every check in one pass and reads failing keys only for the checks
that failed; the key-uniqueness query (an aggregate joined back) keeps the window's meaning,
empty keys included."""

from __future__ import annotations

import duckdb

from pipelines.quality.catalog import all_checks
from pipelines.quality.relations import default_relations
from pipelines.quality.sql_runner import run_sql_checks
from tests.quality.breakers import break_check
from tests.quality.tiny_warehouse import BATCH_ID

CHECKS = {s.check_id: s for s in all_checks()}


class StatementLog:
    """The real connection, with the text of every statement it runs kept."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con, self.texts = con, []

    def execute(self, text, params=None):
        self.texts.append(text)
        return self.con.execute(text, params)


def test_failing_keys_are_read_for_the_failing_checks_only(mutable_warehouse):
    broken = CHECKS["imaging__key_unique"]
    passing = [CHECKS["patients__key_unique"], CHECKS["metastases__key_unique"]]
    break_check(mutable_warehouse, broken)
    log = StatementLog(mutable_warehouse)
    outcomes = run_sql_checks(log, [passing[0], broken, passing[1]], default_relations(),
                              BATCH_ID, max_failing_rows=20)
    assert [o.passed for o in outcomes] == [True, False, True]
    assert outcomes[1].failing_count == 2 and len(outcomes[1].failing_keys) == 2
    counts, keys = log.texts  # one statement for the counts, one for the failing keys
    assert counts.count(" as not materialized (") == 3
    assert keys.count(" as not materialized (") == 1 and '"imaging"' in keys


def test_no_key_statement_when_every_check_passes(mutable_warehouse):
    log = StatementLog(mutable_warehouse)
    specs = [CHECKS["patients__key_unique"], CHECKS["imaging__key_unique"]]
    outcomes = run_sql_checks(log, specs, default_relations(), BATCH_ID, max_failing_rows=20)
    assert all(o.passed and o.failing_keys == [] for o in outcomes)
    assert len(log.texts) == 1


def _window_counts(con, table: str, key: str) -> tuple[int, int]:
    return con.execute(
        f"select count(*), count(*) filter (where n > 1) from (select count(*) over "
        f"(partition by {key}) as n from staging.{table})").fetchone()


def test_key_unique_counts_empty_keys_as_the_window_did(mutable_warehouse):
    con = mutable_warehouse
    spec = CHECKS["patients__key_unique"]
    con.execute("alter table staging.patients alter patient_id drop not null")
    con.execute("insert into staging.patients select * replace (null as patient_id) "
                "from staging.patients limit 1")
    [one_empty] = run_sql_checks(con, [spec], default_relations(), BATCH_ID, 20)
    assert (one_empty.total_count, one_empty.failing_count) == _window_counts(
        con, "patients", "patient_id") and one_empty.failing_count == 0
    con.execute("insert into staging.patients select * replace (null as patient_id) "
                "from staging.patients limit 1")
    [two_empty] = run_sql_checks(con, [spec], default_relations(), BATCH_ID, 20)
    assert (two_empty.total_count, two_empty.failing_count) == _window_counts(
        con, "patients", "patient_id") and two_empty.failing_count == 2

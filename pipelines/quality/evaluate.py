"""Evaluate a list of checks against a DuckDB connection: SQL checks several per statement,
GX expectations grouped by table (one frame, one validation per table)."""

from __future__ import annotations

from collections import defaultdict

import duckdb

from pipelines.quality.gx_runner import run_gx_checks
from pipelines.quality.outcome import CheckOutcome
from pipelines.quality.relations import Relations, default_relations
from pipelines.quality.specs import CheckSpec, Engine
from pipelines.quality.sql_runner import run_sql_checks
from pipelines.quality.thresholds import DEFAULT_THRESHOLDS


def evaluate_checks(con: duckdb.DuckDBPyConnection, specs: list[CheckSpec], *,
                    batch_id: str | None = None, relations: Relations | None = None,
                    max_failing_rows: int = DEFAULT_THRESHOLDS.max_failing_rows,
                    ) -> list[CheckOutcome]:
    """One outcome per spec, in the order given. `batch_id` selects the batch's rows of
    ops.quarantine (all rows when None)."""
    relations = relations or default_relations()
    outcomes: dict[str, CheckOutcome] = {}
    gx_by_table: dict[str, list[CheckSpec]] = defaultdict(list)
    for spec in specs:
        if spec.engine == Engine.GX:
            gx_by_table[spec.table].append(spec)
    sql_specs = [s for s in specs if s.engine != Engine.GX]
    for outcome in run_sql_checks(con, sql_specs, relations, batch_id, max_failing_rows):
        outcomes[outcome.spec.check_id] = outcome
    for table_specs in gx_by_table.values():
        for outcome in run_gx_checks(con, table_specs, relations, max_failing_rows):
            outcomes[outcome.spec.check_id] = outcome
    return [outcomes[s.check_id] for s in specs]

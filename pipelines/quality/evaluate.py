"""Evaluate a list of checks against a DuckDB connection: SQL checks several per statement,
column-level expectations grouped by table (one scan per table in DuckDB by default, or one
Great Expectations validation per table)."""

from __future__ import annotations

import os
from collections import defaultdict

import duckdb

from pipelines.quality.column_runner import run_column_checks
from pipelines.quality.outcome import CheckOutcome
from pipelines.quality.relations import Relations, default_relations
from pipelines.quality.specs import CheckSpec, Engine
from pipelines.quality.sql_runner import run_sql_checks
from pipelines.quality.thresholds import DEFAULT_THRESHOLDS

# Who evaluates the column-level expectations: "sql" (DuckDB, the default) or "gx" (Great
# Expectations on a pandas frame). Same counts and keys (docs/data-quality.md, "How a check
# runs"); GX costs seconds of import and pandas work per run.
COLUMN_ENGINE_ENV = "OLIGO_DQ_COLUMN_ENGINE"
COLUMN_ENGINES = ("sql", "gx")


def column_engine() -> str:
    engine = os.environ.get(COLUMN_ENGINE_ENV, "").strip().lower() or "sql"
    if engine not in COLUMN_ENGINES:
        raise ValueError(f"{COLUMN_ENGINE_ENV}={engine!r}: use one of {', '.join(COLUMN_ENGINES)}")
    return engine


def evaluate_checks(con: duckdb.DuckDBPyConnection, specs: list[CheckSpec], *,
                    batch_id: str | None = None, relations: Relations | None = None,
                    max_failing_rows: int = DEFAULT_THRESHOLDS.max_failing_rows,
                    engine: str | None = None, workers: int = 1) -> list[CheckOutcome]:
    """One outcome per spec, in the order given. `batch_id` selects the batch's rows of
    ops.quarantine (all rows when None); `engine` evaluates the column-level expectations
    ("sql" or "gx", default from OLIGO_DQ_COLUMN_ENGINE, else "sql"); `workers` > 1 runs
    that many SQL statements at once on cursors of `con` (committed data only: never inside
    an open transaction)."""
    relations = relations or default_relations()
    engine = engine or column_engine()
    if engine == "gx":
        from pipelines.quality.gx_runner import run_gx_checks as run_columns  # seconds to import
    elif engine == "sql":
        run_columns = run_column_checks
    else:
        raise ValueError(f"unknown column engine {engine!r}")
    outcomes: dict[str, CheckOutcome] = {}
    by_table: dict[str, list[CheckSpec]] = defaultdict(list)
    for spec in specs:
        if spec.engine == Engine.GX:
            by_table[spec.table].append(spec)
    sql_specs = [s for s in specs if s.engine != Engine.GX]
    for outcome in run_sql_checks(con, sql_specs, relations, batch_id, max_failing_rows,
                                  workers=workers):
        outcomes[outcome.spec.check_id] = outcome
    for table_specs in by_table.values():
        for outcome in run_columns(con, table_specs, relations, max_failing_rows):
            outcomes[outcome.spec.check_id] = outcome
    return [outcomes[s.check_id] for s in specs]

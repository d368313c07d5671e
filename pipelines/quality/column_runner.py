"""Column-level expectations (not null, in set, between, regex) evaluated in DuckDB: one
scan per table counts every expectation of that table, then the keys of the failing rows
(usually none) are read by a second query per failing expectation.

The semantics are Great Expectations' (pipelines/quality/gx_runner.py validates the same
specs with GX, and tests/quality/test_column_engines.py holds both engines to the same
counts and keys): a missing value (NULL, or NaN in a floating column, which pandas reads as
missing) fails `not_null` and is ignored by the other three; the total is every row of the
table; failing keys come in DuckDB rowid order, as GX reports the failing index.
"""

from __future__ import annotations

import time

import duckdb

from pipelines.quality.outcome import CheckOutcome
from pipelines.quality.relations import (
    Relations,
    one_table_columns,
    patient_expression,
    quote_ident,
    record_key_expression,
)
from pipelines.quality.specs import CheckSpec

_FLOATING = {"DOUBLE", "FLOAT", "REAL"}


def _missing(column: str, duckdb_type: str) -> str:
    if duckdb_type in _FLOATING:
        return f"({column} is null or isnan({column}))"
    return f"({column} is null)"


def failing_condition(spec: CheckSpec, duckdb_type: str, n: int) -> tuple[str, dict]:
    """SQL condition true on a failing row of one expectation, and its bound values
    (named `<name>_<n>` so that several expectations share one statement)."""
    column = quote_ident(spec.column)
    missing = _missing(column, duckdb_type)
    if spec.expectation == "not_null":
        return missing, {}
    if spec.expectation == "in_set":
        return (f"(not {missing} and not list_contains($value_set_{n}, {column}))",
                {f"value_set_{n}": list(spec.params["value_set"])})
    if spec.expectation == "regex":
        return (f"(not {missing} and not regexp_matches({column}, $regex_{n}))",
                {f"regex_{n}": spec.params["regex"]})
    if spec.expectation == "between":
        bounds, values = [], {}
        if spec.params.get("min_value") is not None:
            bounds.append(f"{column} < $min_value_{n}")
            values[f"min_value_{n}"] = spec.params["min_value"]
        if spec.params.get("max_value") is not None:
            bounds.append(f"{column} > $max_value_{n}")
            values[f"max_value_{n}"] = spec.params["max_value"]
        if not bounds:
            raise ValueError(f"{spec.check_id}: a range needs min_value or max_value")
        return f"(not {missing} and ({' or '.join(bounds)}))", values
    raise ValueError(f"{spec.check_id}: unknown expectation {spec.expectation!r}")


def run_column_checks(con: duckdb.DuckDBPyConnection, specs: list[CheckSpec],
                      relations: Relations, max_failing_rows: int) -> list[CheckOutcome]:
    """The expectations of one table in one scan; one outcome per spec, in order."""
    if not specs:
        return []
    started = time.perf_counter()
    table, relation, columns = one_table_columns(specs, relations)
    probe = con.sql(f"select {', '.join(quote_ident(c) for c in columns)} from {relation}")
    types = {c: str(t) for c, t in zip(columns, probe.types, strict=True)}
    rendered = [failing_condition(spec, types[spec.column], n) for n, spec in enumerate(specs)]
    conditions = [condition for condition, _ in rendered]
    params = {name: value for _, values in rendered for name, value in values.items()}
    counts = con.execute(
        "select count(*), " + ", ".join(f"count(*) filter (where {c})" for c in conditions)
        + f" from {relation}", params).fetchone()
    total, failing = int(counts[0]), [int(c) for c in counts[1:]]
    keys = {n: _failing_keys(con, table, relation, *rendered[n], max_failing_rows)
            for n in range(len(specs)) if failing[n]}
    seconds = (time.perf_counter() - started) / len(specs)
    return [CheckOutcome(spec, failing[n], total, keys.get(n, []), seconds)
            for n, spec in enumerate(specs)]


def _failing_keys(con: duckdb.DuckDBPyConnection, table: str, relation: str, condition: str,
                  values: dict, limit: int) -> list[tuple[str | None, str | None]]:
    return [tuple(row) for row in con.execute(
        f"select {record_key_expression(table)}, {patient_expression(table)} from {relation} "
        f"where {condition} order by rowid limit $limit", {**values, "limit": limit}).fetchall()]

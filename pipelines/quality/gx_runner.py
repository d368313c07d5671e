"""Column-level expectations validated with Great Expectations 1.x on a pandas frame.

GX 1.x has no working DuckDB SQL datasource (shared stack-notes.md), so the frame holds only
the columns the expectations read plus the row key; GX is imported on first use (it costs
seconds) and runs in an ephemeral context with progress bars off.
"""

from __future__ import annotations

import time
from functools import cache

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

_EXPECTATIONS = {
    "not_null": ("ExpectColumnValuesToNotBeNull", ()),
    "in_set": ("ExpectColumnValuesToBeInSet", ("value_set",)),
    "between": ("ExpectColumnValuesToBeBetween", ("min_value", "max_value")),
    "regex": ("ExpectColumnValuesToMatchRegex", ("regex",)),
}


@cache
def _gx():
    from pipelines.settings import disable_telemetry

    disable_telemetry()
    import great_expectations as gx
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every frame under HASH_THRESHOLD bytes with pandas hashing (a batch
    # marker we never read); on a million rows that costs more than the expectations.
    if hasattr(pandas_execution_engine, "HASH_THRESHOLD"):
        pandas_execution_engine.HASH_THRESHOLD = 0
    return gx


@cache
def _whole_frame_batch_definition():
    """One ephemeral context and pandas asset per process: creating them saves the project
    configuration (YAML) each time, which costs more than validating a small frame."""
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return (context.data_sources.add_pandas("dq").add_dataframe_asset("frame")
            .add_batch_definition_whole_dataframe("whole"))


def _expectation(spec: CheckSpec):
    class_name, arg_names = _EXPECTATIONS[spec.expectation]
    kwargs = {name: spec.params.get(name) for name in arg_names}
    return getattr(_gx().expectations, class_name)(
        column=spec.column, meta={"check_id": spec.check_id}, **kwargs
    )


def run_gx_checks(con: duckdb.DuckDBPyConnection, specs: list[CheckSpec], relations: Relations,
                  max_failing_rows: int) -> list[CheckOutcome]:
    """Validate the expectations of one table in one GX run; one outcome per spec.

    The frame holds only the checked columns, indexed by DuckDB's `rowid`; the keys of the
    failing rows (usually none) are then looked up in DuckDB by rowid."""
    if not specs:
        return []
    started = time.perf_counter()
    table, relation, columns = one_table_columns(specs, relations)
    frame = con.sql(
        f"select rowid as _rowid, {', '.join(quote_ident(c) for c in columns)} from {relation}"
    ).df().set_index("_rowid")

    batch = _whole_frame_batch_definition().get_batch(batch_parameters={"dataframe": frame})
    # Counts only (BASIC): the row indices of COMPLETE cost GX more metrics per expectation;
    # they are asked again, of the failing expectations alone, in the rare failing case.
    results = _validate(batch, table, specs, {"result_format": "BASIC",
                                              "partial_unexpected_count": 0})
    failing_specs = [s for s in specs if results[s.check_id].result.get("unexpected_count")]
    if failing_specs:
        results.update(_validate(batch, table, failing_specs, {
            "result_format": "COMPLETE", "partial_unexpected_count": 0,
            "return_unexpected_index_query": False}))
    seconds = (time.perf_counter() - started) / len(specs)
    outcomes = []
    for spec in specs:
        r = results[spec.check_id]
        failing = int(r.result.get("unexpected_count") or 0)
        total = int(r.result.get("element_count") or len(frame))
        rowids = sorted(_rowid(i) for i in (r.result.get("unexpected_index_list") or []))
        keys = _keys_of_rows(con, table, relation, rowids[:max_failing_rows]) if rowids else []
        outcomes.append(CheckOutcome(spec, failing, total, keys, seconds))
    return outcomes


def _validate(batch, table: str, specs: list[CheckSpec], result_format: dict) -> dict:
    """Validate `specs` as one unsaved suite (saving costs more than validating); results by
    check id. An expectation GX could not evaluate is an error, not a pass."""
    suite = _gx().ExpectationSuite(name=f"dq_{table}",
                                   expectations=[_expectation(s) for s in specs])
    result = batch.validate(suite, result_format=result_format)
    by_id = {r.expectation_config.meta["check_id"]: r for r in result.results}
    for check_id, r in by_id.items():
        if r.exception_info and r.exception_info.get("raised_exception"):
            raise RuntimeError(f"{check_id}: {r.exception_info.get('exception_message')}")
    return by_id


def _rowid(index_entry) -> int:
    """GX reports a failing row as its index value, or as a {index name: value} dict."""
    if isinstance(index_entry, dict):
        index_entry = index_entry.get("_rowid", next(iter(index_entry.values())))
    return int(index_entry)


def _keys_of_rows(con: duckdb.DuckDBPyConnection, table: str, relation: str,
                  rowids: list[int]) -> list[tuple[str | None, str | None]]:
    return [tuple(row) for row in con.execute(
        f"select {record_key_expression(table)}, {patient_expression(table)} from {relation} "
        "where list_contains($rowids, rowid) order by rowid",
        {"rowids": rowids},
    ).fetchall()]

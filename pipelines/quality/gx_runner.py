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
    has_patient_column,
    key_columns,
    qualified,
    quote_ident,
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
    """Validate the expectations of one table in one GX run; one outcome per spec."""
    if not specs:
        return []
    table = specs[0].table
    assert all(s.table == table for s in specs), "one table per GX run"
    started = time.perf_counter()
    index_columns = [*key_columns(table)]
    if has_patient_column(table) and "patient_id" not in index_columns:
        index_columns.append("patient_id")
    columns = list(dict.fromkeys([*index_columns, *(s.column for s in specs)]))
    frame = con.sql(
        f"select {', '.join(quote_ident(c) for c in columns)} from {qualified(relations[table])}"
    ).df()

    gx = _gx()
    batch = _whole_frame_batch_definition().get_batch(batch_parameters={"dataframe": frame})
    # An unsaved suite: saving each expectation to the store costs more than validating.
    suite = gx.ExpectationSuite(name=f"dq_{table}", expectations=[_expectation(s) for s in specs])
    result = batch.validate(
        suite,
        result_format={"result_format": "COMPLETE",
                       "unexpected_index_column_names": index_columns,
                       "return_unexpected_index_query": False},
    )
    by_id = {r.expectation_config.meta["check_id"]: r for r in result.results}
    seconds = (time.perf_counter() - started) / len(specs)
    key_names = key_columns(table)
    outcomes = []
    for spec in specs:
        r = by_id[spec.check_id]
        if r.exception_info and r.exception_info.get("raised_exception"):
            raise RuntimeError(f"{spec.check_id}: {r.exception_info.get('exception_message')}")
        failing = int(r.result.get("unexpected_count") or 0)
        total = int(r.result.get("element_count") or len(frame))
        keys = [
            ("|".join(str(row.get(k)) for k in key_names), row.get("patient_id"))
            for row in (r.result.get("unexpected_index_list") or [])[:max_failing_rows]
        ]
        outcomes.append(CheckOutcome(spec, failing, total, keys, seconds))
    return outcomes

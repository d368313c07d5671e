"""Runs SQL checks in DuckDB: identifiers from the contract are quoted and substituted,
values are bound parameters."""

from __future__ import annotations

import re
import time
from functools import cache
from pathlib import Path

import duckdb

from pipelines.quality.outcome import CheckOutcome
from pipelines.quality.relations import (
    Relations,
    patient_expression,
    qualified,
    quote_ident,
    record_key_expression,
)
from pipelines.quality.specs import CheckSpec

SQL_DIR = Path(__file__).resolve().parents[2] / "sql" / "checks"
_TOKEN = re.compile(r"\{\{(\w+)\}\}")
_PARAM = re.compile(r"\$(\w+)")


@cache
def read_sql(relative: str) -> str:
    return (SQL_DIR / relative).read_text().strip().rstrip(";")


def _substitute(text: str, identifiers: dict[str, str]) -> str:
    def replace(match: re.Match) -> str:
        if match.group(1) not in identifiers:
            raise KeyError(f"no identifier for {{{{{match.group(1)}}}}}")
        return identifiers[match.group(1)]

    return _TOKEN.sub(replace, text)


def render(spec: CheckSpec, relations: Relations, batch_id: str | None,
           max_failing_rows: int) -> tuple[str, dict[str, object]]:
    """The wrapped statement of a SQL check and the parameters it uses."""
    # every logical table is addressable by its name; the spec adds its own tokens ({{t}}...)
    identifiers = {name: qualified(relation) for name, relation in relations.items()}
    identifiers.update({token: qualified(relations[table])
                        for token, table in spec.relations.items()})
    identifiers.update({token: quote_ident(col) for token, col in spec.columns.items()})
    identifiers["record_key"] = record_key_expression(spec.table)
    identifiers["patient_id"] = patient_expression(spec.table)
    body = _substitute(read_sql(spec.sql_file), identifiers)
    text = _substitute(read_sql("count_failing.sql"), {"body": body})
    schema, table = relations[spec.table]
    available = {**spec.params, "batch_id": batch_id, "main_schema": schema,
                 "main_table": table, "max_failing_rows": max_failing_rows}
    used = set(_PARAM.findall(text))
    missing = used - set(available)
    if missing:
        raise KeyError(f"{spec.check_id}: no value for parameters {sorted(missing)}")
    return text, {name: available[name] for name in used}


def run_sql_check(con: duckdb.DuckDBPyConnection, spec: CheckSpec, relations: Relations,
                  batch_id: str | None, max_failing_rows: int) -> CheckOutcome:
    started = time.perf_counter()
    text, params = render(spec, relations, batch_id, max_failing_rows)
    rows = con.execute(text, params).fetchall()
    total, failing = rows[0][0], rows[0][1]
    keys = [(r[2], r[3]) for r in rows if r[2] is not None or r[3] is not None]
    return CheckOutcome(spec, int(failing), int(total), keys, time.perf_counter() - started)

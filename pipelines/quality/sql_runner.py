"""Runs SQL checks in DuckDB: identifiers from the contract are quoted and substituted,
values are bound parameters."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from functools import cache, partial
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
from pipelines.side_by_side import run_side_by_side

SQL_DIR = Path(__file__).resolve().parents[2] / "sql" / "checks"
_TOKEN = re.compile(r"\{\{(\w+)\}\}")
_PARAM = re.compile(r"\$(\w+)")
CHECKS_PER_STATEMENT = 8


@cache
def read_sql(relative: str) -> str:
    return (SQL_DIR / relative).read_text().strip().rstrip(";")


def _substitute(text: str, identifiers: dict[str, str]) -> str:
    def replace(match: re.Match) -> str:
        if match.group(1) not in identifiers:
            raise KeyError(f"no identifier for {{{{{match.group(1)}}}}}")
        return identifiers[match.group(1)]

    return _TOKEN.sub(replace, text)


def render_body(spec: CheckSpec, relations: Relations, batch_id: str | None
                ) -> tuple[str, dict[str, object]]:
    """The check query of a SQL check (one row per checked record) and the parameters it uses."""
    # every logical table is addressable by its name; the spec adds its own tokens ({{t}}...)
    identifiers = {name: qualified(relation) for name, relation in relations.items()}
    identifiers.update({token: qualified(relations[table])
                        for token, table in spec.relations.items()})
    identifiers.update({token: quote_ident(col) for token, col in spec.columns.items()})
    identifiers["record_key"] = record_key_expression(spec.table)
    identifiers["patient_id"] = patient_expression(spec.table)
    body = _substitute(read_sql(spec.sql_file), identifiers)
    schema, table = relations[spec.table]
    available = {**spec.params, "batch_id": batch_id, "main_schema": schema,
                 "main_table": table}
    used = set(_PARAM.findall(body))
    missing = used - set(available)
    if missing:
        raise KeyError(f"{spec.check_id}: no value for parameters {sorted(missing)}")
    return body, {name: available[name] for name in used}


def render_many(specs: Sequence[CheckSpec], relations: Relations, batch_id: str | None,
                block_file: str, extra: dict[str, object] | None = None
                ) -> tuple[str, dict[str, object]]:
    """One statement evaluating several checks: each check query is a CTE, its parameters
    renamed apart (`$name` -> `$name__<n>`), and `block_file` (count_checked.sql: counts;
    failing_keys.sql: first failing keys) reads it under its check id, the blocks joined
    with UNION ALL. The CTEs are not materialized: a materialized one builds every row's
    record key (strings, millions of rows at national scale); inlined, the count needs no
    key and the keys are built for failing rows only."""
    ctes, blocks = [], []
    params: dict[str, object] = dict(extra or {})
    for n, spec in enumerate(specs):
        body, body_params = render_body(spec, relations, batch_id)
        renamed = _PARAM.sub(lambda m, n=n: f"${m.group(1)}__{n}", body)
        ctes.append(f"checked_{n} as not materialized (\n{renamed}\n)")
        params.update({f"{name}__{n}": value for name, value in body_params.items()})
        block = _substitute(read_sql(block_file), {"checked": f"checked_{n}"})
        blocks.append(f"({block.replace('$check_id', f'$check_id__{n}')})")
        params[f"check_id__{n}"] = spec.check_id
    return "with " + ",\n".join(ctes) + "\n" + "\nunion all\n".join(blocks), params


def run_sql_checks(con: duckdb.DuckDBPyConnection, specs: Sequence[CheckSpec],
                   relations: Relations, batch_id: str | None, max_failing_rows: int,
                   checks_per_statement: int = CHECKS_PER_STATEMENT,
                   workers: int = 1) -> list[CheckOutcome]:
    """Outcomes of SQL checks in the order given, several checks per statement: at a few
    hundred patients a check costs its statement's planning, not its data (measured: 192
    staging checks 1.7 s one by one, 1.0 s eight per statement; one statement for all of
    them is slower, 7.5 s, its planning grows faster than the checks).

    `workers` > 1 runs that many statements at once, each on its own cursor of `con`'s
    database: most check statements are too small for DuckDB to spread over the cores. A
    cursor sees committed data only, so only a caller without an open transaction may ask."""
    chunks = [list(specs[start:start + checks_per_statement])
              for start in range(0, len(specs), checks_per_statement)]
    if workers <= 1 or len(chunks) <= 1:
        done = [_run_chunk(con, chunk, relations, batch_id, max_failing_rows)
                for chunk in chunks]
    else:
        jobs = [(str(n), partial(_run_chunk, chunk=chunk, relations=relations,
                                 batch_id=batch_id, max_failing_rows=max_failing_rows))
                for n, chunk in enumerate(chunks)]
        ran = run_side_by_side(con, jobs, cursors=workers, what="check statement ")
        done = [ran[str(n)] for n in range(len(chunks))]
    return [outcome for chunk_outcomes in done for outcome in chunk_outcomes]


def _run_chunk(con: duckdb.DuckDBPyConnection, chunk: list[CheckSpec], relations: Relations,
               batch_id: str | None, max_failing_rows: int) -> list[CheckOutcome]:
    """Counts first, then the keys of the failing checks only: a check query is evaluated
    once when it passes (most do) instead of once for its counts and once for its keys."""
    started = time.perf_counter()
    try:
        text, params = render_many(chunk, relations, batch_id, "count_checked.sql")
        counts = {r[0]: (r[1], r[2]) for r in con.execute(text, params).fetchall()}
        failing = [s for s in chunk if counts[s.check_id][1]]
        keys: dict[str, list[tuple[str | None, str | None]]] = {s.check_id: [] for s in chunk}
        if failing:
            text, params = render_many(failing, relations, batch_id, "failing_keys.sql",
                                       {"max_failing_rows": max_failing_rows})
            for check_id, record_key, patient_id in con.execute(text, params).fetchall():
                if record_key is not None or patient_id is not None:
                    keys[check_id].append((record_key, patient_id))
    except duckdb.Error:
        if len(chunk) == 1:
            raise
        # name the broken check: run the statement's checks one at a time
        return [outcome for spec in chunk
                for outcome in _run_chunk(con, [spec], relations, batch_id, max_failing_rows)]
    seconds = (time.perf_counter() - started) / len(chunk)
    outcomes = []
    for spec in chunk:
        total, failing_count = counts[spec.check_id]
        ordered = sorted(keys[spec.check_id], key=_key_order)
        outcomes.append(CheckOutcome(spec, int(failing_count), int(total), ordered, seconds))
    return outcomes


def run_sql_check(con: duckdb.DuckDBPyConnection, spec: CheckSpec, relations: Relations,
                  batch_id: str | None, max_failing_rows: int) -> CheckOutcome:
    return run_sql_checks(con, [spec], relations, batch_id, max_failing_rows)[0]


def _key_order(key: tuple[str | None, str | None]) -> tuple:
    """SQL's `order by record_key, patient_id` (nulls last)."""
    record, patient = key
    return (record is None, record or "", patient is None, patient or "")

"""Where each table a check reads lives, and how its rows are keyed.

Logical names: the contract tables (in schema `staging`), `quarantine` (`ops.quarantine`)
and the marts of docs/marts-interface.md (schema `marts`). The mapping is an argument of the
runner, so the same checks can run on another copy (e.g. a batch snapshot).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from pipelines.contract.tables import TABLES, TABLES_BY_NAME
from pipelines.marts_catalog import mart_keys
from pipelines.sql_quoting import quote_ident

if TYPE_CHECKING:
    from pipelines.quality.specs import CheckSpec

# Keys of the marts: from the one mart registry (pipelines/marts_catalog.py).
MART_KEYS: dict[str, tuple[str, ...]] = mart_keys()
MARTS_WITHOUT_PATIENT = frozenset({"cohort_attrition"})

QUARANTINE = "quarantine"

Relations = Mapping[str, tuple[str, str]]  # logical table -> (schema, table)


def default_relations(staging_schema: str = "staging", marts_schema: str = "marts") -> dict:
    relations: dict[str, tuple[str, str]] = {t.name: (staging_schema, t.name) for t in TABLES}
    relations[QUARANTINE] = ("ops", "quarantine")
    relations.update({m: (marts_schema, m) for m in MART_KEYS})
    return relations


def asset_key(table: str) -> tuple[str, ...]:
    """The Dagster asset key of a logical table (the lead's asset keys)."""
    if table in TABLES_BY_NAME:
        return ("staging", table)
    if table == QUARANTINE:
        return ("ops", "quarantine")
    if table in MART_KEYS:
        return ("marts", table)
    raise KeyError(table)


def key_columns(table: str) -> tuple[str, ...]:
    if table in TABLES_BY_NAME:
        return TABLES_BY_NAME[table].key
    return MART_KEYS[table]


def has_patient_column(table: str) -> bool:
    return table in TABLES_BY_NAME or (table in MART_KEYS and table not in MARTS_WITHOUT_PATIENT)


def qualified(relation: tuple[str, ...]) -> str:
    return ".".join(quote_ident(part) for part in relation)


def one_table_columns(specs: Sequence[CheckSpec], relations: Relations,
                      ) -> tuple[str, str, list[str]]:
    """Column checks of one table (both engines run them a table at a time): the table, its
    qualified relation, and the checked columns, each once, in order."""
    table = specs[0].table
    assert all(s.table == table for s in specs), "one table at a time"
    return (table, qualified(relations[table]),
            list(dict.fromkeys(s.column for s in specs)))


def record_key_expression(table: str) -> str:
    """SQL expression of a row's key as text (`a|b|c` for composite keys), identifiers quoted."""
    parts = [f"cast({quote_ident(c)} as varchar)" for c in key_columns(table)]
    return parts[0] if len(parts) == 1 else "concat_ws('|', " + ", ".join(parts) + ")"


def patient_expression(table: str) -> str:
    return quote_ident("patient_id") if has_patient_column(table) else "null::varchar"

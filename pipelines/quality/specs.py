"""What a data-quality check is: one declared row of the catalogue.

The Kahn categories follow Kahn MG et al., A harmonized data quality assessment terminology
and framework, eGEMs 2016;4(1):1244 (conformance, completeness, plausibility; subcategories
value/relational/computational, atemporal/temporal). A check fails when the share of failing
rows is above its threshold (allowed % of failing rows), as in OHDSI's Data Quality Dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    BLOCK = "block"  # a failure stops everything downstream (marts, publishing)
    WARN = "warn"  # a failure is reported, rows load, patients are flagged


class Engine(StrEnum):
    GX = "gx"  # column-level expectation validated by Great Expectations on a pandas frame
    SQL = "sql"  # row-level or cross-record rule: a SQL file run in DuckDB


@dataclass(frozen=True)
class CheckSpec:
    """One check on one asset.

    For `Engine.SQL`, `sql_file` (relative to `sql/checks/`) returns one row per checked
    record with `record_key`, `patient_id` and `is_failing`; `{{name}}` tokens in it are
    replaced by quoted identifiers (`relations`: token -> logical table, `columns`: token ->
    column name, `record_key`: the key expression of the main table), and `$name` values are
    bound from `params`.
    For `Engine.GX`, `expectation` is one of `not_null`, `in_set`, `between`, `regex` applied
    to `column` of the asset's table with `params` (value_set, min_value, max_value, regex).
    """

    check_id: str
    asset: tuple[str, ...]
    severity: Severity
    threshold_pct: float
    kahn_category: str
    kahn_subcategory: str
    description: str
    engine: Engine
    kind: str  # what is checked (not_null, key_unique, quarantine_rule, a clinical rule id...)
    table: str  # logical name of the asset's table (e.g. patients, omd_episodes, quarantine)
    column: str | None = None
    expectation: str | None = None
    sql_file: str | None = None
    relations: dict[str, str] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)
    params: dict[str, object] = field(default_factory=dict)
    deps: tuple[tuple[str, ...], ...] = ()  # other assets the check reads
    rule_id: str | None = None  # the contract rule it counts or restates, if any

    @property
    def asset_path(self) -> str:
        return "/".join(self.asset)

    def passes(self, failing_count: int, total_count: int) -> bool:
        return failing_pct(failing_count, total_count) <= self.threshold_pct


def failing_pct(failing_count: int, total_count: int) -> float:
    """Share of failing rows in percent; an empty table fails nothing."""
    return 100.0 * failing_count / total_count if total_count else 0.0

"""The registry export contract (version 1) as data: tables, rules, dialects."""

from pipelines.contract.dialects import DIALECTS, Dialect, dialect
from pipelines.contract.rules import QUARANTINE_RATE_THRESHOLD, RULES, Disposition, Kahn, Rule, rule
from pipelines.contract.tables import (
    CONTRACT_VERSION,
    CROSS_RECORD_RULES,
    KNOWN_CONTRACT_VERSIONS,
    TABLES,
    TABLES_BY_NAME,
    Column,
    Reference,
    Table,
    children_of,
    table,
)

__all__ = [
    "CONTRACT_VERSION", "CROSS_RECORD_RULES", "DIALECTS", "KNOWN_CONTRACT_VERSIONS",
    "QUARANTINE_RATE_THRESHOLD", "RULES", "TABLES", "TABLES_BY_NAME", "Column", "Dialect",
    "Disposition", "Kahn", "Reference", "Rule", "Table", "children_of", "dialect", "rule",
    "table",
]

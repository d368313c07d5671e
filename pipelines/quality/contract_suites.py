"""Checks generated from the registry contract (pipelines/contract): nothing is restated.

On `staging.<table>` (block: staging invariants must hold after quarantine):
schema and types, required values, code lists, code patterns, ranges (GX, column level),
key uniqueness, references intact and to the same patient, conditionally required values and
end-before-start (SQL).
On the same asset, from `ops.quarantine` (one rule, one disposition, docs/data-dictionary.md): one warning per contract rule that quarantined rows of the table, and the
table's quarantine rate, which blocks above its threshold.
"""

from __future__ import annotations

from pipelines.contract.rules import RULES, Disposition
from pipelines.contract.staging import DUCKDB_TYPES, EXTRA_COLUMNS
from pipelines.contract.tables import TABLES, Table
from pipelines.quality.relations import QUARANTINE, asset_key
from pipelines.quality.specs import CheckSpec, Engine, Severity
from pipelines.quality.thresholds import DEFAULT_THRESHOLDS, QualityThresholds

_POLARS_TO_DUCKDB = {"String": "VARCHAR", "Boolean": "BOOLEAN", "Int64": "BIGINT",
                     "Float64": "DOUBLE", "Date": "DATE"}


def _spec(t: Table, check_id: str, severity: Severity, rule_id: str, description: str,
          engine: Engine, kind: str, threshold_pct: float = 0.0, **kw) -> CheckSpec:
    r = RULES[rule_id]
    return CheckSpec(
        check_id=f"{t.name}__{check_id}", asset=asset_key(t.name), severity=severity,
        threshold_pct=threshold_pct, kahn_category=str(r.kahn_category),
        kahn_subcategory=r.kahn_subcategory, description=description, engine=engine,
        kind=kind, table=t.name, rule_id=rule_id, **kw,
    )


def expected_staging_types(t: Table) -> dict[str, str]:
    """Column -> DuckDB type of `staging.<table>` (contract columns plus staging extras)."""
    types = {c.name: DUCKDB_TYPES[c.type] for c in t.columns}
    for name, (dtype, _) in EXTRA_COLUMNS.get(t.name, {}).items():
        types[name] = _POLARS_TO_DUCKDB[type(dtype).__name__]
    return types


def column_checks(t: Table) -> list[CheckSpec]:
    """GX column-level expectations from each column's declaration."""
    specs: list[CheckSpec] = []
    for c in t.columns:
        gx = {"engine": Engine.GX, "column": c.name}
        if c.required or c.default is not None:
            why = "required by the contract" if c.required else f"defaulted to {c.default} on load"
            specs.append(_spec(t, f"{c.name}__not_null", Severity.BLOCK, "required",
                               f"{t.name}.{c.name} is never empty ({why})", kind="not_null",
                               expectation="not_null", **gx))
        if c.codes:
            specs.append(_spec(t, f"{c.name}__code_list", Severity.BLOCK, "code_list",
                               f"{t.name}.{c.name} is one of {', '.join(c.codes)}",
                               kind="in_set", expectation="in_set",
                               params={"value_set": list(c.codes)}, **gx))
        if c.pattern:
            specs.append(_spec(t, f"{c.name}__code_pattern", Severity.BLOCK, "code_pattern",
                               f"{t.name}.{c.name} has the format {c.pattern_hint}",
                               kind="regex", expectation="regex",
                               params={"regex": c.pattern}, **gx))
        if c.min_value is not None or c.max_value is not None:
            specs.append(_spec(t, f"{c.name}__range", Severity.BLOCK, "range",
                               f"{t.name}.{c.name} is within [{c.min_value}, {c.max_value}]",
                               kind="between", expectation="between",
                               params={"min_value": c.min_value, "max_value": c.max_value},
                               **gx))
    return specs


def relational_checks(t: Table) -> list[CheckSpec]:
    """SQL staging invariants: schema, keys, references, conditional requirements, dates."""
    sql = {"engine": Engine.SQL, "relations": {"t": t.name}}
    types = expected_staging_types(t)
    specs = [
        _spec(t, "schema", Severity.BLOCK, "missing_required_column",
              f"staging.{t.name} has every contract column with its staging type",
              kind="schema", sql_file="contract/schema_types.sql",
              params={"expected_columns": list(types), "expected_types": list(types.values())},
              **sql),
        _spec(t, "key_unique", Severity.BLOCK, "duplicate_key",
              f"the key ({', '.join(t.key)}) identifies one row of staging.{t.name}",
              kind="key_unique", sql_file="contract/key_unique.sql", **sql),
    ]
    for c in t.columns:
        if c.references is not None:
            ref = c.references
            rel = {"engine": Engine.SQL, "relations": {"t": t.name, "parent": ref.table},
                   "columns": {"column": c.name, "ref_column": ref.key_column},
                   "column": c.name, "deps": (asset_key(ref.table),)}
            specs.append(_spec(t, f"{c.name}__reference", Severity.BLOCK, "orphan_reference",
                               f"{t.name}.{c.name} refers to an existing {ref.table}."
                               f"{ref.key_column} after quarantine", kind="reference",
                               sql_file="contract/reference_intact.sql",
                               params={"literals": list(ref.literals)}, **rel))
            if ref.same_patient:
                specs.append(_spec(t, f"{c.name}__same_patient", Severity.BLOCK,
                                   "reference_other_patient",
                                   f"{t.name}.{c.name} refers to a {ref.table} row of the same "
                                   "patient", kind="same_patient",
                                   sql_file="contract/reference_same_patient.sql", **rel))
        if c.required_if is not None:
            other, value = c.required_if
            specs.append(_spec(t, f"{c.name}__required_if", Severity.BLOCK, "required_if",
                               f"{t.name}.{c.name} is present when {other} is {value}",
                               kind="required_if", sql_file="contract/required_if.sql",
                               engine=Engine.SQL, relations={"t": t.name}, column=c.name,
                               columns={"column": c.name, "condition_column": other},
                               params={"condition_value": value}))
    if t.end_before_start is not None:
        start, end = t.end_before_start
        specs.append(_spec(t, f"{end}__end_before_start", Severity.BLOCK, "end_before_start",
                           f"{t.name}.{end} is not before {start}", kind="end_before_start",
                           sql_file="contract/end_before_start.sql", engine=Engine.SQL,
                           relations={"t": t.name}, column=end,
                           columns={"start_column": start, "end_column": end}))
    return specs


def quarantine_rules(t: Table) -> list[str]:
    """The row rules of the contract that can quarantine rows of this table."""
    types = {c.type for c in t.columns}
    refs = [c.references for c in t.columns if c.references is not None]
    applies = {
        "required": any(c.required for c in t.columns),
        "required_if": any(c.required_if for c in t.columns),
        "type_int": "int" in types,
        "type_decimal": "decimal" in types,
        "type_date": "date" in types,
        "partial_date_not_allowed": any(c.type == "date" and not c.partial_date_ok
                                        for c in t.columns),
        "type_bool": "bool" in types,
        "code_list": any(c.codes for c in t.columns),
        "code_pattern": any(c.pattern for c in t.columns),
        "range": any(c.min_value is not None or c.max_value is not None for c in t.columns),
        "dose_in_cgy": any(c.max_value_rule == "dose_in_cgy" for c in t.columns),
        "end_before_start": t.end_before_start is not None,
        "duplicate_key": True,
        "orphan_reference": bool(refs),
        "reference_other_patient": any(r.same_patient for r in refs),
        "parent_quarantined": bool(refs),
    }
    return [rule_id for rule_id, ok in applies.items()
            if ok and RULES[rule_id].disposition == Disposition.ROW_QUARANTINE]


def quarantine_checks(t: Table, thresholds: QualityThresholds) -> list[CheckSpec]:
    """Counts of what the loader quarantined (it applies the rules; we never re-apply them)."""
    common = {"engine": Engine.SQL, "relations": {"t": t.name, "quarantine": QUARANTINE},
              "deps": (asset_key(QUARANTINE),)}
    specs = [
        _spec(t, f"quarantine__{rule_id}", Severity.WARN, rule_id,
              f"rows of {t.name} quarantined by rule {rule_id}: {RULES[rule_id].reason}",
              kind="quarantine_rule", sql_file="contract/quarantine_rule.sql",
              params={"rule_id": rule_id, "table_name": t.name}, **common)
        for rule_id in quarantine_rules(t)
    ]
    specs.append(_spec(t, "quarantine_rate", Severity.BLOCK, "quarantine_rate",
                       f"share of delivered {t.name} rows quarantined is at most "
                       f"{thresholds.quarantine_rate_pct} %", kind="quarantine_rate",
                       threshold_pct=thresholds.quarantine_rate_pct,
                       sql_file="contract/quarantine_rate.sql",
                       params={"table_name": t.name}, **common))
    return specs


def contract_checks(thresholds: QualityThresholds = DEFAULT_THRESHOLDS) -> list[CheckSpec]:
    return [
        spec
        for t in TABLES
        for spec in (*column_checks(t), *relational_checks(t), *quarantine_checks(t, thresholds))
    ]

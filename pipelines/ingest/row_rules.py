"""Row rules of the contract as SQL over `raw.<table>` (docs/data-dictionary.md).

One implementation, generated from the contract's declarations: every column's type, code
list, pattern, range and reference becomes a condition; a row that meets a condition gets one
`ingest.quarantine` row per (row, column, rule). Identifiers from the contract are quoted and
interpolated; every value (codes, patterns, bounds, formats) is a bound parameter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from pipelines.contract.tables import TABLES, Column, Table
from pipelines.sql_quoting import quote_ident

# Dates before this are implausible in a lung cancer registry (the contract's birth years
# start at 1900): the row is quarantined with the rule `range`.
EARLIEST_PLAUSIBLE_DATE = dt.date(1900, 1, 1)


@dataclass
class Statement:
    """SQL text with its named parameters, built piece by piece."""

    params: dict[str, object] = field(default_factory=dict)

    def bind(self, value: object) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"${name}"


def raw_table(name: str) -> str:
    return f"raw.{quote_ident(name)}"


def col(alias: str, name: str) -> str:
    return f"{alias}.{quote_ident(name)}"


def key_part_sql(table: Table, name: str, alias: str, st: Statement) -> str:
    """A key column as compared: trimmed, with the contract default when empty (phase 1)."""
    column = table.column(name)
    value = f"oligo_text({col(alias, name)})"
    if column.default is not None:
        value = f"coalesce({value}, {st.bind(column.default)})"
    return value


def record_key_sql(table: Table, alias: str) -> str:
    """The row's key as it is in raw, composite keys joined with '|' in key order."""
    parts = [f"coalesce(oligo_text({col(alias, k)}), '')" for k in table.key]
    return parts[0] if len(parts) == 1 else "concat_ws('|', " + ", ".join(parts) + ")"


def _present(v: str) -> str:
    return f"oligo_text({v}) IS NOT NULL"


def value_conditions(table: Table, column: Column, st: Statement) -> list[tuple[str, str]]:
    """(rule_id, condition) pairs checking one column of a row on its own."""
    v = col("r", column.name)
    out: list[tuple[str, str]] = []
    if column.required:
        out.append(("required", f"oligo_text({v}) IS NULL"))
    if column.required_if is not None:
        other, value = column.required_if
        out.append(("required_if", f"oligo_text({v}) IS NULL AND lower(oligo_text("
                                   f"{col('r', other)})) = lower({st.bind(value)})"))
    present = _present(v)
    numeric = None
    if column.type == "int":
        out.append(("type_int", f"{present} AND oligo_int({v}) IS NULL"))
        numeric = f"oligo_int({v})"
    elif column.type == "decimal":
        out.append(("type_decimal", f"{present} AND oligo_decimal({v}, $decimal_mark) IS NULL"))
        numeric = f"oligo_decimal({v}, $decimal_mark)"
    elif column.type == "date":
        partial = f"oligo_is_partial_date({v}, $date_format, $month_format, $year_format)"
        if column.partial_date_ok:
            out.append(("type_date", f"{present} AND oligo_partial_date({v}, $date_format, "
                                     "$month_format, $year_format) IS NULL"))
        else:
            out.append(("partial_date_not_allowed", f"{present} AND {partial}"))
            out.append(("type_date", f"{present} AND oligo_date({v}, $date_format) IS NULL "
                                     f"AND NOT {partial}"))
        # A date before 1900 is implausible (as a birth year before 1900 is): out of range.
        out.append(("range", f"oligo_date_latest({v}, $date_format, $month_format, "
                             f"$year_format) < {st.bind(EARLIEST_PLAUSIBLE_DATE)}"))
    elif column.type == "bool":
        out.append(("type_bool", f"{present} AND oligo_bool({v}, $true_values, $false_values) "
                                 "IS NULL"))
    elif column.type == "code":
        codes = st.bind([code.lower() for code in column.codes])
        out.append(("code_list", f"{present} AND NOT list_contains({codes}, lower(trim({v})))"))
    if column.pattern is not None:
        out.append(("code_pattern", f"{present} AND NOT regexp_full_match(upper(trim({v})), "
                                    f"{st.bind(column.pattern)})"))
    if numeric is not None and column.min_value is not None:
        out.append(("range", f"{numeric} < {st.bind(float(column.min_value))}"))
    if numeric is not None and column.max_value is not None:
        out.append((column.max_value_rule, f"{numeric} > {st.bind(float(column.max_value))}"))
    return out


def _reference_match(column: Column, st: Statement) -> tuple[str, str]:
    """(condition that the value is a reference, EXISTS body of a matching parent row)."""
    ref = column.references
    v = col("r", column.name)
    is_reference = _present(v)
    if ref.literals:
        is_reference += f" AND NOT list_contains({st.bind(list(ref.literals))}, lower(trim({v})))"
    match = (f"FROM {raw_table(ref.table)} p WHERE oligo_text({col('p', ref.key_column)}) = "
             f"oligo_text({v})")
    return is_reference, match


def reference_conditions(column: Column, st: Statement) -> list[tuple[str, str]]:
    if column.references is None:
        return []
    is_reference, match = _reference_match(column, st)
    out = [("orphan_reference", f"{is_reference} AND NOT EXISTS (SELECT 1 {match})")]
    if column.references.same_patient:
        out.append((
            "reference_other_patient",
            f"{is_reference} AND oligo_text(r.patient_id) IS NOT NULL "
            f"AND EXISTS (SELECT 1 {match}) AND NOT EXISTS (SELECT 1 {match} AND "
            "oligo_text(p.patient_id) = oligo_text(r.patient_id))",
        ))
    return out


def _select(table: Table, column_name: str, rule_id: str, condition: str, st: Statement,
            source: str | None = None) -> str:
    return (f"SELECT {st.bind(table.name)} AS table_name, r._file AS file, r._row_number AS "
            f"row_number, {st.bind(column_name)} AS column_name, {st.bind(rule_id)} AS rule_id, "
            f"{record_key_sql(table, 'r')} AS record_key "
            f"FROM {source or raw_table(table.name) + ' r'} WHERE {condition}")


def table_defects_sql(table: Table) -> tuple[str, Statement]:
    """One statement selecting every row-local and relational defect of a table."""
    st = Statement()
    parts = []
    for column in table.columns:
        for rule_id, condition in value_conditions(table, column, st) + \
                reference_conditions(column, st):
            parts.append(_select(table, column.name, rule_id, condition, st))
    if table.end_before_start is not None:
        start, end = table.end_before_start
        parts.append(_select(table, end, "end_before_start",
                             f"oligo_date({col('r', end)}, $date_format) < "
                             f"oligo_date({col('r', start)}, $date_format)", st))
    key_parts = [key_part_sql(table, k, "r", st) for k in table.key]
    counted = (f"(SELECT *, count(*) OVER (PARTITION BY {', '.join(key_parts)}) AS oligo_n "
               f"FROM {raw_table(table.name)} r) r")
    all_present = " AND ".join(f"{k} IS NOT NULL" for k in key_parts)
    parts.append(_select(table, "|".join(table.key), "duplicate_key",
                         f"r.oligo_n > 1 AND {all_present}", st, source=counted))
    return "\nUNION ALL\n".join(parts), st


def cascade_sql(child: Table, column: Column) -> tuple[str, Statement]:
    """Rows of `child` whose `column` refers to a quarantined parent row, not already
    quarantined themselves: `parent_quarantined`."""
    st = Statement()
    ref = column.references
    quarantined_parent_keys = (
        f"SELECT oligo_text({col('p', ref.key_column)}) FROM {raw_table(ref.table)} p "
        f"JOIN ingest.quarantine q ON q.table_name = {st.bind(ref.table)} "
        "AND q.file = p._file AND q.row_number = p._row_number"
    )
    already = (f"EXISTS (SELECT 1 FROM ingest.quarantine q WHERE q.table_name = "
               f"{st.bind(child.name)} AND q.file = r._file AND q.row_number = r._row_number)")
    condition = (f"oligo_text({col('r', column.name)}) IN ({quarantined_parent_keys}) "
                 f"AND NOT {already}")
    return _select(child, column.name, "parent_quarantined", condition, st), st


def parent_first_order() -> list[Table]:
    """Tables ordered so that every referenced table comes before the tables referring to
    it: the cascade then reaches grandchildren in one pass."""
    ordered: list[Table] = []
    remaining = list(TABLES)
    while remaining:
        for t in remaining:
            parents = {c.references.table for c in t.columns if c.references} - {t.name}
            if parents <= {o.name for o in ordered}:
                ordered.append(t)
                remaining.remove(t)
                break
        else:  # pragma: no cover - a reference cycle is a contract error
            raise ValueError("reference cycle in the contract")
    return ordered

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
        out.append(("code_list", f"{present} AND NOT list_contains({codes}, lower(oligo_trim({v})))"))
    if column.pattern is not None:
        out.append(("code_pattern", f"{present} AND NOT regexp_full_match(upper(oligo_trim({v})), "
                                    f"{st.bind(column.pattern)})"))
    if numeric is not None and column.min_value is not None:
        out.append(("range", f"{numeric} < {st.bind(float(column.min_value))}"))
    if numeric is not None and column.max_value is not None:
        out.append((column.max_value_rule, f"{numeric} > {st.bind(float(column.max_value))}"))
    return out


def reference_join(column: Column, alias: str, value: str) -> str:
    """LEFT JOIN of the parent's keys (one row per key; with the key's patients when the
    reference must stay within the patient) on `value`, the trimmed reference: a miss is an
    orphan."""
    ref = column.references
    key = f"oligo_text({col('p', ref.key_column)})"
    patients = ", list(DISTINCT oligo_text(p.patient_id)) AS patients" \
        if ref.same_patient else ""
    return (f"LEFT JOIN (SELECT {key} AS k{patients} FROM {raw_table(ref.table)} p "
            f"WHERE {key} IS NOT NULL GROUP BY 1) {alias} ON {alias}.k = {value}")


def reference_conditions(column: Column, alias: str, value: str, patient: str,
                         st: Statement) -> list[tuple[str, str]]:
    """(rule_id, condition) on the row's trimmed reference `value` and patient `patient`
    and its `reference_join` under `alias`."""
    if column.references is None:
        return []
    is_reference = f"{value} IS NOT NULL"
    if column.references.literals:
        literals = st.bind(list(column.references.literals))
        is_reference += f" AND NOT list_contains({literals}, lower({value}))"
    out = [("orphan_reference", f"{is_reference} AND {alias}.k IS NULL")]
    if column.references.same_patient:
        out.append((
            "reference_other_patient",
            f"{is_reference} AND {patient} IS NOT NULL AND {alias}.k IS NOT NULL "
            f"AND NOT list_contains({alias}.patients, {patient})",
        ))
    return out


def _select(table: Table, column_name: str, rule_id: str, condition: str, st: Statement,
            source: str | None = None) -> str:
    return (f"SELECT {st.bind(table.name)} AS table_name, r._file AS file, r._row_number AS "
            f"row_number, {st.bind(column_name)} AS column_name, {st.bind(rule_id)} AS rule_id, "
            f"{record_key_sql(table, 'r')} AS record_key "
            f"FROM {source or raw_table(table.name) + ' r'} WHERE {condition}")


def table_defects_sql(table: Table) -> tuple[str, Statement]:
    """One statement selecting every row-local and relational defect of a table, in one pass
    over it: each (column, rule) condition sets one bit of the row's mask; the rows with a
    bit set become one defect row per bit."""
    st = Statement()
    # (column, rule_id, condition): on the row alone (evaluated on the scan itself, where
    # DuckDB works on each compressed column's distinct values), then on the joins.
    local: list[tuple[str, str, str]] = []
    joined: list[tuple[str, str, str]] = []
    joins = []
    trimmed = {"patient_id": "r.oligo_t_patient_id"} if "patient_id" in table.column_names else {}
    for column in table.columns:
        local += [(column.name, rule_id, condition)
                  for rule_id, condition in value_conditions(table, column, st)]
        if column.references is not None:
            alias = f"ref{len(joins)}"
            value = trimmed.setdefault(column.name, f"r.oligo_t_{column.name}")
            joins.append(reference_join(column, alias, value))
            joined += [(column.name, rule_id, condition) for rule_id, condition in
                       reference_conditions(column, alias, value, trimmed.get("patient_id"), st)]
    if table.end_before_start is not None:
        start, end = table.end_before_start
        local.append((end, "end_before_start",
                      f"oligo_date({col('r', end)}, $date_format) < "
                      f"oligo_date({col('r', start)}, $date_format)"))
    # Keys held more than once (few): a LEFT JOIN on them marks the duplicated rows. The
    # keys' hashes are grouped first (an 8-byte group per row, not the key text), and only
    # the rows of a hash held more than once are grouped by their keys: exact, and the
    # table's keys are not copied into a hash table as large as the table.
    key_parts = [key_part_sql(table, k, "r", st) for k in table.key]
    all_present = " AND ".join(f"{k} IS NOT NULL" for k in key_parts)
    key_hash = f"hash({', '.join(key_parts)})"
    repeated_hashes = (f"SELECT {key_hash} FROM {raw_table(table.name)} r GROUP BY 1 "
                       "HAVING count(*) > 1")
    duplicated = (f"LEFT JOIN (SELECT {', '.join(f'{k} AS d{i}' for i, k in enumerate(key_parts))} "
                  f"FROM {raw_table(table.name)} r WHERE {all_present} AND {key_hash} IN "
                  f"({repeated_hashes}) GROUP BY ALL HAVING count(*) > 1) dup ON " + " AND ".join(
                      f"dup.d{i} = r.oligo_key{i}" for i in range(len(key_parts))))
    joined.append(("|".join(table.key), "duplicate_key", "dup.d0 IS NOT NULL"))
    checks = local + joined
    if len(checks) > MAX_CHECKS:  # pragma: no cover - a contract error
        raise ValueError(f"table {table.name}: more than {MAX_CHECKS} row checks")

    def mask(first: int, conditions: list[tuple[str, str, str]]) -> str:
        return " + ".join(f"(CASE WHEN {condition} THEN CAST({1 << (first + i)} AS BIGINT) "
                          "ELSE 0 END)" for i, (_, _, condition) in enumerate(conditions))

    precomputed = [f"oligo_text({col('r', name)}) AS {alias.removeprefix('r.')}"
                   for name, alias in trimmed.items()]
    precomputed += [f"{k} AS oligo_key{i}" for i, k in enumerate(key_parts)]
    scanned = (f"SELECT *, {', '.join(precomputed)}, {mask(0, local) if local else '0'} "
               f"AS oligo_local_mask FROM {raw_table(table.name)} r")
    bits = st.bind([1 << i for i in range(len(checks))])
    columns = st.bind([c for c, _, _ in checks])
    rules = st.bind([r for _, r, _ in checks])
    rows = (f"SELECT r._file AS file, r._row_number AS row_number, "
            f"{record_key_sql(table, 'r')} AS record_key, "
            f"r.oligo_local_mask + {mask(len(local), joined)} AS mask "
            f"FROM ({scanned}) r {' '.join(joins)} {duplicated}")
    checks_sql = (f"SELECT unnest({bits}) AS bit, unnest({columns}) AS column_name, "
                  f"unnest({rules}) AS rule_id")
    sql = (f"SELECT {st.bind(table.name)} AS table_name, d.file, d.row_number, c.column_name, "
           f"c.rule_id, d.record_key FROM ({rows}) d JOIN ({checks_sql}) c "
           "ON (d.mask & c.bit) <> 0 WHERE d.mask <> 0")
    return sql, st


MAX_CHECKS = 62  # bits of a BIGINT mask


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

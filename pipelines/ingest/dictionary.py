"""The data dictionary (`docs/data-dictionary.md`), generated from the contract so that the
document and the code cannot disagree (a test compares them)."""

from __future__ import annotations

from pipelines.contract.dialects import DIALECTS, Dialect
from pipelines.contract.rules import QUARANTINE_RATE_THRESHOLD, RULES, Disposition
from pipelines.contract.staging import EXTRA_COLUMNS
from pipelines.contract.tables import CONTRACT_VERSION, CROSS_RECORD_RULES, TABLES, Column, Table
from pipelines.ingest.pseudonym import id_columns

DISPOSITION_TITLES = {
    Disposition.ROW_QUARANTINE: "Row defects: the row goes to quarantine",
    Disposition.CROSS_RECORD_WARNING: "Cross-record implausibilities: rows load, patients "
                                      "are flagged",
    Disposition.BATCH_REFUSAL: "Batch defects: the whole batch is refused",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _column_rules(column: Column) -> str:
    notes = []
    if column.codes:
        notes.append("codes: " + ", ".join(f"`{c}`" for c in column.codes))
    if column.pattern:
        notes.append(f"format: {column.pattern_hint or column.pattern} (`{column.pattern}`)")
    if column.min_value is not None or column.max_value is not None:
        low = "" if column.min_value is None else f"{column.min_value:g}"
        high = "" if column.max_value is None else f"{column.max_value:g}"
        rule = "" if column.max_value_rule == "range" else f" (above: `{column.max_value_rule}`)"
        notes.append(f"range {low}..{high}{rule}")
    if column.required_if:
        notes.append(f"required if `{column.required_if[0]}` = `{column.required_if[1]}`")
    if column.partial_date_ok:
        notes.append("partial date accepted (imputed, flagged)")
    if column.references:
        ref = column.references
        text = f"-> `{ref.table}.{ref.key_column}`"
        if ref.same_patient:
            text += " (same patient)"
        if ref.literals:
            text += "; or " + ", ".join(f"`{v}`" for v in ref.literals)
        notes.append(text)
    if column.default is not None:
        notes.append(f"default `{column.default}`")
    return "; ".join(notes)


def _table_section(table: Table) -> list[str]:
    ids = id_columns(table)
    lines = [
        f"### {table.name}",
        "",
        f"{table.description}",
        "",
        f"- Grain: {table.grain}",
        f"- Key: {', '.join(f'`{k}`' for k in table.key)}",
        f"- File: {'required' if table.required_file else 'optional'} "
        f"(`{table.name}.csv`, `.parquet` or `.xlsx`)",
    ]
    if table.end_before_start:
        start, end = table.end_before_start
        lines.append(f"- `{end}` must not be before `{start}`")
    lines += ["", "| column | type | required | meaning | values and rules |",
              "|---|---|---|---|---|"]
    for c in table.columns:
        required = "yes" if c.required else ("conditional" if c.required_if else "")
        meaning = c.description + (f" (pseudonymised: `{ids[c.name]}` keys)"
                                   if c.name in ids else "")
        lines.append(f"| `{c.name}` | {c.type} | {required} | {_cell(meaning)} | "
                     f"{_cell(_column_rules(c))} |")
    extra = EXTRA_COLUMNS.get(table.name, {})
    if extra:
        lines += ["", "Added by staging:", ""]
        lines += [f"- `{name}` ({dtype}): {text}" for name, (dtype, text) in extra.items()]
    return lines + [""]


def _dialect_section(d: Dialect) -> list[str]:
    lines = [
        f"### {d.name}",
        "",
        f"- delimiter `{d.delimiter}`, decimal mark `{d.decimal_mark}`, date format "
        f"`{d.date_format}`, partial dates {', '.join(f'`{f}`' for f in d.partial_date_formats)}",
        f"- encoding `{d.encoding}`{' (BOM tolerated)' if d.encoding.startswith('utf') else ''}",
        f"- true: {', '.join(d.true_values)}; false: {', '.join(d.false_values)}",
    ]
    for table_name, aliases in sorted(d.header_aliases.items()):
        pairs = ", ".join(f"`{a}` -> `{c}`" for a, c in sorted(aliases.items()))
        lines.append(f"- header aliases of {table_name}: {pairs}")
    return lines + [""]


def render_dictionary() -> str:
    lines = [
        "# Data dictionary: registry export contract, version " + CONTRACT_VERSION,
        "",
        "Generated from `pipelines/contract/` by `oligo dictionary --out "
        "docs/data-dictionary.md`; do not edit by hand (a test fails when it drifts).",
        "",
        "A batch is one folder named by its batch id, one file per table, and an optional "
        "`manifest.json` (`contract_version`, `registry`, `batch_id`, `data_cutoff_date`, "
        "`files`: name -> `rows`, `sha256`). Codes are case-insensitive and blanks around "
        "values are ignored; an empty field is a missing value. Types: text, int, decimal, "
        "date, bool (true/false, yes/no, 1/0, oui/non), code (one of the listed values).",
        "",
        "## Tables",
        "",
    ]
    for table in TABLES:
        lines += _table_section(table)
    lines += ["## Rules", ""]
    for disposition, title in DISPOSITION_TITLES.items():
        lines += [f"### {title}", "", "| rule | Kahn category | reason |", "|---|---|---|"]
        for r in RULES.values():
            if r.disposition is disposition:
                tables = CROSS_RECORD_RULES.get(r.rule_id)
                scope = f" (tables: {', '.join(tables)})" if tables else ""
                lines.append(f"| `{r.rule_id}` | {r.kahn_category} / {r.kahn_subcategory} | "
                             f"{_cell(r.reason)}{scope} |")
        lines.append("")
    lines += [f"The quarantine rate threshold is {QUARANTINE_RATE_THRESHOLD:.0%} of a table's "
              "rows.", "", "## Dialect profiles", ""]
    for d in DIALECTS.values():
        lines += _dialect_section(d)
    return "\n".join(lines).rstrip() + "\n"

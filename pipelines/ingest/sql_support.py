"""What every ingestion statement relies on in a DuckDB connection: the `contract` schema
(code lists and the two mapping tables, as data) and the typing macros (temporary, defined
per connection). Defining them is idempotent."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from pipelines.contract.dialects import Dialect
from pipelines.contract.rules import RULES
from pipelines.contract.tables import TABLES
from pipelines.sql_quoting import quote_literal

MAPPINGS_DIR = Path(__file__).parent / "mappings"
ICD10CM_SITES_FILE = MAPPINGS_DIR / "icd10cm_metastatic_sites.csv"
ATC_RENAMED_FILE = MAPPINGS_DIR / "atc_l01_restructure.csv"

# Typing macros: one definition of "empty", "a date in this format", ... for row rules,
# cross-record checks and staging alike. Formats and marks arrive as bound parameters.
MACROS = (
    # trim(v), without its cost where it changes nothing: DuckDB's trim removes only Unicode
    # space separators (ASCII: the space) and copies every value it returns, so an ASCII
    # value (as many bytes as characters) that neither starts nor ends with a space is
    # returned as it is; anything else goes through trim. Half the CPU of the row rules.
    "CREATE OR REPLACE TEMP MACRO oligo_trim(v) AS "
    "CASE WHEN strlen(v) = length(v) AND NOT starts_with(v, ' ') AND NOT ends_with(v, ' ') "
    "THEN v ELSE trim(v) END",
    "CREATE OR REPLACE TEMP MACRO oligo_text(v) AS nullif(oligo_trim(v), '')",
    "CREATE OR REPLACE TEMP MACRO oligo_int(v) AS "
    "CASE WHEN regexp_full_match(oligo_trim(v), '[+-]?[0-9]{1,18}') "
    "THEN CAST(oligo_trim(v) AS BIGINT) END",
    "CREATE OR REPLACE TEMP MACRO oligo_decimal(v, mark) AS "
    "CASE WHEN regexp_full_match(replace(oligo_trim(v), mark, '.'), "
    "'[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)') "
    "THEN CAST(replace(oligo_trim(v), mark, '.') AS DOUBLE) END",
    "CREATE OR REPLACE TEMP MACRO oligo_date(v, fmt) AS "
    "CAST(try_strptime(oligo_text(v), fmt) AS DATE)",
    # Partial dates: year-month -> the 15th, year -> 1 July (docs/data-dictionary.md).
    "CREATE OR REPLACE TEMP MACRO oligo_partial_date(v, fmt, fmt_month, fmt_year) AS "
    "coalesce(oligo_date(v, fmt), CAST(oligo_date(v, fmt_month) + INTERVAL 14 DAY AS DATE), "
    "make_date(year(oligo_date(v, fmt_year)), 7, 1))",
    # The earliest / latest day a (possibly partial) date can stand for.
    "CREATE OR REPLACE TEMP MACRO oligo_date_earliest(v, fmt, fmt_month, fmt_year) AS "
    "coalesce(oligo_date(v, fmt), oligo_date(v, fmt_month), oligo_date(v, fmt_year))",
    "CREATE OR REPLACE TEMP MACRO oligo_date_latest(v, fmt, fmt_month, fmt_year) AS "
    "coalesce(oligo_date(v, fmt), CAST(last_day(oligo_date(v, fmt_month)) AS DATE), "
    "make_date(year(oligo_date(v, fmt_year)), 12, 31))",
    "CREATE OR REPLACE TEMP MACRO oligo_is_partial_date(v, fmt, fmt_month, fmt_year) AS "
    "oligo_date(v, fmt) IS NULL "
    "AND coalesce(oligo_date(v, fmt_month), oligo_date(v, fmt_year)) IS NOT NULL",
    "CREATE OR REPLACE TEMP MACRO oligo_bool(v, true_values, false_values) AS "
    "CASE WHEN list_contains(true_values, lower(oligo_trim(v))) THEN true "
    "WHEN list_contains(false_values, lower(oligo_trim(v))) THEN false END",
    # ICD-10 with or without its dot -> with the dot after the third character.
    "CREATE OR REPLACE TEMP MACRO oligo_icd10(v) AS "
    "CASE WHEN length(replace(upper(oligo_trim(v)), '.', '')) > 3 "
    "THEN left(replace(upper(oligo_trim(v)), '.', ''), 3) || '.' || "
    "substr(replace(upper(oligo_trim(v)), '.', ''), 4) "
    "ELSE nullif(replace(upper(oligo_trim(v)), '.', ''), '') END",
)

CONTRACT_DDL = (
    "CREATE SCHEMA IF NOT EXISTS contract",
    "CREATE OR REPLACE TABLE contract.code_lists (table_name VARCHAR, column_name VARCHAR, "
    "code VARCHAR, code_lower VARCHAR)",
    "CREATE OR REPLACE TABLE contract.rules (rule_id VARCHAR, disposition VARCHAR, "
    "kahn_category VARCHAR, kahn_subcategory VARCHAR, reason VARCHAR)",
    "CREATE OR REPLACE TABLE contract.icd10cm_sites AS SELECT * FROM read_csv($sites, "
    "header = true, all_varchar = true)",
    "CREATE OR REPLACE TABLE contract.atc_renamed AS SELECT * FROM read_csv($atc, "
    "header = true, all_varchar = true)",
)


def prepare_connection(con: duckdb.DuckDBPyConnection, force: bool = False) -> None:
    """Create the contract tables and the typing macros in this connection (once: a
    connection that already has them is left as it is unless `force`)."""
    if not force and _is_prepared(con):
        return
    for statement in CONTRACT_DDL:
        params = {name: str(path) for name, path in
                  (("sites", ICD10CM_SITES_FILE), ("atc", ATC_RENAMED_FILE))
                  if f"${name}" in statement}
        con.execute(statement, params or None)
    rows = [
        (t.name, c.name, code, code.lower())
        for t in TABLES for c in t.columns for code in c.codes
    ]
    con.executemany("INSERT INTO contract.code_lists VALUES (?, ?, ?, ?)", rows)
    con.executemany(
        "INSERT INTO contract.rules VALUES (?, ?, ?, ?, ?)",
        [(r.rule_id, str(r.disposition), str(r.kahn_category), r.kahn_subcategory, r.reason)
         for r in RULES.values()],
    )
    create_macros(con)


def create_macros(con: duckdb.DuckDBPyConnection) -> None:
    """The typing macros alone: temporary, so every cursor (a connection of its own) of a
    connection whose `contract` tables are prepared needs them once."""
    for statement in MACROS:
        con.execute(statement)
    con.execute(code_macro())


def code_macro() -> str:
    """`oligo_code(tbl, col, v)`: a code in its canonical spelling, whatever the case and
    surrounding blanks (the code lists of `contract.code_lists`). Written out as CASE
    expressions: a macro cannot take bound parameters, and the table and column arguments
    are constants, so DuckDB keeps only the one column's CASE, evaluated per distinct value
    of a compressed column. Only contract names and codes are quoted in, never data."""
    branches = []
    for t in TABLES:
        for c in t.columns:
            if not c.codes:
                continue
            codes = " ".join(f"WHEN {quote_literal(code.lower())} THEN {quote_literal(code)}"
                             for code in dict.fromkeys(c.codes))
            branches.append(f"WHEN tbl = {quote_literal(t.name)} AND col = "
                            f"{quote_literal(c.name)} THEN "
                            f"(CASE lower(oligo_trim(v)) {codes} END)")
    return ("CREATE OR REPLACE TEMP MACRO oligo_code(tbl, col, v) AS "
            f"CAST(CASE {' '.join(branches)} END AS VARCHAR)")


def dialect_parameters(dialect: Dialect) -> dict[str, object]:
    """Bound parameters describing the dialect, by the names SQL files use."""
    month_format, year_format = dialect.partial_date_formats
    return {
        "date_format": dialect.date_format,
        "month_format": month_format,
        "year_format": year_format,
        "decimal_mark": dialect.decimal_mark,
        "true_values": list(dialect.true_values),
        "false_values": list(dialect.false_values),
    }


def used_parameters(sql: str, params: dict[str, object]) -> dict[str, object]:
    """Only the parameters a statement names (DuckDB refuses unused named parameters)."""
    names = set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", sql))
    return {k: v for k, v in params.items() if k in names}


def _is_prepared(con: duckdb.DuckDBPyConnection) -> bool:
    macros = con.execute(
        "SELECT count(*) FROM duckdb_functions() WHERE function_name = 'oligo_icd10'"
    ).fetchone()[0]
    tables = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'contract'"
    ).fetchone()[0]
    return macros > 0 and tables == len(CONTRACT_DDL) - 1

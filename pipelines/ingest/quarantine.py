"""Finding every row defect of the `raw` tables of a connection, in the contract's order:
row rules, the parent->child cascade, cross-record warnings, then the quarantine rate per
table (docs/data-dictionary.md).

Leaves in the connection:
- `ingest.quarantine`: one row per (row, column, rule) quarantined; columns of
  `ops.quarantine` (batch_id, table_name, file, row_number, column_name, rule_id,
  disposition, kahn_category, kahn_subcategory, reason, record_key);
- `ingest.implausibilities`: the cross-record warnings, same columns plus patient_id;
- `ingest.incomplete_patients`, `ingest.implausible_patients`: patient_id, for staging;
- temporary views `loaded_<table>`: raw rows that will load.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from pipelines.contract.dialects import Dialect
from pipelines.contract.rules import QUARANTINE_RATE_THRESHOLD
from pipelines.contract.tables import CROSS_RECORD_RULES, TABLES
from pipelines.ingest.cross_record import CHECKS, EXTRA_PARAMETERS
from pipelines.ingest.defects import BatchDefect
from pipelines.ingest.row_rules import cascade_sql, parent_first_order, table_defects_sql
from pipelines.ingest.sql_support import (
    dialect_parameters,
    prepare_connection,
    used_parameters,
)
from pipelines.sql_quoting import quote_ident

QUARANTINE_COLUMNS = ("batch_id", "table_name", "file", "row_number", "column_name", "rule_id",
                      "disposition", "kahn_category", "kahn_subcategory", "reason", "record_key")
_DDL = (
    "CREATE SCHEMA IF NOT EXISTS ingest",
    "CREATE OR REPLACE TABLE ingest.quarantine (batch_id VARCHAR, table_name VARCHAR, "
    "file VARCHAR, row_number BIGINT, column_name VARCHAR, rule_id VARCHAR, "
    "disposition VARCHAR, kahn_category VARCHAR, kahn_subcategory VARCHAR, reason VARCHAR, "
    "record_key VARCHAR)",
    "CREATE OR REPLACE TABLE ingest.implausibilities AS "
    "SELECT *, CAST(NULL AS VARCHAR) AS patient_id FROM ingest.quarantine WHERE false",
)
_ADD_RULE_COLUMNS = (
    "SELECT $batch_id, d.table_name, d.file, d.row_number, d.column_name, d.rule_id, "
    "r.disposition, r.kahn_category, r.kahn_subcategory, r.reason, d.record_key"
)


@dataclass(frozen=True)
class TableDefectCounts:
    table_name: str
    rows_read: int
    rows_quarantined: int
    rows_flagged: int

    @property
    def quarantine_rate(self) -> float:
        return self.rows_quarantined / self.rows_read if self.rows_read else 0.0


@dataclass
class RowDefectSummary:
    tables: dict[str, TableDefectCounts] = field(default_factory=dict)
    by_rule: dict[str, int] = field(default_factory=dict)  # defect rows per rule id
    batch_defects: list[BatchDefect] = field(default_factory=list)  # quarantine rate

    @property
    def ok(self) -> bool:
        return not self.batch_defects


def find_row_defects(
    con: duckdb.DuckDBPyConnection, batch_id: str, dialect: Dialect,
    quarantine_rate_threshold: float = QUARANTINE_RATE_THRESHOLD,
) -> RowDefectSummary:
    """Run every row rule of the contract on `raw.*` of `con`; see the module docstring."""
    prepare_connection(con, force=True)  # the contract may have changed since
    for statement in _DDL:
        con.execute(statement)
    params = dialect_parameters(dialect) | EXTRA_PARAMETERS | {"batch_id": batch_id}
    for table in TABLES:
        sql, st = table_defects_sql(table)
        _insert_quarantine(con, sql, st.params | params)
    # Parents first, so a grandchild sees its parent's cascade; a parent without quarantined
    # rows cascades nothing, so its statement is skipped.
    quarantined = _quarantined_tables(con)
    for child in parent_first_order():
        for column in child.columns:
            ref = column.references
            if ref is not None and ref.table != child.name and ref.table in quarantined:
                sql, st = cascade_sql(child, column)
                _insert_quarantine(con, sql, st.params | params)
                quarantined = _quarantined_tables(con)
    _create_loaded_views(con)
    for rule_id in CROSS_RECORD_RULES:
        for sql in CHECKS[rule_id]:
            con.execute(
                "INSERT INTO ingest.implausibilities "
                f"{_ADD_RULE_COLUMNS}, d.patient_id FROM ({sql}) d "
                "JOIN contract.rules r USING (rule_id)",
                used_parameters(sql, params) | {"batch_id": batch_id},
            )
    _create_patient_flags(con)
    return _summarise(con, quarantine_rate_threshold)


def _insert_quarantine(con: duckdb.DuckDBPyConnection, sql: str,
                       params: dict[str, object]) -> None:
    full = (f"INSERT INTO ingest.quarantine {_ADD_RULE_COLUMNS} FROM ({sql}) d "
            "JOIN contract.rules r USING (rule_id)")
    con.execute(full, used_parameters(full, params))


def _quarantined_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {name for (name,) in con.execute(
        "SELECT DISTINCT table_name FROM ingest.quarantine").fetchall()}


def _create_loaded_views(con: duckdb.DuckDBPyConnection) -> None:
    for table in TABLES:
        literal = "'" + table.name.replace("'", "''") + "'"  # a contract name, not data
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {quote_ident('loaded_' + table.name)} AS "
            f"SELECT r.* FROM raw.{quote_ident(table.name)} r ANTI JOIN ingest.quarantine q "
            f"ON q.table_name = {literal} AND q.file = r._file AND q.row_number = r._row_number"
        )


def _create_patient_flags(con: duckdb.DuckDBPyConnection) -> None:
    """Patients with a quarantined clinical row (incomplete) or an implausibility."""
    clinical = [t for t in TABLES if t.name != "patients"]
    union = " UNION ".join(
        f"SELECT oligo_text(r.patient_id) AS patient_id FROM raw.{quote_ident(t.name)} r "
        "SEMI JOIN ingest.quarantine q ON q.table_name = $t" + str(i) +
        " AND q.file = r._file AND q.row_number = r._row_number"
        for i, t in enumerate(clinical)
    )
    con.execute(f"CREATE OR REPLACE TABLE ingest.incomplete_patients AS "
                f"SELECT DISTINCT patient_id FROM ({union}) WHERE patient_id IS NOT NULL",
                {f"t{i}": t.name for i, t in enumerate(clinical)})
    con.execute("CREATE OR REPLACE TABLE ingest.implausible_patients AS SELECT DISTINCT "
                "patient_id FROM ingest.implausibilities WHERE patient_id IS NOT NULL")


def _summarise(con: duckdb.DuckDBPyConnection, threshold: float) -> RowDefectSummary:
    summary = RowDefectSummary()
    for table in TABLES:
        rows_read = con.execute(f"SELECT count(*) FROM raw.{quote_ident(table.name)}").fetchone()[0]
        quarantined, flagged = (
            con.execute(
                f"SELECT count(DISTINCT (file, row_number)) FROM ingest.{source} "
                "WHERE table_name = ?", [table.name]
            ).fetchone()[0]
            for source in ("quarantine", "implausibilities")
        )
        counts = TableDefectCounts(table.name, rows_read, quarantined, flagged)
        summary.tables[table.name] = counts
        if counts.quarantine_rate > threshold:
            summary.batch_defects.append(BatchDefect(
                "quarantine_rate", None, None,
                f"table {table.name}: {quarantined} of {rows_read} rows, above "
                f"{threshold:.1%}",
            ))
    summary.by_rule = dict(con.execute(
        "SELECT rule_id, count(*) FROM (SELECT rule_id FROM ingest.quarantine UNION ALL "
        "SELECT rule_id FROM ingest.implausibilities) GROUP BY rule_id ORDER BY rule_id"
    ).fetchall())
    return summary

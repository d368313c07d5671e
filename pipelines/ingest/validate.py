"""Checking a batch folder against the contract without loading it anywhere: the loader's
own code on an in-memory DuckDB, on source ids (no pseudonymisation), so every record_key is
the key as written in the file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from pipelines.contract.dialects import Dialect
from pipelines.contract.rules import QUARANTINE_RATE_THRESHOLD
from pipelines.contract.tables import TABLES
from pipelines.ingest.batch import open_batch
from pipelines.ingest.defects import BatchDefect
from pipelines.ingest.load import load_raw_tables
from pipelines.ingest.quarantine import RowDefectSummary, find_row_defects

ROW_DEFECT_COLUMNS = ("table_name", "file", "row_number", "column_name", "rule_id",
                      "disposition", "record_key", "reason")


@dataclass
class ValidationReport:
    batch_id: str
    batch_defects: list[BatchDefect] = field(default_factory=list)
    row_defects: pl.DataFrame = field(default_factory=lambda: empty_row_defects())
    summary: RowDefectSummary | None = None  # None when row rules could not run
    rows_read: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No batch defect: the batch would be accepted (row defects quarantine rows)."""
        return not self.batch_defects


def empty_row_defects() -> pl.DataFrame:
    schema = {c: pl.String for c in ROW_DEFECT_COLUMNS} | {"row_number": pl.Int64}
    return pl.DataFrame(schema={c: schema[c] for c in ROW_DEFECT_COLUMNS})


def validate_batch(batch_dir: Path, dialect: Dialect,
                   quarantine_rate_threshold: float = QUARANTINE_RATE_THRESHOLD,
                   ) -> ValidationReport:
    """Batch defects and row defects (quarantine and cross-record warnings) of a folder.

    Row rules are skipped when the batch holds a direct identifier: nothing of it is loaded,
    not even in memory."""
    batch = open_batch(Path(batch_dir), dialect)
    report = ValidationReport(batch.batch_id, list(batch.defects))
    if batch.has_identifiers:
        return report
    with duckdb.connect(":memory:") as con:
        report.rows_read = load_raw_tables(con, batch)
        report.summary = find_row_defects(con, batch.batch_id, dialect,
                                          quarantine_rate_threshold)
        columns = ", ".join(ROW_DEFECT_COLUMNS)
        report.row_defects = con.sql(
            f"SELECT {columns} FROM ingest.quarantine UNION ALL "
            f"SELECT {columns} FROM ingest.implausibilities "
            "ORDER BY table_name, file, row_number, column_name, rule_id"
        ).pl()
    report.batch_defects.extend(report.summary.batch_defects)
    return report


# Rules whose rows follow from another defect (a quarantined parent, a parent table not
# loaded): one line per cause with a count and the first keys, never one line per row.
CASCADE_RULES = ("parent_quarantined", "orphan_reference")
FIRST_KEYS = 3


def cascade_summary(row_defects: pl.DataFrame) -> pl.DataFrame:
    """One row per (file, column, rule) of the cascade rules: rows, first rows and keys."""
    return (
        row_defects.filter(pl.col("rule_id").is_in(CASCADE_RULES))
        .sort("row_number")
        .group_by("table_name", "file", "column_name", "rule_id", "reason",
                  maintain_order=True)
        .agg(pl.len().alias("rows"),
             pl.col("row_number").head(FIRST_KEYS).alias("first_rows"),
             pl.col("record_key").head(FIRST_KEYS).alias("first_keys"))
        .sort("table_name", "column_name", "rule_id")
    )


def unloaded_tables(report: ValidationReport) -> set[str]:
    """Tables delivered but not loaded (a batch defect refused their file)."""
    files = {d.file for d in report.batch_defects if d.file}
    return {t.name for t in TABLES if report.rows_read.get(t.name, 0) == 0
            and any(f.split(".")[0] == t.name for f in files)}

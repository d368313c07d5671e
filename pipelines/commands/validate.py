"""`oligo validate DIR [--dialect default|fr]`: check a batch folder against the contract.

Nothing is written anywhere. One line per defect (file, row, column, rule, reason), then a
summary; the exit status is 1 when the batch would be refused (a batch defect)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.contract.dialects import DIALECTS, dialect
from pipelines.contract.rules import QUARANTINE_RATE_THRESHOLD
from pipelines.contract.tables import TABLES_BY_NAME
from pipelines.ingest.validate import (
    CASCADE_RULES,
    ValidationReport,
    cascade_summary,
    unloaded_tables,
    validate_batch,
)

LISTED_PER_RULE = 20  # rows listed per (file, column, rule); the rest are counted


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate", help="check a batch folder against the registry contract (writes nothing)"
    )
    parser.add_argument("batch_dir", type=Path, metavar="DIR")
    parser.add_argument("--dialect", choices=sorted(DIALECTS), default="default",
                        help="how the source writes its files (default: %(default)s)")
    parser.add_argument("--max-quarantine-rate", type=float, default=QUARANTINE_RATE_THRESHOLD,
                        help="share of a table's rows quarantined above which the batch is "
                        "refused (default: %(default)s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report = validate_batch(args.batch_dir, dialect(args.dialect), args.max_quarantine_rate)
    for line in report_lines(report):
        print(line)
    return 0 if report.ok else 1


def report_lines(report: ValidationReport, listed_per_rule: int = LISTED_PER_RULE) -> list[str]:
    """Batch defects, then row defects: each listed up to `listed_per_rule` rows per (file,
    column, rule) with a count of the rest, cascades summarised in one line per cause."""
    lines = [f"BATCH {d.describe()}" for d in report.batch_defects]
    direct = report.row_defects.filter(~report.row_defects["rule_id"].is_in(CASCADE_RULES))
    groups = direct.group_by("file", "column_name", "rule_id", maintain_order=True)
    for _, group in groups:
        for row in group.head(listed_per_rule).iter_rows(named=True):
            kind = "QUARANTINE" if row["disposition"] == "row_quarantine" else "WARNING"
            lines.append(f"{kind} {row['file']} row {row['row_number']} column "
                         f"{row['column_name']}: {row['rule_id']}: {row['reason']}")
        if group.height > listed_per_rule:
            first = group.row(0, named=True)
            lines.append(f"  ... and {group.height - listed_per_rule} more rows of "
                         f"{first['file']} column {first['column_name']}: {first['rule_id']}")
    unloaded = unloaded_tables(report)
    for row in cascade_summary(report.row_defects).iter_rows(named=True):
        column = TABLES_BY_NAME[row["table_name"]].column(row["column_name"]) \
            if row["column_name"] else None
        parent = column.references.table if column is not None and column.references else None
        cause = (f"; cause: table {parent} was not loaded (see its batch defect)"
                 if parent in unloaded else "")
        keys = ", ".join(str(k) for k in row["first_keys"] if k is not None)
        rows = ", ".join(str(n) for n in row["first_rows"])
        lines.append(f"CASCADE {row['file']} column {row['column_name']}: {row['rule_id']}: "
                     f"{row['rows']} row{'s' if row['rows'] != 1 else ''} ({row['reason']}{cause}); first rows {rows}"
                     + (f"; first keys {keys}" if keys else ""))
    lines.append(summary_line(report))
    return lines


def summary_line(report: ValidationReport) -> str:
    quarantined = flagged = 0
    if report.summary is not None:
        quarantined = sum(t.rows_quarantined for t in report.summary.tables.values())
        flagged = sum(t.rows_flagged for t in report.summary.tables.values())
    read = sum(report.rows_read.values())
    verdict = "accepted" if report.ok else "REFUSED"
    rows = (f"{read} rows read, {quarantined} would be quarantined, {flagged} flagged"
            if report.summary is not None else "row rules not run")
    return (f"batch {report.batch_id}: {verdict}; {len(report.batch_defects)} batch defects; "
            f"{rows}")

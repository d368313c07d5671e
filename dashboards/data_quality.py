"""The Data quality page's queries: check results in the OHDSI Data Quality Dashboard's
layout (Kahn, Callahan, Barnard et al., eGEMs 2016;4:1244 — categories conformance,
completeness, plausibility with their subcategories), failing checks and their keys, the
quarantine, the batch-to-batch diff, freshness and the run history.

Everything is read from `published/ops.duckdb` (schemas `ops` and `dq`, docs/data-quality.md)
attached read-only next to a published file, through `pipelines.safe_sql`; the batch diff's
data side reads the two frozen snapshots' staging tables the same way and compares them with
`pipelines.quality.diff` in a private in-memory database with file access off.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipelines import safe_sql
from pipelines.contract.tables import TABLES
from pipelines.quality.diff import diff_batches, diff_checks

CATEGORY_ORDER = ("conformance", "completeness", "plausibility")
CONTEXTS = {"staging": "Staging", "marts": "Marts"}  # the delivery as loaded; derived data
STATUS_WORDS = {
    "published": "published", "unchanged": "unchanged (same delivery)",
    "blocked_dq": "blocked by data-quality checks", "refused": "refused", "failed": "failed",
    "running": "running", "loading": "loading",
}
KEY_ROW_LIMIT = safe_sql.SafetyLimits(row_limit=1000)


def _query(database: Path, ops: Path, sql: str, params=None,
           limits: safe_sql.SafetyLimits = safe_sql.DEFAULT_LIMITS) -> pl.DataFrame:
    return safe_sql.run_query(sql, database, ops_database=ops, params=params,
                              limits=limits).frame


def runs(database: Path, ops: Path) -> pl.DataFrame:
    """Every pipeline run, newest first, with its duration in seconds."""
    return _query(
        database, ops,
        "SELECT run_id, batch_id, status, started_at, finished_at, "
        "date_diff('second', started_at, finished_at) AS seconds, message "
        "FROM ops.runs ORDER BY started_at DESC",
    )


def checked_batches(database: Path, ops: Path) -> list[str]:
    """Batches with data-quality results, most recently checked first."""
    frame = _query(database, ops, "SELECT batch_id FROM dq.check_results GROUP BY batch_id "
                                  "ORDER BY max(checked_at) DESC")
    return frame["batch_id"].to_list()


def latest_results(database: Path, ops: Path, batch_id: str) -> pl.DataFrame:
    """The check results of the batch's latest checked run."""
    return _query(
        database, ops,
        "SELECT * FROM dq.check_results WHERE run_id = (SELECT run_id FROM dq.check_results "
        "WHERE batch_id = ? GROUP BY run_id ORDER BY max(checked_at) DESC, run_id DESC LIMIT 1) "
        "ORDER BY kahn_category, kahn_subcategory, check_id",
        params=[batch_id],
    )


def with_outcome(results: pl.DataFrame) -> pl.DataFrame:
    """`outcome`: pass, fail, or not applicable (no record to check); `context` from the
    checked asset's layer."""
    return results.with_columns(
        outcome=pl.when(pl.col("total_count").fill_null(0) == 0).then(pl.lit("n/a"))
        .when(pl.col("passed")).then(pl.lit("pass")).otherwise(pl.lit("fail")),
        context=pl.col("asset").str.split("/").list.first()
        .replace_strict(CONTEXTS, default=pl.col("asset").str.split("/").list.first()),
    )


def matrix(results: pl.DataFrame) -> pl.DataFrame:
    """Rows: Kahn category and subcategory; columns: context × pass / fail / not applicable,
    and the share passed of the applicable checks."""
    shaped = with_outcome(results)
    counts = (
        shaped.group_by("kahn_category", "kahn_subcategory", "context", "outcome")
        .agg(n=pl.len())
        .with_columns(column=pl.format("{}: {}", pl.col("context"), pl.col("outcome")))
    )
    wanted = [f"{c}: {o}" for c in CONTEXTS.values() for o in ("pass", "fail", "n/a")]
    wide = counts.pivot(on="column", index=["kahn_category", "kahn_subcategory"], values="n")
    for column in wanted:
        if column not in wide.columns:
            wide = wide.with_columns(pl.lit(0, pl.UInt32).alias(column))
    passed = sum(pl.col(f"{c}: pass").fill_null(0) for c in CONTEXTS.values())
    failed = sum(pl.col(f"{c}: fail").fill_null(0) for c in CONTEXTS.values())
    rank = {c: i for i, c in enumerate(CATEGORY_ORDER)}
    return (
        wide.with_columns(pl.col(wanted).fill_null(0))
        .with_columns(share=(passed / (passed + failed)).fill_nan(None))
        .sort(pl.col("kahn_category").replace_strict(rank, default=9), "kahn_subcategory")
        .select([
            pl.col("kahn_category").str.to_titlecase().alias("Category"),
            pl.col("kahn_subcategory").str.to_titlecase().alias("Subcategory"),
            *wanted,
            pl.col("share").alias("Passed"),
        ])
    )


def failing_checks(results: pl.DataFrame) -> pl.DataFrame:
    return with_outcome(results).filter(pl.col("outcome") == "fail").select(
        "check_id", "asset", "severity", "kahn_category", "kahn_subcategory", "failing_count",
        "total_count", "failing_pct", "threshold_pct",
    ).sort("failing_count", descending=True)


def failing_keys(database: Path, ops: Path, run_id: str, check_id: str) -> safe_sql.QueryResult:
    """The failing records' keys of one check (first 1,000)."""
    return safe_sql.run_query(
        "SELECT record_key, patient_id FROM dq.failing_rows WHERE run_id = ? AND check_id = ? "
        "ORDER BY record_key", database, ops_database=ops, params=[run_id, check_id],
        limits=KEY_ROW_LIMIT,
    )


def quarantine(database: Path, ops: Path, batch_id: str) -> pl.DataFrame:
    """Quarantined rows of a batch by table and reason."""
    return _query(
        database, ops,
        "SELECT table_name, reason, rule_id, kahn_category, count(*) AS n_rows "
        "FROM ops.quarantine WHERE batch_id = ? GROUP BY ALL ORDER BY n_rows DESC, table_name",
        params=[batch_id],
    )


def quarantine_batches(database: Path, ops: Path) -> list[str]:
    frame = _query(database, ops, "SELECT DISTINCT batch_id FROM ops.quarantine ORDER BY 1 DESC")
    return frame["batch_id"].to_list()


def table_counts(database: Path, ops: Path, batch_id: str) -> pl.DataFrame:
    """Rows read, loaded and quarantined per table in the batch's latest run."""
    return _query(
        database, ops,
        "SELECT table_name, rows_read, rows_loaded, rows_quarantined FROM ops.table_counts "
        "WHERE run_id = (SELECT run_id FROM ops.runs WHERE batch_id = ? AND run_id IN "
        "(SELECT run_id FROM ops.table_counts) ORDER BY started_at DESC LIMIT 1) "
        "ORDER BY table_name", params=[batch_id],
    )


@dataclass(frozen=True)
class BatchComparison:
    checks: pl.DataFrame  # check_id, asset, passed_before/after, failing_before/after, change
    counts: pl.DataFrame  # table_name, rows before, rows after, difference
    by_table: pl.DataFrame  # table_name, change, n_rows, n_patients (records diff)
    patients: pl.DataFrame  # change, n_patients


def _checks_diff(database: Path, ops: Path, before: str, after: str) -> pl.DataFrame:
    with safe_sql.open_read_only(database, ops_database=ops) as con:
        return diff_checks(con, before, after)


def _staging(snapshot: Path) -> dict[str, pl.DataFrame]:
    present = safe_sql.run_query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'staging'",
        snapshot,
    ).frame["table_name"].to_list()
    return {t.name: safe_sql.read_table(snapshot, f"staging.{t.name}")
            for t in TABLES if t.name in present}


def _records_diff(before: Path, after: Path):
    frames_before, frames_after = _staging(before), _staging(after)
    con = duckdb.connect(":memory:", config={"enable_external_access": False})
    try:
        sets = []
        for prefix, frames in (("before", frames_before), ("after", frames_after)):
            names = {}
            for table, frame in frames.items():
                con.register(f"{prefix}_{table}", frame)
                names[table] = (f"{prefix}_{table}",)
            sets.append(names)
        return diff_batches(con, sets[0], sets[1])
    finally:
        con.close()


def compare_batches(database: Path, ops: Path, before: str, after: str,
                    before_file: Path | None, after_file: Path | None) -> BatchComparison:
    checks = _checks_diff(database, ops, before, after)
    counts_before = table_counts(database, ops, before).select("table_name", before="rows_loaded")
    counts_after = table_counts(database, ops, after).select("table_name", after="rows_loaded")
    counts = counts_before.join(counts_after, on="table_name", how="full", coalesce=True)
    counts = counts.with_columns(difference=pl.col("after") - pl.col("before"))
    if before_file is not None and after_file is not None:
        records = _records_diff(before_file, after_file)
        by_table = records.by_table
        patients = records.patients.group_by("change").agg(n_patients=pl.len()).sort("change")
    else:
        by_table = pl.DataFrame()
        patients = pl.DataFrame()
    return BatchComparison(checks, counts, by_table, patients)

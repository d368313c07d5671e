"""Data quality (OHDSI Data Quality Dashboard style): pass / fail / not-applicable matrix by
Kahn category and context, failing checks with their counts and, for analyst and admin, the
failing records' keys; the quarantine by table and reason; the batch-to-batch diff;
freshness and the run history with blocked, refused and failed runs
(dashboards/data_quality.py)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from dashboards import audit, data
from dashboards import data_quality as dq
from dashboards.access import ROLES, allowed, require_role
from dashboards.formatting import date_text
from dashboards.navigation import ROW_LEVEL
from dashboards.shell import page_context
from pipelines.settings import paths

PAGE = "data_quality"

viewer = require_role(*ROLES)
context = page_context()
policy = context.policy
sees_keys = allowed(viewer, ROW_LEVEL)
ops = paths().ops
st.title("Data quality")
if not ops.is_file():
    st.info("No data-quality results yet: `published/ops.duckdb` is missing. Run the pipeline "
            "(`oligo run --batch <batch_id>`) to produce them.")
    st.stop()


def masked(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Counts of 1 to threshold−1 records as '<threshold' for the aggregate role."""
    if not policy.perturb:
        return frame
    return frame.with_columns(
        pl.when((pl.col(c) > 0) & (pl.col(c) < policy.threshold)).then(pl.lit(policy.small_label))
        .otherwise(pl.col(c).cast(pl.String)).alias(c)
        for c in columns
    )


database = context.database
runs = dq.runs(database, ops)
batches = dq.checked_batches(database, ops)
audit.record_view(viewer, PAGE, None, runs.height)

# --- freshness ---------------------------------------------------------------------------
info = context.provenance
published = runs.filter(pl.col("status") == "published")
last_published = published["finished_at"].max() if published.height else None
cols = st.columns(4)
cols[0].metric("Runs needing attention", f"{runs.filter(pl.col('status').is_in(list(data.ATTENTION_STATUSES))).height:,}")
cols[1].metric("Data cut-off", date_text(info.data_cutoff_date if info else None))
cols[2].metric("Last published", date_text(last_published))
if last_published is not None:
    age = (dt.datetime.now() - last_published).days
    cols[3].metric("Days since the last publish", f"{age:,}")
attention = runs.filter(pl.col("status").is_in(list(data.ATTENTION_STATUSES)))

tab_checks, tab_quarantine, tab_diff, tab_runs = st.tabs(
    ["Checks", "Quarantine", "Batch to batch", f"Runs ({attention.height} need attention)"]
)

with tab_checks:
    if not batches:
        st.info("No check results recorded yet.")
    else:
        batch = st.selectbox("Checked batch", batches, key="dq_batch")
        results = dq.latest_results(database, ops, batch)
        run_id = results["run_id"][0]
        outcomes = dq.with_outcome(results)["outcome"].value_counts()
        by_outcome = dict(zip(outcomes["outcome"], outcomes["count"], strict=True))
        top = st.columns(3)
        top[0].metric("Checks passed", f"{by_outcome.get('pass', 0):,}")
        top[1].metric("Checks failed", f"{by_outcome.get('fail', 0):,}")
        top[2].metric("Not applicable", f"{by_outcome.get('n/a', 0):,}")
        st.subheader("Checks by Kahn category and context")
        st.dataframe(
            dq.matrix(results), hide_index=True, key="dq_matrix", width="stretch",
            column_config={"Passed": st.column_config.ProgressColumn(
                "Passed", help="Share of the applicable checks that passed", min_value=0.0,
                max_value=1.0, format="percent")},
        )
        st.caption("Context: Staging is the delivery as loaded (checked against the contract), "
                   "Marts the derived tables. n/a: not applicable, no record to check.")
        st.subheader("Failing checks")
        failing = dq.failing_checks(results)
        if failing.is_empty():
            st.success("Every applicable check passed.")
        else:
            shown = masked(failing, ["failing_count"]).rename({
                "check_id": "Check", "asset": "Table", "severity": "Severity",
                "kahn_category": "Category", "kahn_subcategory": "Subcategory",
                "failing_count": "Failing records", "total_count": "Records checked",
                "failing_pct": "Failing, %", "threshold_pct": "Allowed, %",
            }).with_columns(pl.col("Failing, %").round(1))
            st.dataframe(shown, hide_index=True, key="dq_failing", width="stretch")
            if sees_keys:
                check = st.selectbox("Show the failing records of", failing["check_id"].to_list(),
                                     key="dq_drill")
                keys = dq.failing_keys(database, ops, run_id, check)
                audit.record(viewer, PAGE, "failing_keys", {"check": [check]},
                             keys.frame.height)
                st.caption(f"{keys.frame.height:,} record keys"
                           + (" (first 1,000)" if keys.truncated else "")
                           + " · pseudonymised · look them up with the SQL explorer")
                st.dataframe(keys.frame, hide_index=True, key="dq_keys", width="stretch")
            else:
                st.caption("The failing records' keys are shown to the analyst and admin roles.")

with tab_quarantine:
    quarantined = dq.quarantine_batches(database, ops)
    if not quarantined:
        st.success("No row has been quarantined in any batch.")
    else:
        qbatch = st.selectbox("Batch", quarantined, key="dq_quarantine_batch")
        table = dq.quarantine(database, ops, qbatch)
        by_table = table.group_by("table_name").agg(n_rows=pl.col("n_rows").sum()).sort(
            "n_rows", descending=True)
        st.dataframe(masked(by_table, ["n_rows"]).rename(
            {"table_name": "Table", "n_rows": "Quarantined rows"}),
            hide_index=True, key="dq_quarantine_tables")
        st.dataframe(masked(table, ["n_rows"]).rename({
            "table_name": "Table", "reason": "Reason", "rule_id": "Rule",
            "kahn_category": "Category", "n_rows": "Rows"}),
            hide_index=True, key="dq_quarantine", width="stretch")

with tab_diff:
    if len(batches) < 2:
        st.info("Two checked batches are needed for a comparison.")
    else:
        pick = st.columns(2)
        after = pick[1].selectbox("Later batch", batches, index=0, key="dq_after")
        before = pick[0].selectbox("Earlier batch", [b for b in batches if b != after],
                                   key="dq_before")
        frozen = set(data.frozen_batches())
        comparison = dq.compare_batches(
            database, ops, before, after,
            data.database_for(before) if before in frozen else None,
            data.database_for(after) if after in frozen else None,
        )
        changed = comparison.checks.filter(pl.col("change") != "still_passing")
        st.subheader("Checks that changed")
        if changed.is_empty():
            st.success("Every check has the same outcome in both batches (all passing).")
        else:
            st.dataframe(masked(changed, ["failing_before", "failing_after"]),
                         hide_index=True, key="dq_check_changes", width="stretch")
        st.subheader("Rows loaded per table")
        st.dataframe(comparison.counts, hide_index=True, key="dq_counts", width="stretch")
        if not comparison.by_table.is_empty():
            st.subheader("Records added, removed or changed")
            st.dataframe(masked(comparison.by_table, ["n_rows", "n_patients"]),
                         hide_index=True, key="dq_record_changes", width="stretch")
            st.caption("Compared key by key on the frozen snapshots' staging tables.")

with tab_runs:
    st.dataframe(
        runs.select("batch_id", "status", "started_at", "seconds", "message").with_columns(
            status=pl.col("status").replace(dq.STATUS_WORDS),
            started_at=pl.col("started_at").dt.strftime("%Y-%m-%d %H:%M"),
        ).rename({"batch_id": "Batch", "status": "Outcome", "started_at": "Started",
                  "seconds": "Seconds", "message": "Message"}),
        hide_index=True, key="dq_runs", width="stretch",
        column_config={"Message": st.column_config.TextColumn(width="large")},
    )
    for run in attention.iter_rows(named=True):  # the few runs that need attention, in full
        st.warning(f"**{run['batch_id']}** ({dq.STATUS_WORDS.get(run['status'], run['status'])}"
                   f", {run['started_at']:%Y-%m-%d %H:%M}):\n\n```\n{run['message'] or ''}\n```")

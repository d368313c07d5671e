"""SQL explorer (analyst and admin): one read-only query at a time on the published file
(and ops/dq), through `pipelines.safe_sql`; a schema browser with the tables' and columns'
comments; a row cap; CSV or Parquet download; every query, refused or not, in the audit log
(dashboards/sql_explorer.py)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import audit, sql_explorer
from dashboards.access import require_role
from dashboards.formatting import date_column_config
from dashboards.navigation import ROW_LEVEL
from dashboards.shell import page_context
from pipelines.settings import paths

PAGE = "sql"
EXAMPLE = ("SELECT omd_state, count(*) AS episodes\nFROM marts.episode_cohort\n"
           "GROUP BY omd_state\nORDER BY episodes DESC")

viewer = require_role(*ROW_LEVEL)
context = page_context()
ops = paths().ops if paths().ops.is_file() else None
st.title("SQL explorer")
st.caption(f"Batch **{context.batch}** · read-only: one SELECT, WITH, DESCRIBE, SHOW or "
           "SUMMARIZE statement; no writes, no settings, no file access · every query is "
           "recorded in the audit log")

editor, browser = st.columns([3, 2])
with browser:
    st.subheader("Schema")
    columns = sql_explorer.schema(context.database, ops)
    tables = columns.select("schema_name", "table_name", "table_comment").unique(
        maintain_order=True)
    names = [f"{s}.{t}" for s, t in zip(tables["schema_name"], tables["table_name"], strict=True)]
    default = names.index("marts.episode_cohort") if "marts.episode_cohort" in names else 0
    chosen = st.selectbox(f"Table ({len(names)})", names, index=default, key="sql_table")
    schema_name, table_name = chosen.split(".", 1)
    comment = tables.filter((pl.col("schema_name") == schema_name)
                            & (pl.col("table_name") == table_name))["table_comment"][0]
    st.caption(comment or "(no description)")
    st.dataframe(
        columns.filter((pl.col("schema_name") == schema_name)
                       & (pl.col("table_name") == table_name))
        .select(Column="column_name", Type="data_type", Meaning="column_comment"),
        hide_index=True, key="sql_columns", width="stretch", height=360,
    )

with editor:
    query = st.text_area("Query", value=EXAMPLE, height=200, key="sql_query")
    controls = st.columns([1, 1, 2])
    cap = controls[0].selectbox("Row cap", sql_explorer.ROW_CAPS,
                                index=sql_explorer.ROW_CAPS.index(sql_explorer.DEFAULT_CAP),
                                format_func=lambda n: f"{n:,} rows", key="sql_cap")
    run = controls[1].button("Run", type="primary", key="sql_run")
    if run:
        outcome = sql_explorer.run(query, context.database, ops, int(cap))
        audit.record(viewer, PAGE, f"query:{outcome.status}", {"sql": [query]},
                     outcome.frame.height if outcome.frame is not None else None)
        st.session_state["sql_outcome"] = outcome
    outcome = st.session_state.get("sql_outcome")
    if outcome is not None:
        if outcome.status == "refused":
            st.error(f"Refused: {outcome.message}", icon="🚫")
        elif outcome.status == "error":
            st.error(f"The query failed: {outcome.message}")
        else:
            frame = outcome.frame
            st.success(f"{frame.height:,} rows" + (f" (stopped at the row cap of {cap:,}; "
                                                     "aggregate or raise the cap)"
                                                     if outcome.truncated else ""))
            st.dataframe(frame, hide_index=True, key="sql_result", width="stretch",
                         column_config=date_column_config(frame))
            downloads = st.columns(2)
            downloads[0].download_button(
                "Download CSV", data=sql_explorer.csv_bytes(frame), file_name="query.csv",
                mime="text/csv", key="sql_csv",
                on_click=audit.download_callback(viewer, PAGE, "csv", None, frame.height),
            )
            downloads[1].download_button(
                "Download Parquet", data=sql_explorer.parquet_bytes(frame),
                file_name="query.parquet", mime="application/vnd.apache.parquet",
                key="sql_parquet",
                on_click=audit.download_callback(viewer, PAGE, "parquet", None, frame.height),
            )

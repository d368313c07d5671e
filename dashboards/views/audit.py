"""Audit log (admin): every page view, query, filter set, download and sign-in recorded in
the application database (`OLIGO_HOME/app.sqlite`, append-only); `oligo audit` prints the
same."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import audit
from dashboards.access import require_role
from dashboards.navigation import ADMIN
from pipelines import appdb

PAGE = "audit"

viewer = require_role(*ADMIN)
audit.record_view(viewer, PAGE, None, None)

st.title("Audit log")
st.caption(f"Application database `{appdb.database_path()}` · newest first · append-only")
controls = st.columns([2, 1])
user = controls[0].text_input("User (e-mail), empty for everyone", key="audit_user").strip()
limit = controls[1].number_input("Rows", min_value=10, max_value=10_000, value=500, step=100,
                                 key="audit_limit")
entries = appdb.read_audit(limit=int(limit), user=user or None)
if not entries:
    st.info("No audit entries yet" + (f" for {user}" if user else "") + ".")
    st.stop()
frame = pl.DataFrame([e.__dict__ for e in entries]).rename(
    {"rows_before_protection": "rows (before protection)"}
)
st.dataframe(frame, hide_index=True, key="audit_table")

"""The dashboards' audit trail: who saw what (`pipelines.appdb`, table `audit_log`).

`record(viewer, page, action, filters, rows_before_protection)` appends one row: the
viewer's e-mail and role, the time, the page, the action (`view`, `query`, `download`, …),
the filter set and how many rows stood behind what was shown, before disclosure control.
`record_view` is the page-view form: one row per change of page, filter or role in a
session, not one per Streamlit rerun.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import streamlit as st

from dashboards.access import Viewer
from pipelines import appdb

LAST_VIEW_KEY = "_oligo_audit_last_view"


def record(
    viewer: Viewer,
    page: str,
    action: str,
    filters: Mapping | None,
    rows_before_protection: int | None,
) -> None:
    appdb.append_audit(
        user=viewer.email or "(signed out)",
        role=viewer.role,
        is_demo=viewer.is_demo,
        page=page,
        action=action,
        filters=dict(filters or {}),
        rows_before_protection=rows_before_protection,
    )


def record_view(
    viewer: Viewer, page: str, filters: Mapping | None, rows_before_protection: int | None
) -> None:
    """A page view, recorded once per (page, filters, role, rows) of this session."""
    signature = json.dumps(
        [page, viewer.email, viewer.role, dict(filters or {}), rows_before_protection],
        sort_keys=True, default=str,
    )
    if st.session_state.get(LAST_VIEW_KEY) == signature:
        return
    record(viewer, page, "view", filters, rows_before_protection)
    st.session_state[LAST_VIEW_KEY] = signature


def download_callback(viewer: Viewer, page: str, what: str, filters: Mapping | None,
                      rows: int | None):
    """An `on_click` for `st.download_button` that records the download."""
    def callback() -> None:
        record(viewer, page, f"download:{what}", filters, rows)

    return callback

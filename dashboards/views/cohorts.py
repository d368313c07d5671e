"""Saved cohorts: name and save the sidebar's filter (application database), reopen it,
share it, and compare two saved cohorts side by side (Table 1 with SMDs, overall survival,
local failure) (dashboards/cohort_store.py, dashboards/cohort_compare.py)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import audit, charts, cohort_store, page_charts
from dashboards.access import ROLES, require_role
from dashboards.cohort_compare import compare
from dashboards.filters import FACETS, RANGES, describe_filters
from dashboards.formatting import p_value
from dashboards.shell import PENDING_FILTERS_KEY, page_context

PAGE = "cohorts"
OPEN_PARAM = "open"
STUDY = "views/study.py"

viewer = require_role(*ROLES)
context = page_context()
owner = viewer.email


def apply_cohort(cohort: cohort_store.SavedCohort) -> None:
    """Hand a saved filter to the sidebar for the next run, as a shared URL's filter is
    (the sidebar's widgets exist already in this run; labels a batch lacks are dropped)."""
    st.session_state[PENDING_FILTERS_KEY] = {
        key: list(cohort.filters.get(key, [])) for key in [f.key for f in FACETS]
        + [r.key for r in RANGES]
    }


wanted = st.query_params.get(OPEN_PARAM)
if wanted and st.session_state.get("_cohort_opened") != wanted:
    st.session_state["_cohort_opened"] = wanted
    try:
        opened = cohort_store.open_cohort(int(wanted), owner)
    except (ValueError, cohort_store.CohortError) as exc:
        st.error(f"The cohort link cannot be opened: {exc}.")
    else:
        apply_cohort(opened)
        audit.record(viewer, PAGE, "open_cohort", opened.filters, None)
        del st.query_params[OPEN_PARAM]
        st.switch_page(STUDY)

st.title("Saved cohorts")
saved = cohort_store.visible_cohorts(owner)
audit.record_view(viewer, PAGE, context.filters, len(saved))

st.subheader("Save the current filter")
st.caption(f"Current filter: {describe_filters(context.filters)}")
with st.form("save_cohort", clear_on_submit=True, border=True):
    name = st.text_input("Name", max_chars=cohort_store.MAX_NAME, key="cohort_name")
    shared = st.checkbox("Share with every user of the registry dashboards",
                         key="cohort_shared")
    if st.form_submit_button("Save cohort", type="primary"):
        try:
            made = cohort_store.save_cohort(owner, name, context.filters, context.batch,
                                            shared=shared)
        except cohort_store.CohortError as exc:
            st.error(f"Not saved: {exc}.")
        else:
            audit.record(viewer, PAGE, "save_cohort", made.filters, None)
            st.success(f"Saved “{made.name}” (cohort {made.id}).")
            saved = cohort_store.visible_cohorts(owner)

st.subheader("Your cohorts and shared cohorts")
if not saved:
    st.info("No saved cohort yet.")
    st.stop()
listing = pl.DataFrame({
    "Cohort": [c.id for c in saved],
    "Name": [c.name for c in saved],
    "Owner": ["you" if c.owner == owner else c.owner for c in saved],
    "Filter": [describe_filters(c.filters) for c in saved],
    "Shared": [c.shared for c in saved],
    "Saved": [c.saved_at[:10] for c in saved],
    "Link": [f"/cohorts?{OPEN_PARAM}={c.id}" for c in saved],
})
st.dataframe(listing, hide_index=True, key="cohort_list", width="stretch")
by_id = {c.id: c for c in saved}
pick = st.columns([3, 1, 1])
chosen = pick[0].selectbox("Cohort", list(by_id), key="cohort_pick",
                           format_func=lambda i: f"{i}: {by_id[i].name}")
if pick[1].button("Open in the study view", key="cohort_open"):
    apply_cohort(by_id[chosen])
    audit.record(viewer, PAGE, "open_cohort", by_id[chosen].filters, None)
    st.switch_page(STUDY)
mine = by_id[chosen].owner == owner
if mine and pick[2].button("Unshare" if by_id[chosen].shared else "Share", key="cohort_share"):
    cohort_store.set_shared(chosen, owner, not by_id[chosen].shared)
    st.rerun()

st.subheader("Compare two saved cohorts")
if len(saved) < 2:
    st.info("Save a second cohort to compare two.")
    st.stop()
sides = st.columns(2)
first = sides[0].selectbox("Cohort A", list(by_id), key="compare_a",
                           format_func=lambda i: f"{i}: {by_id[i].name}")
second = sides[1].selectbox("Cohort B", [i for i in by_id if i != first], key="compare_b",
                            format_func=lambda i: f"{i}: {by_id[i].name}")
names = {f"A: {by_id[first].name}": by_id[first].filters,
         f"B: {by_id[second].name}": by_id[second].filters}
result = compare(context.database, names, context.policy)
audit.record_view(viewer, f"{PAGE}:compare", {"cohorts": [str(first), str(second)]}, None)
if result.overlaps:
    st.warning(f"{result.overlap_label} episodes are in both cohorts: the groups overlap, so "
               "no test between them is shown.")

st.markdown("**Table 1** (standardised mean difference: above 0.1 suggests imbalance)")
st.dataframe(result.table_one, hide_index=True, key="compare_table_one", width="stretch",
             height=35 * (result.table_one.height + 1) + 3)
left, right = st.columns(2)
with left:
    survival = result.survival
    if survival.groups:
        st.plotly_chart(charts.kaplan_meier_figure(
            survival.curve, survival.at_risk, title="Overall survival, first episode",
            y_title="Probability", groups=survival.groups), key="compare_km")
        if survival.logrank_p is not None and not result.overlaps:
            st.markdown(f"Log-rank: **{p_value(survival.logrank_p)}**")
    st.dataframe(survival.table, hide_index=True, key="compare_km_table", width="stretch")
with right:
    cif = result.local_failure
    if cif.groups:
        st.plotly_chart(page_charts.cif_figure(
            cif.curve, cif.at_risk, title="Local failure per treated lesion",
            y_title="Cumulative incidence", groups=cif.groups), key="compare_cif")
        if cif.gray_p is not None and not result.overlaps:
            st.markdown(f"Gray's test: **{p_value(cif.gray_p)}**")
    else:
        st.info("Too few treated lesions to draw local failure for these cohorts.")
    st.dataframe(cif.table, hide_index=True, key="compare_cif_table", width="stretch")

"""Toxicity of radiotherapy courses: worst CTCAE grade per course (acute, late), grade ≥ 3
rates with Wilson 95% CIs by attribution and by organ treated, and late toxicity as a
cumulative incidence with death competing (dashboards/toxicity.py)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import audit, disclosure, page_charts, pages_data, toxicity
from dashboards.access import ROLES, require_role
from dashboards.filters import describe_filters
from dashboards.shell import page_context
from pipelines.clinical.parameters import DEFAULT_PARAMETERS

PAGE = "toxicity"

viewer = require_role(*ROLES)
context = page_context()
policy = context.policy
st.title("Toxicity")
st.caption(
    f"Filter: {describe_filters(context.filters)} · radiotherapy courses of the patients with "
    f"a matching episode · CTCAE v5.0 · acute: onset 0–{DEFAULT_PARAMETERS.acute_toxicity_days}"
    " days after the first fraction, late: after"
)
parts = pages_data.courses(context.database, context.filters)
summary = parts["summary"]
audit.record_view(viewer, PAGE, context.filters, summary.height)
if summary.is_empty():
    st.info("No radiotherapy course for this filter.")
    st.stop()
total = disclosure.protected_total(summary, unit="course_id", policy=policy)
st.metric("Radiotherapy courses", total.label)

st.subheader("Worst grade per course")
rt_only = st.toggle("Only adverse events attributed to radiotherapy (or both)", value=False,
                    key="tox_rt_only")
st.dataframe(toxicity.grade_table(summary, policy, rt_only=rt_only), hide_index=True,
             key="tox_grades", width="stretch")
st.caption("Courses by their worst grade in each window; 0: no adverse event recorded.")

left, right = st.columns(2)
with left:
    st.subheader("Grade ≥ 3 by attribution")
    flags = toxicity.attribution_flags(summary, parts["events"])
    st.dataframe(toxicity.rate_rows(flags, policy, by="attribution", title="Attribution"),
                 hide_index=True, key="tox_by_attribution", width="stretch")
    st.caption("Share of courses with an adverse event of grade 3 or more of that attribution "
               "(acute or late), Wilson 95% CI.")
with right:
    st.subheader("Grade ≥ 3 by organ treated")
    by_organ = summary.join(parts["organs"], on="course_id").select(
        "course_id", "patient_id", "organ", event=pl.col("has_grade3plus")
    )
    st.dataframe(toxicity.rate_rows(by_organ, policy, by="organ", title="Organ treated"),
                 hide_index=True, key="tox_by_organ", width="stretch")
    st.caption("Any attribution. A course treating several organs counts under each.")

st.subheader("Late toxicity: cumulative incidence")
controls = st.columns(2)
min_grade = controls[0].segmented_control("Grade at least", [2, 3], default=2,
                                          key="tox_late_grade") or 2
late_rt = controls[1].toggle("Attributed to radiotherapy (or both)", value=True,
                             key="tox_late_rt")
late = pages_data.late_toxicity(context.database, context.filters, int(min_grade), late_rt,
                                policy)
if not late.groups:
    st.info("Too few courses or events to draw the late-toxicity curve for this filter.")
else:
    figure = page_charts.cif_figure(
        late.curve, late.at_risk, title=f"Late toxicity of grade ≥ {min_grade}",
        y_title="Cumulative incidence", groups=late.groups,
    )
    st.plotly_chart(figure, key="tox_late_figure", config={"displaylogo": False})
    st.caption(f"{late.n_label} courses · from the first fraction · death before the event is "
               "competing · censored at the last contact or the cut-off · shaded: 95% CI")
st.dataframe(late.table, hide_index=True, key="tox_late_table", width="stretch")

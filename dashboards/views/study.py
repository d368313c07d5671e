"""Study view: headline counts, linked charts (each a filter for the others), cohort flow,
Table 1 and, for roles with row-level access, the filtered episode list."""

from __future__ import annotations

from functools import partial

import streamlit as st

from dashboards import audit, charts, data
from dashboards.access import ROLES, require_role
from dashboards.disclosure import rows_allowed
from dashboards.filters import FACETS, FACETS_BY_COLUMN, describe_filters, facet_word
from dashboards.formatting import date_column_config
from dashboards.shell import page_context, select_from_chart
from dashboards.table_one_display import html_table

PAGE = "study"
CHART_COLUMNS = 3
FEATURED = ("omd_state", "organs", "treatment_strategy")

viewer = require_role(*ROLES)
context = page_context()
view = data.study_view(context.database, context.filters, context.policy)
numbers = view.headline
audit.record_view(viewer, PAGE, context.filters, view.rows_before_protection)

st.title("Study view")
st.caption(f"Filter: {describe_filters(context.filters)}")

columns = st.columns(4)
columns[0].metric("Patients", numbers.patients)
columns[1].metric("OMD episodes", numbers.episodes)
columns[2].metric(
    "All sites treated", numbers.all_sites_treated, numbers.all_sites_treated_percent,
    delta_color="off", delta_arrow="off",
)
columns[3].metric(
    "Median follow-up (reverse KM)", numbers.median_followup, numbers.median_followup_ci,
    delta_color="off", delta_arrow="off",
)

st.subheader("Cohort")
top = st.columns([3, 1])
top[0].caption("OMD episodes per category. Click a bar (shift-click for several) to filter; "
               "every category is also a filter in the sidebar.")
# Each chart costs the browser time to draw (docs/dashboards.md, Speed): three open the
# page, the other nine on request.
show_all = top[1].toggle("Show all twelve charts", value=False, key="study_all_charts")
shown = FACETS if show_all else [f for f in FACETS if f.key in FEATURED]
grid = st.columns(CHART_COLUMNS)
for index, facet in enumerate(shown):
    selected = context.filters.get(facet.key, [])
    spec = charts.facet_bar(view.bars[facet.key], title=facet.title, selected=selected,
                            threshold=context.threshold, display=partial(facet_word, facet))
    # A new key whenever the facet's filter changes, so an old selection never lingers.
    chart_key = f"chart_{facet.key}_{abs(hash(tuple(selected)))}"
    with grid[index % CHART_COLUMNS]:
        st.vega_lite_chart(
            spec,
            key=chart_key,
            on_select=partial(select_from_chart, facet.key, chart_key),
            selection_mode=charts.SELECTION,
            width="stretch",
        )

st.subheader("Cohort flow")
flow_column, _ = st.columns([2, 3])
with flow_column:
    for index, box in enumerate(charts.flow_boxes(view.flow)):
        if index:
            st.markdown(":gray[↓]", text_alignment="center")
        st.container(border=True, key=f"cohort_flow_{index}").markdown(box)
with st.container():
    st.subheader("Table 1: baseline characteristics")
    groupings = ["(none)"] + [f.column for f in FACETS if f.column and f.column != "center_id"]
    grouping = st.selectbox(
        "Group by", groupings, index=groupings.index("treatment_strategy"),
        format_func=lambda c: FACETS_BY_COLUMN[c].title if c in FACETS_BY_COLUMN else c,
        key="table_one_group",
    )
    table = data.table_one_view(
        context.database, context.filters, None if grouping == "(none)" else grouping,
        context.policy,
    )
    # Static HTML: every row visible, and no data-grid scripts for the browser to load.
    st.html(html_table(table))
    st.download_button(
        "Download Table 1 (CSV)",
        data=lambda frame=table: frame.write_csv(),
        file_name="table-1.csv",
        mime="text/csv",
        on_click=audit.download_callback(viewer, PAGE, "table_one", context.filters,
                                         view.rows_before_protection),
        key="download_table_one",
    )

st.subheader("Episodes")
if not rows_allowed(context.policy) or view.episodes is None:
    st.info(
        "The episode list and its CSV are row-level data, for the analyst role. The counts "
        "above are protected (see the sidebar)."
    )
else:
    episodes = view.episodes
    st.caption(f"{episodes.height:,} episodes match the filter; the first 200 are shown.")
    st.dataframe(episodes.head(200), hide_index=True, height=300, key="episode_list",
                 column_config=date_column_config(episodes))
    st.download_button(
        "Download the filtered episodes (CSV)",
        data=lambda frame=episodes: frame.write_csv(),
        file_name=f"omd-episodes-{context.provenance.batch_id if context.provenance else context.batch}.csv",
        mime="text/csv",
        on_click=audit.download_callback(viewer, PAGE, "episodes", context.filters,
                                         episodes.height),
        key="download_episodes",
    )

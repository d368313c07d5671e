"""Study view: headline counts, linked charts (each a filter for the others), cohort flow,
Table 1 and the filtered episode list."""

from __future__ import annotations

from functools import partial

import streamlit as st

from dashboards import charts, data
from dashboards.filters import FACETS, FACETS_BY_COLUMN, describe_filters
from dashboards.shell import page_context, select_from_chart

CHART_COLUMNS = 3

context = page_context()
filtered, numbers, bars_by_facet, steps = data.study_view(
    context.database, context.filters, context.threshold
)

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
st.caption("OMD episodes per category. Click a bar (shift-click for several) to filter.")
grid = st.columns(CHART_COLUMNS)
for index, facet in enumerate(FACETS):
    selected = context.filters.get(facet.key, [])
    figure = charts.facet_bar(bars_by_facet[facet.key], title=facet.title, selected=selected,
                              threshold=context.threshold)
    # A new key whenever the facet's filter changes, so an old selection never lingers.
    chart_key = f"chart_{facet.key}_{abs(hash(tuple(selected)))}"
    with grid[index % CHART_COLUMNS]:
        st.plotly_chart(
            figure,
            key=chart_key,
            on_select=partial(select_from_chart, facet.key, chart_key),
            selection_mode="points",
            config={"displayModeBar": False},
        )

left, right = st.columns([2, 3])
with left:
    st.subheader("Cohort flow")
    st.plotly_chart(charts.cohort_flow(steps), config={"displayModeBar": False},
                    key="cohort_flow")
with right:
    st.subheader("Table 1: baseline characteristics")
    groupings = ["(none)"] + [f.column for f in FACETS if f.column and f.column != "center_id"]
    grouping = st.selectbox(
        "Group by", groupings, index=groupings.index("treatment_strategy"),
        format_func=lambda c: FACETS_BY_COLUMN[c].title if c in FACETS_BY_COLUMN else c,
        key="table_one_group",
    )
    table = data.table_one_view(
        context.database, context.filters, None if grouping == "(none)" else grouping,
        context.threshold,
    )
    st.dataframe(table, hide_index=True, height=420, key="table_one")

st.subheader("Episodes")
if filtered.height < context.threshold:
    st.info(f"Fewer than {context.threshold} episodes match: the list is not shown.")
else:
    st.caption(f"{numbers.episodes} episodes match the filter; the first 200 are shown.")
    st.dataframe(filtered.head(200), hide_index=True, height=300)
    st.download_button(
        "Download the filtered episodes (CSV)",
        data=lambda frame=filtered: frame.write_csv(),
        file_name=f"omd-episodes-{context.provenance.batch_id if context.provenance else context.batch}.csv",
        mime="text/csv",
        on_click="ignore",
        key="download_episodes",
    )

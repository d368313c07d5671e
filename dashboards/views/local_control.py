"""Local control: cumulative incidence of local failure per treated lesion, death as a
competing risk, by organ, technique or BED10 adequacy, with Gray's test, numbers at risk and
the 12- and 24-month values (dashboards/local_control.py, dashboards/cif_summary.py)."""

from __future__ import annotations

import streamlit as st

from dashboards import audit, page_charts, pages_data
from dashboards.access import ROLES, require_role
from dashboards.filters import describe_filters
from dashboards.formatting import p_value
from dashboards.local_control import GROUPING_TITLES
from dashboards.shell import page_context

PAGE = "local_control"

viewer = require_role(*ROLES)
context = page_context()
st.title("Local control")
st.caption(
    f"Filter: {describe_filters(context.filters)} · lesions of the patients with a matching "
    "episode · one row per radically treated lesion, from the first day of its first radical "
    "local therapy"
)

grouping = st.segmented_control(
    "Compare by", list(GROUPING_TITLES), format_func=GROUPING_TITLES.get, default="none",
    key="lc_grouping", selection_mode="single",
) or "none"
summary, n_rows = pages_data.local_control_summary(
    context.database, context.filters, grouping, context.policy
)
audit.record_view(viewer, PAGE, context.filters | {"group": [grouping]}, n_rows)

if grouping == "bed10_adequacy":
    st.caption("BED10 adequacy is defined for lung lesions treated with radiotherapy (course "
               "BED10 ≥ 100 Gy, α/β = 10): only those lesions are analysed.")
if not summary.groups:
    st.info("No group is large enough to draw a curve for this filter"
            + (f": {'; '.join(f'{g} ({why})' for g, why in summary.refused.items())}."
               if summary.refused else "."))
else:
    figure = page_charts.cif_figure(
        summary.curve, summary.at_risk, title="Cumulative incidence of local failure",
        y_title="Local failure", groups=summary.groups,
    )
    st.plotly_chart(figure, key="lc_figure", config={"displaylogo": False})
    notes = [f"{summary.n_label} lesions analysed",
             "shaded: 95% CI (log(−log))", "ticks: censored", "death before local failure is a "
             "competing event (Aalen–Johansen), not censored"]
    if summary.refused:
        notes.append("no curve for: " + "; ".join(f"{g} ({why})"
                                                  for g, why in summary.refused.items()))
    st.caption(" · ".join(notes))
    if summary.gray_p is not None:
        st.markdown(f"Gray's test across groups: **{p_value(summary.gray_p)}** "
                    f"({len(summary.groups)} groups; lesions of one patient are treated as "
                    "independent)")

st.subheader("Estimates")
st.dataframe(summary.table, hide_index=True, key="lc_table", width="stretch")
st.caption("Cumulative incidence of local failure at 12 and 24 months with its 95% CI; "
           "'—' where follow-up is shorter. Local failure: confirmed progression of the "
           "treated lesion (docs/outcomes.md).")

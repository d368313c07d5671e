"""Survival: Kaplan–Meier curves for OS, PFS and widespread progression of the filtered
episodes, by any grouping, with medians, 12/24-month rates, log-rank and hazard ratios."""

from __future__ import annotations

import dataclasses
import math

import streamlit as st

from dashboards import audit, charts, data
from dashboards.access import ROLES, require_role
from dashboards.disclosure import unit_words
from dashboards.filters import FACETS_BY_COLUMN, describe_filters
from dashboards.formatting import p_value
from dashboards.shell import page_context
from pipelines.clinical.parameters import DEFAULT_PARAMETERS

PAGE = "survival"
# Groupings defined by treatment after the episode date (immortal time from that date).
LCT_GROUPINGS = ("treatment_strategy", "all_sites_treated")
TREATMENT_GROUPINGS = (*LCT_GROUPINGS, "has_sbrt", "has_surgery", "has_thermal_ablation",
                       "is_primary_treated", "is_regional_nodes_treated",
                       "has_immunotherapy_after", "fraction_lesions_treated")
NO_GROUP = "(none)"
ORIGINS = {"episode": "episode date", "lct": "first day of LCT"}
# docs/clinical-rules.md section 7: the landmark may not be shorter than the LCT window.
MIN_LANDMARK_MONTHS = math.ceil(
    DEFAULT_PARAMETERS.lct_window_days / DEFAULT_PARAMETERS.days_per_month
)


def _column_title(column: str) -> str:
    facet = FACETS_BY_COLUMN.get(column)
    return facet.title if facet else column.replace("_", " ")


viewer = require_role(*ROLES)
context = page_context()
st.title("Survival")
st.caption(f"Filter: {describe_filters(context.filters)}")

controls = st.columns([2, 2, 2, 2])
endpoint = controls[0].selectbox("Endpoint", list(data.ENDPOINTS), key="survival_endpoint")
origin = controls[1].radio(
    "Time from", list(ORIGINS), format_func=ORIGINS.get, key="survival_origin", horizontal=True
)
groupings = [NO_GROUP] + data.grouping_choices(context.database)
group = controls[2].selectbox(
    "Group by", groupings, index=groupings.index("treatment_strategy")
    if "treatment_strategy" in groupings else 0,
    format_func=lambda c: c if c == NO_GROUP else _column_title(c), key="survival_group",
)
all_episodes = controls[3].toggle(
    "All episodes (cluster-robust)", value=False, key="survival_all_episodes",
    help="By default each patient's first OMD episode only: episodes of one patient are not "
    "independent. With all episodes, hazard ratios use the cluster-robust variance.",
)
landmark = None
by_lct = group in LCT_GROUPINGS
if origin == "episode" and by_lct:
    # A comparison by local treatment from the episode date credits the treated with the
    # time before their treatment (immortal time): the landmark analysis is the default.
    use_landmark = st.toggle(
        "Landmark analysis (recommended for a comparison by local treatment)", value=True,
        key="survival_landmark",
        help="Only episodes still at risk at the landmark, grouped by LCT started before it, "
        "time counted from the landmark (Anderson, Cain & Gelber, J Clin Oncol 1983).",
    )
    if use_landmark:
        months = st.number_input(
            "Landmark, months", min_value=MIN_LANDMARK_MONTHS, max_value=36,
            value=max(DEFAULT_PARAMETERS.landmark_months, MIN_LANDMARK_MONTHS), step=1,
            key="survival_landmark_months",
        )
        landmark = float(months)
        st.caption(f"Groups: local therapy started by {landmark:g} months or not, among "
                   "episodes still at risk then; time from the landmark.")
if origin == "episode" and (group in TREATMENT_GROUPINGS) and landmark is None:
    st.warning(
        "**Immortal-time bias.** This compares groups defined by a treatment given after the "
        "episode date, counting time from the episode date: a patient must survive long "
        "enough to be treated, so the treated group looks better than it is. Use the "
        "landmark analysis, or time from the first day of LCT.", icon="⚠️",
    )

request = data.SurvivalRequest(
    endpoint=endpoint,
    origin=origin,
    group=None if group == NO_GROUP or landmark is not None else group,
    first_episode_only=not all_episodes,
    landmark_months=landmark,
)
summary = data.survival_summary(context.database, context.filters, request, context.policy)
audit.record_view(
    viewer, PAGE, {"filters": context.filters, "request": dataclasses.asdict(request)},
    summary.rows_before_protection,
)

if not summary.groups:
    st.info(
        "No group is large enough to draw a curve for this filter"
        + (f" (at least {context.policy.min_group} {unit_words('episode_id')} and "
           f"{context.policy.threshold} events per group in the aggregate role)"
           if context.policy.perturb else "")
        + ": nothing can be estimated. Widen the filter or group less finely."
    )
    st.dataframe(summary.table, hide_index=True, key="survival_table")
    st.stop()

title = f"{endpoint} from the {ORIGINS[origin]}"
if landmark is not None:
    title += f", landmark at {landmark:g} months"
figure = charts.kaplan_meier_figure(
    summary.curve, summary.at_risk, title=title, y_title="Probability", groups=summary.groups
)
st.plotly_chart(figure, key="km_figure", config={"displaylogo": False})
st.caption(
    f"{summary.n_label} episodes analysed · shaded: 95% CI (log-log) · ticks: censored · "
    "numbers at risk under the plot"
    + (" · too small to show a curve: "
       + "; ".join(f"{g} ({why})" for g, why in summary.too_small.items())
       if summary.too_small else "")
)
st.download_button(
    "Download the figure (HTML)",
    data=lambda fig=figure: fig.to_html(include_plotlyjs=True, full_html=True),
    file_name=f"km-{request.endpoint.lower().replace(' ', '-')}.html",
    mime="text/html",
    on_click=audit.download_callback(
        viewer, PAGE, "km_figure", {"filters": context.filters}, summary.rows_before_protection
    ),
    key="download_km",
)

st.subheader("Estimates")
median_column = "Median, months (95% CI)"
st.markdown(
    "\n".join(
        f"- Median, **{row['Group']}**: {row[median_column]}"
        for row in summary.table.iter_rows(named=True)  # one row per group
    )
)
st.dataframe(summary.table, hide_index=True, key="survival_table")
if summary.logrank_p is not None:
    st.markdown(f"Log-rank test across groups: **{p_value(summary.logrank_p)}**")
if not summary.hazard_ratios.is_empty():
    st.markdown("Cox proportional hazards, each group against the reference:")
    st.dataframe(summary.hazard_ratios, hide_index=True, key="hazard_ratios")

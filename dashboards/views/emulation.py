"""Comparisons: target-trial emulation of four oligometastatic NSCLC trials beside their
published figures, and the propensity-score balance (Love plot) of all sites treated vs not.
Observational results, labelled as such. Data: dashboards/emulation_data.py."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from dashboards import emulation_data as data
from dashboards.access import ROLES, require_role
from dashboards.disclosure import gate_message
from dashboards.shell import page_context
from pipelines.stats.emulation import PROTOCOLS

viewer = require_role(*ROLES)
context = page_context()
st.title("Comparisons")
st.warning("Observational: registry patients were not randomised. These estimates hold only "
           "if the baseline variables capture why local therapy was given.", icon="⚠️")

emulation_tab, balance_tab = st.tabs(["Target-trial emulation", "Propensity-score balance"])

with emulation_tab:
    controls = st.columns([3, 1])
    trial = controls[0].selectbox("Trial", list(PROTOCOLS), key="emulation_trial",
                                  format_func=lambda t: PROTOCOLS[t].title)
    rmst_months = controls[1].number_input("RMST horizon, months", min_value=6, max_value=60,
                                           value=24, step=6, key="emulation_rmst")
    protocol = PROTOCOLS[trial]
    st.caption(protocol.citation)
    st.markdown(f"**Eligibility:** {protocol.eligibility}  \n**Time zero:** {protocol.time_zero}"
                f"  \n**Grace period for local therapy:** {protocol.grace_days / 30.4375:g} months"
                "  \n**Strategies:** LCT of all sites within the grace period vs no LCT "
                "(cloned, censored at deviation, inverse-probability-of-censoring weighted)")
    try:
        results, steps = data.emulation(context.database, trial, float(rmst_months))
    except ValueError as exc:
        st.info(f"Not estimable on this batch: {exc}")
        results, steps = [], []
    if steps:
        st.subheader("Attrition")
        st.dataframe(data.attrition_table(steps, context.policy), hide_index=True)
    for result in results:
        st.subheader(f"{result.endpoint.upper()} from time zero")
        st.dataframe(data.arms_table(result, context.policy), hide_index=True)
        gate = data.curve_gate(result, context.policy)
        hr = result.hazard_ratio
        if hr is not None and len(gate.allowed) == 2:
            st.metric("Hazard ratio, LCT vs no LCT (95% CI)", f"{hr['hazard_ratio']:.2f}",
                      f"{hr['ci_lower']:.2f}–{hr['ci_upper']:.2f}", delta_color="off",
                      delta_arrow="off")
        st.caption("Published")
        st.dataframe(data.reference_table(result), hide_index=True)
        if (message := gate_message(gate)) is not None:
            st.caption(message)
        if result.curves is not None and gate.allowed:
            figure = go.Figure()
            for arm, part in result.curves.partition_by("arm", as_dict=True).items():
                if arm[0] not in gate.allowed:
                    continue
                figure.add_trace(go.Scatter(x=part["time_months"], y=part["survival"],
                                            mode="lines", line_shape="hv",
                                            name=data.ARM_NAMES[arm[0]]))
            figure.update_layout(xaxis_title="months from time zero", yaxis_title="weighted survival",
                                 yaxis_range=[0, 1], height=360, margin={"t": 20})
            st.plotly_chart(figure, key=f"emulation_curve_{result.endpoint}")
        for note in result.notes:
            st.caption(note)

with balance_tab:
    st.caption("All sites treated vs not, first episode per patient, PFS. Standardised mean "
               "differences before and after weighting or matching; |SMD| < 0.1 is the usual "
               "target.")
    covariates = st.multiselect("Propensity model", data.BALANCE_CHOICES,
                                default=["age_at_episode", "ecog_at_diagnosis", "n_lesions",
                                         "has_brain"], key="balance_covariates")
    method = st.radio("Method", ["iptw", "iptw-att", "match"], horizontal=True,
                      key="balance_method",
                      format_func={"iptw": "IPTW (ATE)", "iptw-att": "IPTW (ATT)",
                                   "match": "1:1 caliper matching"}.get)
    if covariates:
        try:
            result = data.balance(context.database, tuple(covariates), method)
        except ValueError as exc:
            st.info(f"Not estimable on this batch: {exc}")
        else:
            table = result.table
            figure = go.Figure()
            figure.add_trace(go.Scatter(x=table["smd_before"].abs(), y=table["term"],
                                        mode="markers", name="before"))
            figure.add_trace(go.Scatter(x=table["smd_after"].abs(), y=table["term"],
                                        mode="markers", name="after"))
            figure.add_vline(x=0.1, line_dash="dash")
            figure.update_layout(xaxis_title="|standardised mean difference|", height=360,
                                 margin={"t": 20})
            st.plotly_chart(figure, key="love_plot")
            st.dataframe(table, hide_index=True)
            if result.hazard_ratio is not None:
                hr = result.hazard_ratio
                st.metric("Weighted PFS hazard ratio (robust 95% CI)",
                          f"{hr['hazard_ratio']:.2f}", f"{hr['ci_lower']:.2f}–{hr['ci_upper']:.2f}",
                          delta_color="off", delta_arrow="off")
            analysed, dropped = data.balance_counts(result, context.policy)
            st.caption(f"{analysed} patients analysed (first episodes); {dropped} with a "
                       "missing covariate left out (complete cases).")

"""Patient timelines (analyst and admin: row-level data): one patient's course lane by lane
(lesions, local treatments, systemic lines, assessments with their OMD state, death or
censoring), and a swimmer plot of the filtered cohort (dashboards/timeline.py)."""

from __future__ import annotations

import streamlit as st

from dashboards import audit, data, page_charts, pages_data, timeline
from dashboards.access import require_role
from dashboards.filters import describe_filters
from dashboards.formatting import date_text
from dashboards.labels import label
from dashboards.navigation import ROW_LEVEL
from dashboards.shell import page_context

PAGE = "timeline"
PATIENT_PARAM = "patient"

viewer = require_role(*ROW_LEVEL)
context = page_context()
st.title("Patient timelines")
st.caption(f"Filter: {describe_filters(context.filters)} · row-level view (pseudonymised ids)")

cohort = pages_data.cohort_rows(context.database, context.filters)
patients = sorted(set(cohort["patient_id"].to_list()))
tab_patient, tab_swimmer = st.tabs(["One patient", "Swimmer plot"])

with tab_patient:
    if not patients:
        st.info("No patient matches the filter.")
    else:
        wanted = st.query_params.get(PATIENT_PARAM)
        if wanted in patients and "timeline_patient" not in st.session_state:
            st.session_state["timeline_patient"] = wanted
        patient = st.selectbox(f"Patient ({len(patients):,} match the filter; type to search)",
                               patients, key="timeline_patient")
        st.query_params[PATIENT_PARAM] = patient
        audit.record_view(viewer, PAGE, context.filters | {"patient": [patient]}, 1)
        cutoff = context.provenance.data_cutoff_date if context.provenance else None
        course = timeline.patient_course(context.database, patient, cutoff)
        if not course.found:
            st.warning("This patient is not in the chosen batch.")
        else:
            row = course.frames["patient"].row(0, named=True)
            diagnosis = course.frames["diagnosis"]["diagnosis_date"][0]
            facts = st.columns(4)
            facts[0].metric("Sex", label("sex", row["sex"]))
            facts[1].metric("Born", str(row["birth_year"]))
            facts[2].metric("Diagnosis", date_text(diagnosis))
            facts[3].metric("Vital status", label("vital_status", row["vital_status"]),
                            f"died {date_text(row['death_date'])}" if row["death_date"]
                            else f"last contact {date_text(row['last_contact_date'])}",
                            delta_color="off", delta_arrow="off")
            frames, order = timeline.lanes(course)
            st.plotly_chart(page_charts.timeline_figure(frames, order,
                                                        title=f"Patient {patient}"),
                            key="timeline_figure", config={"displaylogo": False})
            st.caption("Bars: lesions from detection to resolution (or the end of follow-up) "
                       "and systemic lines; ▲ radiotherapy, ■ surgery, ◆ thermal ablation, "
                       "✕ progression, ● assessments coloured by OMD state, ★ OMD episodes.")

with tab_swimmer:
    outcomes = data.read_mart(context.database, "episode_outcomes")
    rows, before_cap = timeline.swimmer_rows(cohort, outcomes)
    if rows.is_empty():
        st.info("No patient with follow-up matches the filter.")
    else:
        shown = f"the {rows.height} with the longest follow-up of {before_cap:,}" \
            if before_cap > rows.height else f"all {rows.height}"
        st.caption(f"First OMD episode of each patient; {shown} patients shown (at most "
                   f"{timeline.SWIMMER_CAP}).")
        st.plotly_chart(page_charts.swimmer_figure(rows, title="Swimmer plot"),
                        key="swimmer_figure", config={"displaylogo": False})

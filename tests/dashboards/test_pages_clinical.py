"""Local control, toxicity and patient timelines through the router (AppTest), on a data
folder the real pipeline built from the project's generator. Expected values come from the
published file with DuckDB SQL and step-by-step reference estimators, not from the pages'
own code."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from tests.dashboards.conftest import no_exception, open_page, table_with

LOCAL_CONTROL = "views/local_control.py"
TOXICITY = "views/toxicity.py"
TIMELINE = "views/timeline.py"


def rows(home, query: str, params=()):
    with duckdb.connect(str(home.paths.current), read_only=True) as con:
        return con.execute(query, list(params)).fetchall()


def aalen_johansen(times, status, at_days: float) -> float:
    """Cumulative incidence of cause 1 at `at_days`, one distinct time after another."""
    order = np.argsort(times)
    times, status = np.asarray(times, float)[order], np.asarray(status)[order]
    survival, incidence, n = 1.0, 0.0, len(times)
    for t in np.unique(times):
        if t > at_days:
            break
        here = times == t
        at_risk = (times >= t).sum()
        failures, others = (status[here] == 1).sum(), (status[here] == 2).sum()
        incidence += survival * failures / at_risk
        survival *= 1 - (failures + others) / at_risk
    del n
    return incidence


def test_local_control_cumulative_incidence_at_12_and_24_months(app, pipeline_home):
    at = open_page(app, pipeline_home, LOCAL_CONTROL)
    data = rows(pipeline_home, "SELECT lf_days, lf_status FROM marts.lesion_outcomes "
                               "WHERE lf_days IS NOT NULL")
    times, status = zip(*data, strict=True)
    table = table_with(at, "Local failures")
    row = table[table["Group"] == "All"].iloc[0]
    assert row["Lesions"] == f"{len(times):,}"
    assert row["Local failures"] == str(sum(s == 1 for s in status))
    assert row["Deaths first"] == str(sum(s == 2 for s in status))
    for months in (12, 24):
        expected = aalen_johansen(times, status, months * 30.4375)
        assert row[f"{months} months, % (95% CI)"].startswith(f"{100 * expected:.1f}% (95% CI ")
    assert any("competing event" in c.value for c in at.caption)


@pytest.mark.parametrize("grouping", ["organ", "technique", "bed10_adequacy"])
def test_local_control_by_organ_technique_and_bed10(app, pipeline_home, grouping):
    at = open_page(app, pipeline_home, LOCAL_CONTROL)
    at.segmented_control(key="lc_grouping").set_value(grouping).run()
    no_exception(at)
    table = table_with(at, "Local failures")
    if grouping == "bed10_adequacy":
        (lung,) = rows(pipeline_home, "SELECT count(*) FROM marts.lesion_outcomes "
                                      "WHERE is_lung_bed10_adequate IS NOT NULL")[0]
        assert sum(int(n) for n in table["Lesions"]) == lung
        assert set(table["Group"]) <= {"BED10 ≥ 100 Gy", "BED10 < 100 Gy"}
    elif grouping == "organ":
        organs = {o for (o,) in rows(pipeline_home,
                                     "SELECT DISTINCT organ FROM marts.lesion_outcomes")}
        assert len(table) == len(organs)
        assert "distant_lymph_node" not in set(table["Group"])  # words, not codes
    else:
        assert set(table["Group"]) <= {"SBRT", "Conventional radiotherapy", "Surgery",
                                       "Thermal ablation", "Unknown"}
    if len(table) >= 2:
        assert any("Gray's test" in m.value and "p " in m.value for m in at.markdown)


def test_local_control_aggregate_role_gets_no_curve_for_small_groups(app, pipeline_home):
    # A curve needs 20 lesions and no event count from 1 to 4 (dashboards.disclosure); with
    # 4 local failures in the batch, no organ with a failure gets a curve.
    at = open_page(app, pipeline_home, LOCAL_CONTROL, role="aggregate")
    at.segmented_control(key="lc_grouping").set_value("organ").run()
    no_exception(at)
    table = table_with(at, "Local failures")
    counts = dict(rows(pipeline_home, "SELECT organ, count(*) FILTER (lf_status = 1) "
                                      "FROM marts.lesion_outcomes GROUP BY 1"))
    sizes = dict(rows(pipeline_home, "SELECT organ, count(*) FROM marts.lesion_outcomes "
                                     "GROUP BY 1"))
    words = {"distant_lymph_node": "Distant lymph node", "other": "Other organ"}
    for organ, failures in counts.items():
        row = table[table["Group"] == words.get(organ, organ.capitalize())].iloc[0]
        shown = row["12 months, % (95% CI)"] != "not shown"
        assert shown == (sizes[organ] >= 20 and not 0 < failures < 5), (organ, row.to_dict())
        if 0 < failures < 5:
            assert row["Local failures"] == "<5"


def test_toxicity_worst_grades_and_grade3_rates(app, pipeline_home):
    at = open_page(app, pipeline_home, TOXICITY)
    (courses,) = rows(pipeline_home, "SELECT count(*) FROM marts.toxicity_summary")[0]
    grades = table_with(at, "Acute, courses (%)")
    for grade in range(6):
        (acute,) = rows(pipeline_home, "SELECT count(*) FROM marts.toxicity_summary "
                                       "WHERE max_grade_acute = ?", [grade])[0]
        cell = grades["Acute, courses (%)"].iloc[grade]
        assert cell.split(" ")[0] == str(acute), (grade, cell)
        if acute:
            assert cell.endswith(f"({round(100 * acute / courses)}%)")
    rates = table_with(at, "Attribution")
    (g3,) = rows(pipeline_home, "SELECT count(*) FROM marts.toxicity_summary "
                                "WHERE has_grade3plus")[0]
    anyone = rates[rates["Attribution"] == "Any attribution"].iloc[0]
    assert anyone["Courses"] == str(courses) and anyone["Grade ≥ 3"] == str(g3)
    assert anyone["Rate, % (95% CI)"].startswith(f"{100 * g3 / courses:.1f}% (95% CI ")
    (rt,) = rows(pipeline_home, "SELECT count(*) FROM marts.toxicity_summary "
                                "WHERE greatest(max_grade_acute_rt, max_grade_late_rt) >= 3")[0]
    radiotherapy = rates[rates["Attribution"] == "Radiotherapy (or both)"].iloc[0]
    assert radiotherapy["Grade ≥ 3"] == str(rt)
    organs = table_with(at, "Organ treated")
    assert "Primary tumour" in set(organs["Organ treated"])


def test_late_toxicity_cumulative_incidence(app, pipeline_home):
    at = open_page(app, pipeline_home, TOXICITY)
    late = table_with(at, "Late events")
    # Courses with an RT-attributed late event of grade >= 2 before any death.
    (events,) = rows(pipeline_home, """
        WITH starts AS (SELECT course_id, min(start_date) AS s FROM staging.radiotherapy
                        GROUP BY ALL),
        late AS (SELECT t.course_id, min(t.onset_date) AS first_late FROM staging.toxicities t
                 JOIN starts USING (course_id)
                 WHERE t.onset_date - starts.s > 90 AND t.grade >= 2
                   AND t.attribution IN ('radiotherapy', 'both') GROUP BY ALL)
        SELECT count(*) FROM marts.toxicity_summary m JOIN late USING (course_id)
        JOIN staging.patients p USING (patient_id)
        WHERE p.death_date IS NULL OR late.first_late <= p.death_date""")[0]
    assert late["Late events"].iloc[0] == str(events)


def test_timeline_is_for_row_level_roles_only(app, pipeline_home):
    at = open_page(app, pipeline_home, TIMELINE, role="aggregate")
    assert any("analyst or admin role" in i.value for i in at.info)
    assert "timeline_patient" not in [s.key for s in at.selectbox]
    assert not at.get("plotly_chart")


def test_patient_timeline_lanes_and_swimmer_plot(app, pipeline_home):
    (patient, lesions) = rows(pipeline_home, """
        SELECT m.patient_id, count(*) FROM staging.metastases m
        JOIN marts.episode_cohort c USING (patient_id)
        JOIN marts.local_treatments t USING (patient_id)
        GROUP BY 1 ORDER BY count(DISTINCT m.lesion_id) DESC, 1 LIMIT 1""")[0]
    at = app(pipeline_home.home, role="analyst")
    at.run()
    at.switch_page(TIMELINE)
    at.query_params["patient"] = patient  # a deep link to this patient's timeline
    at.run()
    no_exception(at)
    assert at.selectbox(key="timeline_patient").value == patient
    (n_lesions,) = rows(pipeline_home, "SELECT count(*) FROM staging.metastases "
                                       "WHERE patient_id = ?", [patient])[0]
    figures = [c for c in at.get("plotly_chart")]
    timeline = next(f for f in figures if f"Patient {patient}" in f.proto.spec)
    assert timeline.proto.spec.count("Lesion ") >= n_lesions
    assert "Follow-up" in timeline.proto.spec
    (patients,) = rows(pipeline_home, "SELECT count(DISTINCT patient_id) FROM "
                                      "marts.episode_cohort")[0]
    assert any(f"of {patients:,} patients shown" in c.value or f"all {patients}" in c.value
               for c in at.caption)
    del lesions

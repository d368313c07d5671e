"""Every page through the router with Streamlit's AppTest, on fixture warehouses.

Expected numbers are computed independently from the published file with DuckDB SQL (or
lifelines directly), not through the dashboards' own code.
"""

from __future__ import annotations

import re

import duckdb
import pytest
from lifelines import KaplanMeierFitter

from tests.dashboards.attacks import frame_with as table_with_column
from tests.dashboards.attacks import vega_charts
from tests.dashboards.conftest import metric, no_exception

SURVIVAL = "views/survival.py"


def sql(warehouse, query: str, params=(), database=None):
    path = database or warehouse.paths.current
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(query, list(params)).fetchone()


def url_values(at, key: str) -> list[str]:
    value = at.query_params[key]
    return value if isinstance(value, list) else [value]


def frame_with(at, column: str):
    """The first table shown with `column` (AppTest does not expose dataframe keys)."""
    frame = table_with_column(at, column)
    assert frame is not None, f"no table with a column {column!r}"
    return frame


def test_study_view_headline_counts(app, warehouse):
    at = app(warehouse.home)
    at.run()
    no_exception(at)
    episodes, patients, treated = sql(
        warehouse,
        "SELECT count(*), count(DISTINCT patient_id), count(*) FILTER (all_sites_treated) "
        "FROM marts.episode_cohort",
    )
    assert metric(at, "OMD episodes") == f"{episodes:,}"
    assert metric(at, "Patients") == f"{patients:,}"
    assert metric(at, "All sites treated") == f"{treated:,}"
    times, alive = zip(
        *duckdb.connect(str(warehouse.paths.current), read_only=True)
        .execute("SELECT followup_days, followup_event FROM marts.patient_followup")
        .fetchall(),
        strict=True,
    )
    reverse_km = KaplanMeierFitter().fit(times, alive)
    expected = reverse_km.median_survival_time_ / 30.4375
    assert metric(at, "Median follow-up (reverse KM)") == f"{expected:.1f} months"


def test_freshness_banner_shows_batch_and_cutoff(app, warehouse):
    at = app(warehouse.home)
    at.run()
    banner = at.caption[0].value
    assert warehouse.batch_id in banner
    assert str(warehouse.cutoff) in banner
    assert not at.warning


def test_filter_by_omd_state_from_the_sidebar_and_url(app, warehouse):
    at = app(warehouse.home)
    at.run()
    at.multiselect(key="filter_omd_state").set_value(["synchronous_omd"]).run()
    no_exception(at)
    (expected,) = sql(
        warehouse, "SELECT count(*) FROM marts.episode_cohort WHERE omd_state = ?",
        ["synchronous_omd"],
    )
    assert metric(at, "OMD episodes") == f"{expected:,}"
    assert url_values(at, "omd_state") == ["synchronous_omd"]


def test_shared_url_restores_the_filter(app, warehouse):
    at = app(warehouse.home)
    at.query_params["treatment_strategy"] = ["lct_all_sites", "none"]
    at.query_params["center_id"] = "centre_b"
    at.run()
    no_exception(at)
    (expected,) = sql(
        warehouse,
        "SELECT count(*) FROM marts.episode_cohort WHERE treatment_strategy IN (?, ?) "
        "AND center_id = ?",
        ["lct_all_sites", "none", "centre_b"],
    )
    assert metric(at, "OMD episodes") == f"{expected:,}"
    assert at.multiselect(key="filter_center_id").value == ["centre_b"]


def test_organ_filter_uses_the_organ_flags(app, warehouse):
    at = app(warehouse.home)
    at.query_params["organs"] = ["brain", "liver"]
    at.run()
    (expected,) = sql(
        warehouse, "SELECT count(*) FROM marts.episode_cohort WHERE has_brain OR has_liver"
    )
    assert metric(at, "OMD episodes") == f"{expected:,}"


def test_frozen_batch_can_be_picked(app, warehouse):
    at = app(warehouse.home)
    at.run()
    older = "fixture-2025-12-31"
    at.selectbox(key="batch").set_value(older).run()
    no_exception(at)
    (expected,) = sql(
        warehouse, "SELECT count(*) FROM marts.episode_cohort",
        database=warehouse.paths.batch_snapshot(older),
    )
    assert metric(at, "OMD episodes") == f"{expected:,}"
    assert older in at.caption[0].value and "frozen" in at.caption[0].value
    assert url_values(at, "batch") == [older]


def test_table_one_counts_by_group(app, warehouse):
    at = app(warehouse.home)
    at.run()
    table = frame_with(at, "Characteristic")
    header = table.iloc[0]
    (n_partial,) = sql(
        warehouse, "SELECT count(*) FROM marts.episode_cohort WHERE treatment_strategy = ?",
        ["lct_partial"],
    )
    partial = "Local therapy of some sites"  # words, not the code lct_partial
    assert header[partial] == str(n_partial)
    (n_all,) = sql(warehouse, "SELECT count(*) FROM marts.episode_cohort")
    assert list(table.columns[:3]) == ["Characteristic", "Level", "Overall"]
    assert header["Overall"] == str(n_all)
    female = table[(table["Characteristic"] == "Sex") & (table["Level"] == "Female")]
    (n_female,) = sql(
        warehouse,
        "SELECT count(*) FROM marts.episode_cohort WHERE treatment_strategy = ? AND sex = ?",
        ["lct_partial", "female"],
    )
    assert female[partial].item() == f"{n_female} ({round(100 * n_female / n_partial)}%)"


def test_episode_csv_matches_the_filter(app, warehouse):
    at = app(warehouse.home)
    at.query_params["omd_state"] = "repeat_oligoprogression"
    at.run()
    assert at.get("download_button")  # the button is there; its bytes come on click
    (expected,) = sql(
        warehouse, "SELECT count(*) FROM marts.episode_cohort WHERE omd_state = ?",
        ["repeat_oligoprogression"],
    )
    assert metric(at, "OMD episodes") == f"{expected:,}"


def test_survival_page_median_matches_lifelines(app, warehouse):
    at = app(warehouse.home)
    at.switch_page(SURVIVAL)
    at.run()
    no_exception(at)
    at.selectbox(key="survival_group").set_value("(none)").run()
    no_exception(at)
    with duckdb.connect(str(warehouse.paths.current), read_only=True) as con:
        rows = con.execute(
            "SELECT o.os_days, o.os_event::INT FROM marts.episode_outcomes o "
            "JOIN marts.episode_cohort c USING (episode_id) "
            "WHERE o.origin = 'episode' AND c.is_first_episode"
        ).fetchall()
    times, events = zip(*rows, strict=True)
    expected = KaplanMeierFitter().fit(times, events).median_survival_time_ / 30.4375
    table = frame_with(at, "Median, months (95% CI)")
    assert table["Episodes"].item() == str(len(rows))
    assert table["Median, months (95% CI)"].item().startswith(f"{expected:.1f} (")
    assert any(f"{expected:.1f}" in m.value for m in at.markdown)


STRATEGIES = ["Local therapy of all sites", "Local therapy of some sites",
              "Systemic therapy only", "No treatment recorded"]


def test_survival_opens_as_the_landmark_analysis(app, warehouse):
    at = app(warehouse.home)
    at.switch_page(SURVIVAL)
    at.run()
    no_exception(at)
    assert at.selectbox(key="survival_group").value == "treatment_strategy"
    assert at.toggle(key="survival_landmark").value is True
    table = frame_with(at, "Median, months (95% CI)")
    assert list(table["Group"]) == ["no LCT by the landmark", "LCT by the landmark"]
    assert not any("Immortal-time bias" in w.value for w in at.warning)


def test_survival_by_treatment_without_landmark_warns_of_immortal_time(app, warehouse):
    at = app(warehouse.home)
    at.switch_page(SURVIVAL)
    at.run()
    at.toggle(key="survival_landmark").set_value(False).run()
    no_exception(at)
    assert any("Immortal-time bias" in w.value for w in at.warning)
    assert "survival_landmark_months" not in [n.key for n in at.number_input]
    table = frame_with(at, "Median, months (95% CI)")
    assert list(table["Group"]) == STRATEGIES
    logrank = next(m.value for m in at.markdown if m.value.startswith("Log-rank test"))
    assert re.search(r"\*\*p (< 0\.001|= 0\.\d{2,3}|> 0\.99)\*\*", logrank), logrank
    hrs = frame_with(at, "Hazard ratio (95% CI)")
    assert set(hrs["Reference"]) == {STRATEGIES[0]}
    assert len(hrs) == 3


def test_survival_controls_that_do_not_apply_are_hidden(app, warehouse):
    at = app(warehouse.home)
    at.switch_page(SURVIVAL)
    at.run()
    at.radio(key="survival_origin").set_value("lct").run()
    no_exception(at)
    assert "survival_landmark" not in [t.key for t in at.toggle]
    at.radio(key="survival_origin").set_value("episode").run()
    at.selectbox(key="survival_group").set_value("sex").run()
    assert "survival_landmark" not in [t.key for t in at.toggle]
    assert not any("Immortal-time bias" in w.value for w in at.warning)


@pytest.mark.parametrize("endpoint", ["Progression-free survival", "Widespread progression-free"])
def test_survival_other_endpoints_and_lct_origin(app, warehouse, endpoint):
    at = app(warehouse.home)
    at.switch_page(SURVIVAL)
    at.run()
    at.selectbox(key="survival_endpoint").set_value(endpoint)
    at.radio(key="survival_origin").set_value("lct").run()
    no_exception(at)
    (expected,) = sql(
        warehouse,
        "SELECT count(*) FROM marts.episode_outcomes o JOIN marts.episode_cohort c "
        "USING (episode_id) WHERE o.origin = 'lct' AND c.is_first_episode "
        "AND c.treatment_strategy = 'lct_all_sites'",
    )
    table = frame_with(at, "Median, months (95% CI)")
    assert table.loc[table["Group"] == STRATEGIES[0], "Episodes"].item() == str(expected)


def test_landmark_analysis_groups_by_lct_before_the_landmark(app, warehouse):
    at = app(warehouse.home)
    at.switch_page(SURVIVAL)
    at.run()
    at.toggle(key="survival_landmark").set_value(True).run()
    no_exception(at)
    table = frame_with(at, "Median, months (95% CI)")
    assert list(table["Group"]) == ["no LCT by the landmark", "LCT by the landmark"]
    landmark = 6 * 30.4375
    (with_lct,) = sql(
        warehouse,
        "SELECT count(*) FROM marts.episode_outcomes o JOIN marts.episode_cohort c "
        "USING (episode_id) WHERE o.origin = 'episode' AND c.is_first_episode "
        "AND o.os_days > ? AND c.lct_start_date - c.episode_date <= ?",
        [landmark, landmark],
    )
    assert table.loc[table["Group"] == "LCT by the landmark", "Episodes"].item() == str(with_lct)


def test_blocked_run_is_announced_on_every_page(app, blocked_warehouse):
    at = app(blocked_warehouse.home)
    at.run()
    no_exception(at)
    assert "blocked by data quality" in at.warning[0].value
    assert "rule M07" in at.warning[0].value
    at.switch_page(SURVIVAL)
    at.run()
    assert "blocked by data quality" in at.warning[0].value


def test_empty_data_folder_says_what_to_do(app, tmp_path):
    at = app(tmp_path)
    at.run()
    no_exception(at)
    assert at.title[0].value == "No published batch yet"
    assert "make demo" in at.info[0].value and "oligo run" in at.info[0].value
    at.switch_page(SURVIVAL)
    at.run()
    no_exception(at)
    assert at.title[0].value == "No published batch yet"


def _bar_charts(at):
    """The data rows of each of the study view's bar charts (Vega-Lite)."""
    return [rows for _spec, rows in vega_charts(at)]


def test_small_counts_are_suppressed_on_a_tiny_cohort(app, tiny_warehouse):
    strategy, episodes = sql(
        tiny_warehouse,
        "SELECT treatment_strategy, count(*) AS n FROM marts.episode_cohort "
        "GROUP BY ALL HAVING n BETWEEN 1 AND 4 ORDER BY n DESC, treatment_strategy LIMIT 1",
    )
    at = app(tiny_warehouse.home, role="aggregate")
    at.query_params["treatment_strategy"] = strategy
    at.run()
    no_exception(at)
    assert metric(at, "OMD episodes") == "<5"
    assert metric(at, "Patients") == "<5"
    at.toggle(key="study_all_charts").set_value(True).run()
    bars = _bar_charts(at)
    assert len(bars) == 12
    for rows in bars:
        assert set(rows[0]) == {"label", "word", "height", "text", "small", "colour", "describe"}
        for row in rows:
            assert row["text"] in ("<5", "0") or int(row["text"]) >= 5, rows
            if row["text"] == "<5":
                assert row["small"]
                assert row["height"] == 5  # the bar's length does not give the count away
    assert any("row-level data, for the analyst role" in i.value for i in at.info)


def test_suppression_threshold_comes_from_the_environment(app, warehouse):
    at = app(warehouse.home, threshold=1000, role="aggregate")
    at.run()
    no_exception(at)
    assert metric(at, "Patients") == "<1000"
    at.switch_page(SURVIVAL)
    at.run()
    no_exception(at)
    assert any("nothing can be estimated" in i.value for i in at.info)

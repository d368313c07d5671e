"""Saved cohorts: the store in the application database (save, replace, share, who may
open), and the page through the router (AppTest): save the sidebar's filter, reopen it from
its link, compare two cohorts (Table 1 with SMDs, KM, CIF)."""

from __future__ import annotations

import sqlite3

import duckdb
import pytest

from dashboards import cohort_store
from tests.dashboards.conftest import no_exception

COHORTS = "views/cohorts.py"
STUDY_FILTER = {"treatment_strategy": ["lct_all_sites"]}


def test_store_round_trip_replace_and_share(tmp_path):
    made = cohort_store.save_cohort("a@x", "  Treated   all ", STUDY_FILTER, "b1", home=tmp_path)
    assert made.name == "Treated all" and made.filters == STUDY_FILTER and not made.shared
    again = cohort_store.save_cohort("a@x", "Treated all", {"omd_state": ["synchronous_omd"]},
                                     "b2", home=tmp_path)
    assert again.id == made.id and again.filters == {"omd_state": ["synchronous_omd"]}
    assert [c.id for c in cohort_store.visible_cohorts("b@x", home=tmp_path)] == []
    with pytest.raises(cohort_store.CohortError, match="not shared"):
        cohort_store.open_cohort(made.id, "b@x", home=tmp_path)
    with pytest.raises(cohort_store.CohortError, match="only the owner"):
        cohort_store.set_shared(made.id, "b@x", True, home=tmp_path)
    cohort_store.set_shared(made.id, "a@x", True, home=tmp_path)
    assert cohort_store.open_cohort(made.id, "b@x", home=tmp_path).name == "Treated all"
    with pytest.raises(cohort_store.CohortError, match="name"):
        cohort_store.save_cohort("a@x", "   ", STUDY_FILTER, "b1", home=tmp_path)
    with pytest.raises(cohort_store.CohortError, match="no saved cohort"):
        cohort_store.open_cohort(999, "a@x", home=tmp_path)
    # The cohorts live next to the audit log, in the same application database.
    with sqlite3.connect(tmp_path / "app.sqlite") as con:
        tables = {t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"saved_cohorts", "audit_log"} <= tables


def open_cohorts(app, home, role="analyst", **params):
    at = app(home.home, role=role)
    at.run()
    at.switch_page(COHORTS)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    no_exception(at)
    return at


def test_save_the_current_filter_and_reopen_it_from_its_link(app, pipeline_home):
    at = app(pipeline_home.home, role="analyst")
    at.run()
    at.multiselect(key="filter_treatment_strategy").set_value(["lct_all_sites"]).run()
    at.switch_page(COHORTS)
    at.run()
    no_exception(at)
    at.text_input(key="cohort_name").set_value("All sites (page test)")
    at.button[[b.label for b in at.button].index("Save cohort")].click().run()
    no_exception(at)
    assert any("Saved “All sites (page test)”" in s.value for s in at.success)
    saved = next(c for c in cohort_store.visible_cohorts("demo@localhost",
                                                        home=pipeline_home.home)
                 if c.name == "All sites (page test)")
    assert saved.filters == STUDY_FILTER
    # The link in a new session opens the study view with the saved filter.
    reopened = open_cohorts(app, pipeline_home, open=str(saved.id))
    with duckdb.connect(str(pipeline_home.paths.current), read_only=True) as con:
        (n,) = con.execute("SELECT count(*) FROM marts.episode_cohort "
                           "WHERE treatment_strategy = 'lct_all_sites'").fetchone()
    assert next(m.value for m in reopened.metric if m.label == "OMD episodes") == f"{n:,}"
    assert reopened.multiselect(key="filter_treatment_strategy").value == ["lct_all_sites"]


def test_compare_two_saved_cohorts(app, pipeline_home):
    home = pipeline_home.home
    cohort_store.save_cohort("demo@localhost", "Compare A", {"treatment_strategy":
                             ["lct_all_sites"]}, "current", home=home)
    cohort_store.save_cohort("demo@localhost", "Compare B", {"treatment_strategy":
                             ["systemic_only"]}, "current", home=home)
    at = open_cohorts(app, pipeline_home)
    ids = {c.name: c.id for c in cohort_store.visible_cohorts("demo@localhost", home=home)}
    at.selectbox(key="compare_a").set_value(ids["Compare A"]).run()
    at.selectbox(key="compare_b").set_value(ids["Compare B"]).run()
    no_exception(at)
    table = next(d.value for d in at.dataframe if "SMD" in d.value.columns)
    assert {"A: Compare A", "B: Compare B"} <= set(table.columns)
    sex = table[table["Characteristic"] == "Sex"]
    assert sex["SMD"].iloc[0] != "" and float(sex["SMD"].iloc[0]) >= 0
    assert set(sex["Level"]) <= {"Female", "Male", "Other", "Unknown"}
    km = next(d.value for d in at.dataframe if "Median, months (95% CI)" in d.value.columns)
    assert list(km["Group"]) == ["A: Compare A", "B: Compare B"]
    with duckdb.connect(str(pipeline_home.paths.current), read_only=True) as con:
        (n_a,) = con.execute("SELECT count(*) FROM marts.episode_cohort WHERE is_first_episode "
                             "AND treatment_strategy = 'lct_all_sites'").fetchone()
    assert km["Episodes"].iloc[0] == str(n_a)
    assert any(m.value.startswith("Log-rank") for m in at.markdown)  # disjoint cohorts

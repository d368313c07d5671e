"""Journeys through the second set of pages in a real headless Chromium (Debian's, driven by
Playwright), on a data folder the real pipeline built: local control, a patient timeline, a
data-quality drill-down, a refused and an accepted SQL query, and a saved-cohort round trip.
Screenshots go to test-artifacts/, and to docs/screenshots/ with OLIGO_UPDATE_SCREENSHOTS=1.

Needs /usr/bin/chromium: skipped without it, except under CI=true where that is a failure.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3

import duckdb
import pytest

from tests.dashboards.browser import chromium, metric_value, serve
from tests.dashboards.test_browser import ARTIFACTS, require_chromium, shoot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]
VIEWPORT = {"width": 1440, "height": 1400}


@pytest.fixture(scope="module")
def site(pipeline_home):
    """The dashboards served on the pipeline's data folder, demo identity as analyst."""
    require_chromium()
    with serve(pipeline_home.home, ARTIFACTS / "streamlit-pages.log",
               env={"OLIGO_DEMO_ROLE": "analyst"}) as url, chromium() as browser:
        yield url, browser


def new_page(browser):
    return browser.new_page(viewport=VIEWPORT, accept_downloads=True)


def settle(page, ms: int = 1500) -> None:
    page.wait_for_timeout(ms)  # let Plotly finish drawing before a screenshot


def current(pipeline_home, query: str, params=()):
    with duckdb.connect(str(pipeline_home.paths.current), read_only=True) as con:
        return con.execute(query, list(params)).fetchall()


def test_local_control_and_toxicity_journey(site, pipeline_home):
    url, browser = site
    page = new_page(browser)
    page.goto(f"{url}/local-control", wait_until="domcontentloaded")
    page.get_by_text("Cumulative incidence of local failure at 12 and 24 months").wait_for(
        timeout=90_000)
    (lesions,) = current(pipeline_home, "SELECT count(*) FROM marts.lesion_outcomes")[0]
    page.get_by_text(f"{lesions} lesions analysed").wait_for(timeout=30_000)
    page.get_by_role("radio", name="Technique").click()
    page.get_by_text(re.compile(r"Gray's test across groups: p")).wait_for(timeout=60_000)
    # The grid draws on a canvas; its cells are in the DOM for assistive technology.
    page.get_by_text("SBRT", exact=True).first.wait_for(state="attached", timeout=30_000)
    settle(page)
    shoot(page, "local-control")
    page.goto(f"{url}/toxicity", wait_until="domcontentloaded")
    page.get_by_text("Late toxicity: cumulative incidence").wait_for(timeout=90_000)
    page.get_by_text("Late toxicity of grade ≥ 2").first.wait_for(timeout=60_000)
    settle(page)
    shoot(page, "toxicity")
    page.close()


def test_patient_timeline_journey(site, pipeline_home):
    url, browser = site
    (patient,) = current(pipeline_home, """
        SELECT patient_id FROM marts.local_treatments JOIN marts.episode_cohort USING (patient_id)
        GROUP BY 1 ORDER BY count(DISTINCT treatment_id) DESC, 1 LIMIT 1""")[0]
    page = new_page(browser)
    page.goto(f"{url}/timeline?patient={patient}", wait_until="domcontentloaded")
    page.get_by_text(f"Patient {patient}").first.wait_for(timeout=90_000)
    assert f"patient={patient}" in page.url
    page.get_by_text("Follow-up").first.wait_for(timeout=30_000)
    settle(page)
    shoot(page, "patient-timeline")
    page.get_by_role("tab", name="Swimmer plot").click()
    page.get_by_text("Months from the first OMD episode").wait_for(timeout=60_000)
    settle(page)
    shoot(page, "swimmer-plot")
    page.close()


def test_data_quality_drill_down(site, pipeline_home):
    url, browser = site
    page = new_page(browser)
    page.goto(f"{url}/data-quality", wait_until="domcontentloaded")
    page.get_by_text("Checks by Kahn category and context").wait_for(timeout=90_000)
    page.get_by_text("Show the failing records of").wait_for(timeout=30_000)
    page.get_by_text(re.compile(r"\d+ record keys")).wait_for(timeout=30_000)
    settle(page)
    shoot(page, "data-quality")
    page.get_by_role("tab", name="Quarantine").click()
    page.get_by_text("the row it depends on was quarantined").first.wait_for(
        state="attached", timeout=30_000)
    page.get_by_role("tab", name=re.compile("Runs")).click()
    page.get_by_text("refused", exact=True).first.wait_for(state="attached", timeout=30_000)
    settle(page, 800)
    shoot(page, "data-quality-runs")
    page.close()


def test_sql_refused_then_accepted(site, pipeline_home):
    url, browser = site
    page = new_page(browser)
    page.goto(f"{url}/sql", wait_until="domcontentloaded")
    query = page.get_by_label("Query")
    query.wait_for(timeout=90_000)
    query.fill("DROP TABLE marts.episode_cohort")
    page.get_by_role("button", name="Run").click()
    page.get_by_text(re.compile(r"Refused: only read-only queries")).wait_for(timeout=30_000)
    query.fill("SELECT treatment_strategy, count(*) AS episodes FROM marts.episode_cohort "
               "GROUP BY 1 ORDER BY 1")
    page.get_by_role("button", name="Run").click()
    page.get_by_text(re.compile(r"^\d+ rows")).wait_for(timeout=30_000)
    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name="Download CSV").click()
    saved = ARTIFACTS / "query.csv"
    info.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text())))
    expected = current(pipeline_home, "SELECT treatment_strategy, count(*) FROM "
                                      "marts.episode_cohort GROUP BY 1 ORDER BY 1")
    assert [(r["treatment_strategy"], int(r["episodes"])) for r in rows] == expected
    settle(page, 800)
    shoot(page, "sql-explorer")
    with sqlite3.connect(pipeline_home.home / "app.sqlite") as con:
        actions = [a for (a,) in con.execute(
            "SELECT action FROM audit_log WHERE page = 'sql' ORDER BY id")]
    assert "query:refused" in actions and "query:ok" in actions
    assert "download:csv" in actions
    page.close()


def test_saved_cohort_round_trip(site, pipeline_home):
    url, browser = site
    page = new_page(browser)
    # The filter from a shared URL (the sidebar's own picking is the main journey's).
    page.goto(f"{url}/study?treatment_strategy=lct_all_sites", wait_until="domcontentloaded")
    metric_value(page, "OMD episodes").wait_for(timeout=90_000)
    (treated,) = current(pipeline_home, "SELECT count(*) FROM marts.episode_cohort "
                                        "WHERE treatment_strategy = 'lct_all_sites'")[0]
    page.wait_for_function(
        "([want]) => [...document.querySelectorAll('[data-testid=stMetricValue]')]"
        ".some(m => m.innerText === want)", arg=[f"{treated:,}"], timeout=30_000)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Saved cohorts").click()
    page.get_by_label("Name").fill("All sites treated")
    page.get_by_role("button", name="Save cohort").click()
    page.get_by_text(re.compile(r"Saved “All sites treated” \(cohort (\d+)\)")).wait_for(
        timeout=30_000)
    with sqlite3.connect(pipeline_home.home / "app.sqlite") as con:
        (cohort_id,) = con.execute("SELECT id FROM saved_cohorts WHERE name = ?",
                                   ["All sites treated"]).fetchone()
    # A second cohort: systemic therapy only.
    page.goto(f"{url}/study?treatment_strategy=systemic_only", wait_until="domcontentloaded")
    metric_value(page, "OMD episodes").wait_for(timeout=60_000)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Saved cohorts").click()
    page.get_by_label("Name").fill("Systemic only")
    page.get_by_role("button", name="Save cohort").click()
    page.get_by_text("Compare two saved cohorts").wait_for(timeout=30_000)
    page.get_by_text("Table 1").first.wait_for(timeout=60_000)
    page.get_by_text("Overall survival, first episode").first.wait_for(timeout=60_000)
    settle(page)
    shoot(page, "saved-cohorts")
    # Reopen the first cohort from its link in a fresh session: the study view, filtered.
    fresh = new_page(browser)
    fresh.goto(f"{url}/cohorts?open={cohort_id}", wait_until="domcontentloaded")
    fresh.wait_for_function(
        "([want]) => [...document.querySelectorAll('[data-testid=stMetricValue]')]"
        ".some(m => m.innerText === want)", arg=[f"{treated:,}"], timeout=90_000)
    assert "treatment_strategy=lct_all_sites" in fresh.url
    fresh.close()
    page.close()

"""The main journey in a real headless Chromium (Debian's, driven by Playwright), as the
local demo identity in the analyst role: open the study view, filter by OMD state, read the
episode count, download the CSV, open Survival, read a median. (Sign-in through a real
OpenID Connect provider and the aggregate role: test_browser_sign_in.py.) Screenshots go to test-artifacts/, and to docs/screenshots/ (referenced by the
README) with OLIGO_UPDATE_SCREENSHOTS=1.

Needs /usr/bin/chromium: skipped without it, except under CI=true where that is a failure.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil

import duckdb
import pytest
from lifelines import KaplanMeierFitter

from tests.dashboards.browser import CHROMIUM, REPO, choose_filter, chromium, metric_value, serve

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

SCREENSHOTS = REPO / "docs" / "screenshots"
ARTIFACTS = REPO / "test-artifacts" / "dashboards"
STATE = "synchronous_omd"
STATE_WORDS = "Synchronous oligometastatic disease"  # what the filter and the charts show


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing (install Debian's chromium: `make browser`)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    # The README's screenshots are refreshed on request only, so a test run leaves the tree clean.
    if os.environ.get("OLIGO_UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(target, SCREENSHOTS / f"{name}.png")


def expected_numbers(warehouse) -> tuple[int, int, float]:
    """Episodes in the state, all episodes, and the OS median (months) of the state's first
    episodes treated with LCT of all sites, straight from the published file."""
    with duckdb.connect(str(warehouse.paths.current), read_only=True) as con:
        (in_state,) = con.execute(
            "SELECT count(*) FROM marts.episode_cohort WHERE omd_state = ?", [STATE]
        ).fetchone()
        (total,) = con.execute("SELECT count(*) FROM marts.episode_cohort").fetchone()
        rows = con.execute(
            "SELECT o.os_days, o.os_event::INT FROM marts.episode_outcomes o "
            "JOIN marts.episode_cohort c USING (episode_id) WHERE o.origin = 'episode' "
            "AND c.is_first_episode AND c.omd_state = ? AND c.treatment_strategy = ?",
            [STATE, "lct_all_sites"],
        ).fetchall()
    times, events = zip(*rows, strict=True)
    median = KaplanMeierFitter().fit(times, events).median_survival_time_ / 30.4375
    return in_state, total, median


def test_main_journey_in_chromium(warehouse):
    require_chromium()
    in_state, total, median = expected_numbers(warehouse)
    with duckdb.connect(str(warehouse.paths.current), read_only=True) as con:
        strategy_counts = dict(con.execute(
            "SELECT treatment_strategy, count(*) FROM marts.episode_cohort GROUP BY ALL"
        ).fetchall())
    # The demo identity in the analyst role: exact counts and the episode CSV.
    with serve(warehouse.home, ARTIFACTS / "streamlit.log", env={"OLIGO_DEMO_ROLE": "analyst"}
               ) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1440, "height": 1700}, accept_downloads=True)
        page.goto(url, wait_until="domcontentloaded")
        episodes = metric_value(page, "OMD episodes")
        episodes.wait_for(timeout=60_000)
        assert episodes.inner_text() == f"{total:,}"
        page.get_by_text("Cohort flow").wait_for()
        page.wait_for_timeout(1500)  # let the charts finish drawing for the screenshot
        shoot(page, "study-view")

        choose_filter(page, "OMD state", STATE_WORDS)
        wait_metric(page, "OMD episodes", f"{in_state:,}")
        assert f"omd_state={STATE}" in page.url
        page.wait_for_timeout(1500)
        shoot(page, "study-view-filtered")

        with page.expect_download(timeout=30_000) as download_info:
            page.get_by_role("button", name="Download the filtered episodes (CSV)").click()
        download = download_info.value
        saved = ARTIFACTS / "episodes.csv"
        download.save_as(saved)
        rows = list(csv.DictReader(io.StringIO(saved.read_text())))
        assert len(rows) == in_state
        assert {row["omd_state"] for row in rows} == {STATE}

        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Survival").click()
        # A comparison by treatment opens as the landmark analysis; switched off, the
        # immortal-time warning shows.
        page.get_by_text(re.compile(r"Median, LCT by the landmark:")).wait_for(timeout=60_000)
        page.get_by_text("numbers at risk under the plot").wait_for()
        page.wait_for_timeout(1500)
        shoot(page, "survival")
        page.get_by_text("Landmark analysis (recommended").click()
        page.get_by_text("Immortal-time bias").wait_for(timeout=60_000)
        median_line = page.get_by_text(re.compile(r"Median, Local therapy of all sites:"))
        median_line.wait_for(timeout=60_000)
        assert median_line.inner_text().split(": ", 1)[1].startswith(f"{median:.1f} (")
        assert f"omd_state={STATE}" in page.url  # the filter follows to the other page
        page.wait_for_timeout(1500)
        shoot(page, "survival-immortal-time-warning")
        # Every page has its own address: /study opens the study view, not "Page not found".
        page.goto(f"{url}/study", wait_until="domcontentloaded")
        metric_value(page, "OMD episodes").wait_for(timeout=60_000)
        assert page.get_by_text("Page not found").count() == 0
        # A click on a bar filters by it; a shift-click adds the next bar to the filter.
        chart_bar(page, "Local therapy of all sites").click()
        page.wait_for_url(re.compile(r"treatment_strategy=lct_all_sites$"), timeout=30_000)
        wait_metric(page, "OMD episodes", f"{strategy_counts['lct_all_sites']:,}")
        # The redrawn chart: the filtered bar dark, the others pale (one chart, not two).
        page.wait_for_function(
            "() => { const fills = (w) => [...document.querySelectorAll("
            "`[data-testid=stVegaLiteChart] .mark-rect path[aria-label^='${w}: ']`)]"
            ".map(p => p.getAttribute('fill')).join();"
            " return fills('Local therapy of all sites') === '#1f5fa8'"
            " && fills('No treatment recorded') === '#9bbbe0'; }",
            timeout=30_000,
        )
        chart_bar(page, "No treatment recorded").click(modifiers=["Shift"])
        page.wait_for_url(re.compile(r"treatment_strategy=lct_all_sites&treatment_strategy=none"),
                          timeout=30_000)
        wait_metric(page, "OMD episodes",
                    f"{strategy_counts['lct_all_sites'] + strategy_counts['none']:,}")


def chart_bar(page, words: str):
    """A bar of the study view's charts by its words (its ARIA label: words and count)."""
    return page.locator(f"[data-testid=stVegaLiteChart] .mark-rect path[aria-label^='{words}: ']")


def wait_metric(page, label: str, want: str) -> None:
    page.wait_for_function(
        "([label, want]) => [...document.querySelectorAll('[data-testid=stMetric]')]"
        ".some(m => m.innerText.includes(label) && "
        "m.querySelector('[data-testid=stMetricValue]').innerText === want)",
        arg=[label, want],
        timeout=30_000,
    )

"""Measure the study view's first render and a filter change in headless Chromium.

    python -m tests.dashboards.fixtures --home /tmp/oligo-100k --patients 100000
    python -m tests.dashboards.speed --home /tmp/oligo-100k

Not a test (timings depend on the machine); the figures are written in docs/dashboards.md.
"First render" is from navigation to the headline counts and the charts the study view
opens with drawn (three category charts with their bars, and the cohort flow's boxes); "filter change" is from
picking an OMD state to the new episode count and redrawn charts. Median of `--repeats`
(default 5) new sessions, each in a new browser context (empty HTTP cache), started once
the first visitor's page (which fills the server's caches) has finished.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from pathlib import Path

from dashboards.labels import label
from tests.dashboards.browser import chromium, metric_value, serve

CHARTS = 3  # the three featured category charts (Vega-Lite)
FLOW_BOXES = 4  # the cohort flow's steps of the unfiltered cohort (Markdown boxes)
CHARTS_DRAWN = (
    "([charts, boxes]) => [...document.querySelectorAll('[data-testid=stVegaLiteChart]')]"
    ".filter(c => c.querySelector('.mark-rect path')).length >= charts"
    " && document.querySelectorAll('[class*=\"st-key-cohort_flow_\"]').length >= boxes"
)


# The study view's last section: the info of the aggregate role, or the analyst's episode list.
SCRIPT_DONE = re.compile(r"row-level data, for the analyst role|episodes match the filter")


def _render(page, url: str, charts: int) -> float:
    start = time.perf_counter()
    page.goto(url, wait_until="commit")
    metric_value(page, "OMD episodes").wait_for(timeout=120_000)
    page.wait_for_function(CHARTS_DRAWN, arg=[charts, FLOW_BOXES], timeout=120_000)
    return time.perf_counter() - start


def _filter_change(page, state: str) -> float:
    before = metric_value(page, "OMD episodes").inner_text()
    sidebar = page.get_by_test_id("stSidebar")
    # The previous pick leaves the box focused, and a click on a focused box closes it.
    page.evaluate("document.activeElement && document.activeElement.blur()")
    sidebar.get_by_role("combobox", name="OMD state").click()
    option = page.get_by_role("option", name=label("omd_state", state), exact=True)
    option.wait_for()
    start = time.perf_counter()
    option.click()
    page.wait_for_function(
        "([before]) => { const v = [...document.querySelectorAll('[data-testid=stMetric]')]"
        ".find(m => m.innerText.includes('OMD episodes'));"
        " return v && v.querySelector('[data-testid=stMetricValue]').innerText !== before; }",
        arg=[before],
        timeout=120_000,
    )
    page.wait_for_load_state("networkidle")
    elapsed = time.perf_counter() - start
    page.keyboard.press("Escape")
    return elapsed


def measure(home: Path, repeats: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {"cold": [], "first": [], "filter": []}
    log = Path("test-artifacts/dashboards/speed-streamlit.log")
    with serve(home, log) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        results["cold"].append(_render(page, url, CHARTS))  # first visitor: cache empty
        # Its script goes on past the charts (Table 1, the episode list): let it finish, so
        # the first new session is not measured while it shares the server with it.
        page.get_by_text(SCRIPT_DONE).wait_for(timeout=120_000)
        for _ in range(repeats):
            fresh = browser.new_page(viewport={"width": 1440, "height": 1000})
            results["first"].append(_render(fresh, url, CHARTS))
            for state in ("synchronous_omd", "repeat_oligoprogression"):
                results["filter"].append(_filter_change(fresh, state))
            fresh.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    results = measure(args.home, args.repeats)
    for name, values in results.items():
        print(f"{name}: median {statistics.median(values):.2f} s  "
              f"(all: {', '.join(f'{v:.2f}' for v in values)})")


if __name__ == "__main__":
    main()

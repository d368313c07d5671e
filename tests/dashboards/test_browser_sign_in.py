"""Sign-in through a real OpenID Connect provider in a real browser: `oidc-provider-mock`
on loopback, the dashboards with `[auth]` in a secrets file, headless Chromium.

- signed out: only the sign-in page (no counts, no charts, no sidebar filters);
- an analyst (role from the ID-token claim `oligo_role`): exact counts, the episode list
  and its CSV;
- an aggregate user (role from the allow-list file): protected counts only, no row-level
  data, no curve for groups below the minimum size;
- every sign-in and view is in the audit log.

Needs /usr/bin/chromium: skipped without it, except under CI=true where that is a failure.
"""

from __future__ import annotations

import re

import duckdb
import pytest

from pipelines import appdb
from tests.dashboards.browser import chromium, free_port, metric_value, oidc_provider, serve
from tests.dashboards.test_browser import ARTIFACTS, require_chromium, shoot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

ANALYST = {"sub": "ana", "email": "ana@hospital.example", "oligo_role": "analyst"}
AGGREGATE = {"sub": "agg", "email": "agg@hospital.example"}


def secrets_file(folder, app_port: int, issuer: str):
    path = folder / "secrets.toml"
    path.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"\n'
        'cookie_secret = "browser-test-cookie-secret-0123456789"\n'
        'client_id = "oligo-dashboards"\n'
        'client_secret = "browser-test-client-secret"\n'
        f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
    )
    return path


def sign_in(browser, url: str, sub: str):
    """A fresh browser context (no cookies): sign-in page, provider's form, back signed in."""
    context = browser.new_context(viewport={"width": 1440, "height": 1600}, accept_downloads=True)
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("button", name="Log in").wait_for(timeout=60_000)
    assert page.get_by_test_id("stMetric").count() == 0  # nothing but the sign-in page
    assert page.get_by_test_id("stSidebar").count() == 0
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name=sub, exact=True).click(timeout=60_000)  # the provider
    page.wait_for_url(re.compile(r"127\.0\.0\.1:\d+/(study)?(\?.*)?$"), timeout=60_000)
    metric_value(page, "OMD episodes").wait_for(timeout=60_000)
    return context, page


def test_sign_in_as_analyst_and_as_aggregate_user(warehouse, tmp_path):
    require_chromium()
    roles = tmp_path / "roles.toml"
    roles.write_text(f'[roles]\n"{AGGREGATE["email"]}" = "aggregate"\n')
    with duckdb.connect(str(warehouse.paths.current), read_only=True) as con:
        (total,) = con.execute("SELECT count(*) FROM marts.episode_cohort").fetchone()
    app_port = free_port()
    with oidc_provider(ARTIFACTS / "oidc.log", [ANALYST, AGGREGATE]) as issuer:
        secrets = secrets_file(tmp_path, app_port, issuer)
        with serve(warehouse.home, ARTIFACTS / "streamlit-auth.log", port=app_port,
                   secrets=secrets, env={"OLIGO_ROLES_FILE": str(roles)}) as url, \
                chromium() as browser:
            signed_out = browser.new_page(viewport={"width": 1440, "height": 900})
            signed_out.goto(f"{url}/survival", wait_until="domcontentloaded")
            signed_out.get_by_role("button", name="Log in").wait_for(timeout=60_000)
            assert signed_out.get_by_test_id("stPlotlyChart").count() == 0
            shoot(signed_out, "sign-in")

            context, page = sign_in(browser, url, "ana")
            sidebar = page.get_by_test_id("stSidebar")
            sidebar.get_by_text(f"Signed in as {ANALYST['email']}").wait_for()
            assert "analyst" in sidebar.inner_text()
            assert metric_value(page, "OMD episodes").inner_text() == f"{total:,}"  # exact
            page.get_by_role("button", name="Download the filtered episodes (CSV)").wait_for()
            page.wait_for_timeout(1500)
            shoot(page, "signed-in-analyst")
            context.close()

            context, page = sign_in(browser, url, "agg")
            sidebar = page.get_by_test_id("stSidebar")
            sidebar.get_by_text(f"Signed in as {AGGREGATE['email']}").wait_for()
            assert "aggregate" in sidebar.inner_text()
            assert "consistent noise" in sidebar.inner_text()
            page.get_by_text("row-level data, for the analyst role").wait_for()
            assert page.get_by_role("button", name="Download the filtered episodes (CSV)"
                                    ).count() == 0
            shown = int(metric_value(page, "OMD episodes").inner_text().replace(",", ""))
            assert abs(shown - total) <= 3  # perturbed by at most the p-table's D
            assert page.get_by_test_id("stSidebarNav").get_by_role("link", name="Audit log"
                                                                  ).count() == 0
            page.wait_for_timeout(1500)
            shoot(page, "signed-in-aggregate")
            # Survival in one centre: groups below 20 episodes get no curve, and say so.
            page.goto(f"{url}/survival?center_id=centre_c",
                      wait_until="domcontentloaded")
            page.get_by_text("too small to show a curve").wait_for(timeout=60_000)
            page.get_by_text(re.compile(r"not shown: fewer than 20 episodes")).first.wait_for()
            page.wait_for_function(
                "() => document.querySelectorAll('[data-testid=stPlotlyChart] .main-svg').length"
                " > 0 && document.querySelector('[data-testid=stDataFrame] canvas')",
                timeout=60_000,
            )
            page.wait_for_timeout(2500)
            shoot(page, "aggregate-small-groups")
            context.close()
    log = appdb.read_audit(limit=None, home=warehouse.home)
    signed = {(e.user, e.role) for e in log if e.action == "sign_in"}
    assert {(ANALYST["email"], "analyst"), (AGGREGATE["email"], "aggregate")} <= signed
    assert any(e.user == AGGREGATE["email"] and e.page == "survival" for e in log)

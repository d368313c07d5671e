"""Serving the dashboards on a free local port and driving Debian's Chromium (no browser
download): shared by the browser test and the speed measurement."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "dashboards" / "app.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve(home: Path, log: Path, *, threshold: int | None = None, port: int | None = None,
          secrets: Path | None = None, env: dict[str, str] | None = None) -> Iterator[str]:
    """`streamlit run dashboards/app.py` on 127.0.0.1 with OLIGO_HOME=home; yields its URL.

    `secrets`: a secrets.toml to use instead of .streamlit/secrets.toml (e.g. with [auth]);
    `env`: extra environment (e.g. OLIGO_DEMO_ROLE)."""
    port = port or free_port()
    extra = dict(env or {})
    env = dict(os.environ, OLIGO_HOME=str(home), STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    env.update(extra)
    if threshold is not None:
        env["OLIGO_SMALL_COUNT_THRESHOLD"] = str(threshold)
    secrets_args = ["--secrets.files", str(secrets)] if secrets else []
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(APP),
             "--server.address", "127.0.0.1", "--server.port", str(port),
             "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none", *secrets_args],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, process, timeout=90)
            yield url
        finally:
            _stop(process)


@contextlib.contextmanager
def oidc_provider(log: Path, users: list[dict]) -> Iterator[str]:
    """A real OpenID Connect provider on loopback (the `oidc-provider-mock` package), with
    predefined users (claims, each with `sub`); yields its issuer URL."""
    port = free_port()
    args = [str(Path(sys.executable).with_name("oidc-provider-mock")), "-p", str(port),
            "-H", "127.0.0.1"]
    for user in users:
        args += ["--user-claims", json.dumps(user)]
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_url(f"{url}/.well-known/openid-configuration", process, timeout=60)
            yield url
        finally:
            _stop(process)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_url(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"streamlit did not answer on {url} within {timeout} s")


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium browser from /usr/bin/chromium through Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def metric_value(page, label: str):
    """The locator of a Streamlit metric's value by its label."""
    return (
        page.get_by_test_id("stMetric")
        .filter(has_text=label)
        .get_by_test_id("stMetricValue")
    )


def choose_filter(page, label: str, option: str) -> None:
    """Pick `option` in the sidebar multiselect `label` (ARIA combobox in Streamlit 1.67)."""
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")

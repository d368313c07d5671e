"""Where the study view's first render goes: one timeline per new session in headless
Chromium, from navigation to the charts drawn.

    python -m tests.dashboards.speed_trace --home /tmp/oligo-100k --repeats 3

Not a test (timings depend on the machine). For each new session it prints, in ms from
the navigation: the page's HTML and scripts (resource timing), each WebSocket message the
server sends (decoded as Streamlit's ForwardMsg: which element, how many bytes), the
moments the sidebar, the headline metric and each chart appear in the page, and the
browser's main-thread time (script, layout, style) from the DevTools protocol. The
server's script time per section is the gap between its messages (loopback, no network).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from tests.dashboards.browser import chromium, serve
from tests.dashboards.speed import CHARTS, _render

# Installed before the page's own scripts: performance.now() of each milestone.
MILESTONES = """
window.__oligo = {};
const seen = (name) => { if (!(name in window.__oligo)) window.__oligo[name] = performance.now(); };
new MutationObserver(() => {
  if (document.querySelector('[data-testid=stSidebar]')) seen('sidebar');
  if (document.querySelector('[data-testid=stSidebar] [data-testid=stMultiSelect]')) seen('sidebar filters');
  const metric = [...document.querySelectorAll('[data-testid=stMetric]')]
    .find(m => m.innerText.includes('OMD episodes'));
  if (metric) seen('headline metric');
  const drawn = [...document.querySelectorAll('[data-testid=stVegaLiteChart]')]
    .filter(c => c.querySelector('.mark-rect path')).length;
  for (let i = 1; i <= drawn; i++) seen('bar chart ' + i);
  if (document.querySelector('[class*="st-key-cohort_flow_"]')) seen('cohort flow');
  if (document.querySelector('[data-testid=stDataFrame] canvas')) seen('table 1 grid');
}).observe(document, {subtree: true, childList: true, characterData: true});
window.__oligo_long = [];
new PerformanceObserver((list) => list.getEntries().forEach(
  e => window.__oligo_long.push([e.startTime, e.duration]))).observe({type: 'longtask', buffered: true});
"""


def _describe(payload: bytes) -> str:
    message = ForwardMsg.FromString(payload)
    kind = message.WhichOneof("type")
    if kind == "delta":
        delta = message.delta
        which = delta.WhichOneof("type")
        if which == "new_element":
            element = delta.new_element.WhichOneof("type")
            return f"element {element}"
        if which == "add_block":
            return "block"
        return f"delta {which}"
    if kind == "ref_hash":  # a cached message the browser already has
        return "ref_hash"
    return kind or "?"


def trace_session(browser, url: str) -> None:
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.add_init_script(MILESTONES)
    frames: list[tuple[float, int, str]] = []

    def on_socket(socket) -> None:
        socket.on("framereceived", lambda payload: frames.append(
            (time.time() * 1000, len(payload),
             _describe(payload) if isinstance(payload, bytes) else "text")))

    page.on("websocket", on_socket)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    started = time.time() * 1000
    total = _render(page, url, CHARTS)
    origin = page.evaluate("performance.timeOrigin")
    shift = origin - started  # page clock (from its time origin) to ours (from goto)
    events: list[tuple[float, str]] = []
    for entry in page.evaluate(
        "performance.getEntriesByType('navigation').concat("
        "performance.getEntriesByType('resource')).map(e => ({name: e.name, "
        "start: e.startTime, end: e.responseEnd, size: e.encodedBodySize || 0}))"
    ):
        name = entry["name"].rsplit("/", 1)[-1][:48] or entry["name"]
        events.append((entry["end"] + shift,
                       f"loaded {name} ({entry['size'] / 1024:.0f} KiB, "
                       f"started {entry['start'] + shift:.0f})"))
    for name, at in page.evaluate("window.__oligo").items():
        events.append((at + shift, f"** {name}"))
    for at, duration in page.evaluate("window.__oligo_long"):
        if duration >= 100:
            events.append((at + shift, f"long task {duration:.0f} ms"))
    for at, size, what in frames:
        events.append((at - started, f"ws {what} ({size / 1024:.1f} KiB)"))
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    print(f"\n--- new session: first render {total:.2f} s")
    for at, what in sorted(events):
        print(f"{at:8.0f}  {what}")
    sent = sum(size for _, size, _ in frames)
    print(f"WebSocket: {len(frames)} messages, {sent / 1024:.0f} KiB")
    print("main thread (s): " + ", ".join(
        f"{name} {metrics.get(name, 0):.2f}"
        for name in ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")))
    page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    log = Path("test-artifacts/dashboards/speed-trace-streamlit.log")
    with serve(args.home, log) as url, chromium() as browser:
        warm = browser.new_page()
        _render(warm, url, CHARTS)  # the first visitor fills the server's caches
        warm.close()
        for _ in range(args.repeats):
            trace_session(browser, url)


if __name__ == "__main__":
    main()

"""The Dagster events a publishing run writes, against the table in docs/operations.md
(Dagster events per run): more events than stated, in total or for a step, fail. The run is
the session's first `oligo run` (tests/pipeline/conftest.py); nothing runs again here."""

import collections
import re
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.settings import paths

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
RUN_ROW = "(the run: start, resources, engine, success)"


def stated_events() -> dict[str, int]:
    """{step: events} from the doc's table; `(run)` for the run's own, `total`."""
    section = DOC.read_text().split("### Dagster events per run", 1)[1]
    stated = {}
    for line in section.splitlines():
        cells = [c.strip().strip("*") for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not re.fullmatch(r"\d+( each)?", cells[3]):
            continue
        count = int(cells[3].split()[0])
        if cells[0] == RUN_ROW:
            stated["(run)"] = count
        elif cells[0] == "total":
            stated["total"] = count
        elif cells[0].startswith("the other"):
            stated["dq_marts_*"] = count
        else:
            for step in cells[0].split(","):
                stated[step.strip()] = count
    return stated


def measured_events() -> tuple[dict[str, int], dict[str, int]]:
    """({step: Dagster events}, {step: log messages}) of the published run."""
    with duckdb.connect(str(paths().ops), read_only=True) as con:
        [(run_id,)] = con.execute("SELECT run_id FROM ops.ops.runs "
                                  "WHERE status = 'published'").fetchall()
    with dg.DagsterInstance.get() as instance:  # the copied home's (DAGSTER_HOME)
        logs = instance.all_logs(run_id)
    events = collections.Counter(e.step_key or "(run)" for e in logs if e.is_dagster_event)
    messages = collections.Counter(e.step_key or "(run)" for e in logs
                                   if not e.is_dagster_event)
    return dict(events), dict(messages)


def test_a_publishing_run_writes_no_more_dagster_events_than_the_docs_state(home, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster_home"))
    stated = stated_events()
    measured, messages = measured_events()
    assert sum(measured.values()) <= stated["total"], measured
    # The steps' own messages: a warning per check step that found failures, no chatter.
    assert all(n <= 1 and step.startswith("dq_") for step, n in messages.items()), messages
    assert stated["total"] == sum(  # the doc's table adds up
        stated.get(step, stated.get("dq_marts_*", 0)) for step in measured), sorted(measured.items())
    over = {step: (count, stated.get(step, stated.get("dq_marts_*")))
            for step, count in measured.items()
            if step not in stated and not step.startswith("dq_marts_")
            or count > stated.get(step, stated.get("dq_marts_*", 0))}
    assert not over, f"steps writing more events than docs/operations.md states: {over}"

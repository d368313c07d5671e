"""`oligo emulate` on the small published snapshot (tests/stats/published_fixture.py), and
the cloning engine's bookkeeping on hand-made rows."""

from __future__ import annotations

import json
import re

import polars as pl
import pytest

from pipelines.cli import main
from pipelines.stats.cloning import clone_censor_weight
from pipelines.stats.emulation import PROTOCOLS


@pytest.mark.parametrize("trial", list(PROTOCOLS))
def test_each_trial_runs_beside_its_published_figures(trial, capsys):
    assert main(["emulate", trial]) == 0
    out = capsys.readouterr().out
    assert "OBSERVATIONAL emulation" in out and "attrition" in out
    protocol = PROTOCOLS[trial]
    for endpoint in protocol.endpoints:
        assert f"{endpoint.upper()} from time zero" in out
    for ref in protocol.references:
        if ref.endpoint in protocol.endpoints:
            assert f"published ({ref.source}): median {ref.lct_months:g} months" in out
    assert re.search(r"LCT of all sites\s+\d+\s+\d+\s+\d+\s+\d+\.\d", out), out
    assert re.search(r"hazard ratio LCT vs no LCT \d\.\d\d \(95% CI", out), out


def test_json_has_arms_attrition_and_references(capsys):
    assert main(["emulate", "gomez", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["label"].startswith("OBSERVATIONAL")
    pfs, os_ = doc["results"]
    assert (pfs["endpoint"], os_["endpoint"]) == ("pfs", "os")
    steps = [step[0] for step in pfs["attrition"]]
    assert steps[0] == "eligible episodes (all)" and "at most 3 metastases" in steps
    counts = [step[1] for step in pfs["attrition"]]
    assert counts == sorted(counts, reverse=True)
    assert {a["arm"] for a in pfs["arms"]} == {"lct", "no_lct"}
    assert pfs["protocol"]["references"][0]["lct_months"] == 14.2
    assert 0 < pfs["hazard_ratio"]["ci_lower"] < pfs["hazard_ratio"]["ci_upper"]


def test_no_eligible_patients_is_one_line(capsys, monkeypatch):
    assert main(["emulate", "gomez", "--batch", "no-such-batch"]) in (1, 2)
    err = capsys.readouterr().err.strip()
    assert err.startswith("oligo emulate:") and len(err.splitlines()) == 1, err


def test_cloning_censors_at_deviation_and_counts_early_events_in_both_arms():
    rows = pl.DataFrame({
        "patient_id": ["a", "b", "c", "d", "e", "f"],
        "time_days": [400.0, 300.0, 50.0, 500.0, 200.0, 350.0],
        "event": [1, 1, 1, 0, 1, 1],
        "lct_days": [30.0, None, None, 0.0, 60.0, None],  # a, d, e treated within 90 days
        "any_lct_days": [30.0, 200.0, None, 0.0, 60.0, None],
        "age": [60, 70, 65, 55, 62, 71],
    })
    cloned = clone_censor_weight(rows, grace_days=90, covariates=["age"])
    by = {(r["patient_id"], r["arm"]): r for r in
          cloned.rows.group_by("patient_id", "arm").agg(
              pl.col("stop").max(), pl.col("event").sum()).iter_rows(named=True)}
    # c has its event at day 50, inside the grace period: it counts in both arms
    assert by[("c", "lct")]["event"] == 1 and by[("c", "no_lct")]["event"] == 1
    # b had partial LCT at day 200 only: its LCT clone is censored at the grace end (90),
    # its no-LCT clone at day 200
    assert ("b", "lct") not in by or by[("b", "lct")]["stop"] == 90
    assert by[("b", "no_lct")]["stop"] == 200 and by[("b", "no_lct")]["event"] == 0
    # d was treated at time zero: no no-LCT clone
    assert ("d", "no_lct") not in by and by[("d", "lct")]["stop"] == 500
    # a follows the LCT strategy to its event; its no-LCT clone stops at the LCT (day 30)
    assert by[("a", "lct")]["event"] == 1 and by[("a", "no_lct")]["stop"] == 30

"""The hostile-delivery corpus (tests/hostile/corpus.py): every case ends as declared, none
hangs (30 s per case) or takes more than 2 GB, and the rows of every batch that would load
reconcile with an independent count of its files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile.corpus import CASES

ROOT = Path(__file__).resolve().parents[2]
MEMORY_CAP_MIB = 2048


@pytest.fixture(scope="module")
def corpus_results(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("hostile")
    pristine = base / "pristine"
    for name, extra in (("default", []), ("fr", ["--dialect", "fr"])):
        subprocess.run([sys.executable, "-m", "pipelines.cli", "generate", "--patients", "80",
                        "--seed", "11", "--out", str(pristine), "--batch-id", name, *extra],
                       check=True, capture_output=True, cwd=ROOT)
    out = base / "results.json"
    env = dict(os.environ, OLIGO_MAX_FILE_MB="2")  # a small cap, so a 3 MB file exceeds it
    subprocess.run([sys.executable, "-m", "tests.hostile.run_corpus", str(pristine),
                    str(base / "cases"), str(out)], check=True, cwd=ROOT, env=env,
                   timeout=30 * len(CASES))
    return json.loads(out.read_text())


def test_corpus_size_and_outcome_mix():
    outcomes = {c.outcome for c in CASES}
    assert len(CASES) >= 40 and outcomes == {"accepted", "refused", "quarantined"}
    assert len({c.name for c in CASES}) == len(CASES)


def test_whole_corpus_stays_under_the_memory_cap(corpus_results):
    assert corpus_results["peak_rss_mib"] < MEMORY_CAP_MIB


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_ends_as_declared(case, corpus_results):
    result = corpus_results["cases"][case.name]
    assert result["outcome"] == case.outcome, result
    assert result["seconds"] < 30
    if case.outcome == "refused":
        assert case.rule in result["batch_rules"], result
        message = next(m for m in result["messages"] if f": {case.rule}: " in m)
        assert case.words in message, message
    elif case.outcome == "quarantined":
        assert case.rule in result["row_rules"], result
        assert not result["batch_rules"], result
    else:
        assert not result["batch_rules"] and not result["messages"], result
    if case.outcome != "refused":  # every row read is loaded or quarantined, none invented
        files = result["rows_in_files"]
        for table, read in result["rows_read"].items():
            assert read == files.get(table, 0), (table, read, files)
            assert 0 <= result["rows_quarantined"][table] <= read

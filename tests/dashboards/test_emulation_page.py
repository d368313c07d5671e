"""The comparisons page (dashboards/views/emulation.py) through the shell, on the dashboard
fixture warehouse: the emulation tables beside the published figures, the Love plot data,
and every count through the disclosure layer (exact for analysts, protected for the
aggregate role). The page is run after `render_shell`, as the router runs a page."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from streamlit.testing.v1 import AppTest

from pipelines.stats.emulation import PROTOCOLS, emulate
from pipelines.stats.emulation_data import load_emulation_rows
from tests.dashboards.conftest import no_exception

REPO = Path(__file__).resolve().parents[2]
HARNESS = f"""
import runpy, sys
sys.path.insert(0, {str(REPO)!r})
from dashboards.access import current_viewer
from dashboards.shell import render_shell
if render_shell(current_viewer()) is not None:
    runpy.run_path({str(REPO / 'dashboards' / 'views' / 'emulation.py')!r}, run_name="__main__")
"""


def _page(home: Path, monkeypatch, role: str) -> AppTest:
    monkeypatch.setenv("OLIGO_HOME", str(home))
    monkeypatch.setenv("OLIGO_DEMO_ROLE", role)
    return AppTest.from_string(HARNESS, default_timeout=120)


def _frame(at: AppTest, column: str) -> pl.DataFrame:
    return next(pl.from_pandas(d.value) for d in at.dataframe if column in d.value.columns)


def test_analyst_sees_the_emulation_beside_the_published_figures(warehouse, monkeypatch):
    at = _page(warehouse.home, monkeypatch, "analyst")
    at.run()
    no_exception(at)
    assert any("Observational" in w.value for w in at.warning)
    arms = _frame(at, "Censored at deviation")
    assert arms["Arm"].to_list() == ["LCT of all sites", "no LCT"]
    expected = emulate(load_emulation_rows(warehouse.paths.current), PROTOCOLS["gomez"])[0]
    assert arms["Clones"].to_list() == [f"{a.n_clones:,}" for a in expected.arms]
    published = _frame(at, "LCT median, months")
    assert "14.2" in published["LCT median, months"].to_list()  # Gomez 2016 PFS
    balance = _frame(at, "smd_after")
    assert set(balance["term"]) >= {"age_at_episode", "n_lesions"}
    at.selectbox(key="emulation_trial").set_value("bauml").run()
    no_exception(at)
    assert _frame(at, "LCT median, months")["Control median, months"].to_list() == ["single arm"]


def test_aggregate_role_sees_protected_counts_only(tiny_warehouse, monkeypatch):
    at = _page(tiny_warehouse.home, monkeypatch, "aggregate")
    at.run()
    no_exception(at)
    frames = [pl.from_pandas(d.value) for d in at.dataframe]
    assert any("Remaining" in f.columns for f in frames) or at.info, "nothing shown"
    for frame in frames:
        for column in ("Clones", "Events", "Censored at deviation", "Remaining"):
            if column in frame.columns:
                for value in frame[column]:
                    assert value == "0" or value.startswith("<") or int(value.replace(",", "")) >= 5

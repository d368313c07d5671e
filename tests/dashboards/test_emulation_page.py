"""The comparisons page (dashboards/views/emulation.py) through the shell, on the dashboard
fixture warehouse: the emulation tables beside the published figures, the Love plot data,
small counts suppressed."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.dashboards.conftest import no_exception

REPO = Path(__file__).resolve().parents[2]
HARNESS = f"""
import runpy, sys
sys.path.insert(0, {str(REPO)!r})
from dashboards.shell import render_shell
if render_shell() is not None:
    runpy.run_path({str(REPO / 'dashboards' / 'views' / 'emulation.py')!r}, run_name="__main__")
"""


def _page(home: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("OLIGO_HOME", str(home))
    return AppTest.from_string(HARNESS, default_timeout=120)


def test_emulation_page_shows_arms_references_and_balance(warehouse, monkeypatch):
    at = _page(warehouse.home, monkeypatch)
    at.run()
    no_exception(at)
    assert any("Observational" in w.value for w in at.warning)
    frames = [d.value for d in at.dataframe]
    arms = next(f for f in frames if "Censored at deviation" in f.columns)
    assert list(arms["Arm"]) == ["LCT of all sites", "no LCT"]
    published = next(f for f in frames if "LCT median, months" in f.columns)
    assert "14.2" in list(published["LCT median, months"])  # Gomez 2016 PFS
    balance = next(f for f in frames if "smd_after" in f.columns)
    assert set(balance["term"]) >= {"age_at_episode", "n_lesions"}
    at.selectbox(key="emulation_trial").set_value("bauml").run()
    no_exception(at)
    published = next(d.value for d in at.dataframe if "LCT median, months" in d.value.columns)
    assert list(published["Control median, months"]) == ["single arm"]


def test_small_counts_are_suppressed(tiny_warehouse, monkeypatch):
    at = _page(tiny_warehouse.home, monkeypatch)
    at.run()
    no_exception(at)
    frames = [d.value for d in at.dataframe]
    assert any("Remaining" in f.columns for f in frames) or at.info, "nothing shown"
    for frame in frames:
        for column in ("Clones", "Events", "Remaining"):
            if column in frame.columns:
                for value in frame[column]:
                    assert value in ("0", "<5") or int(value.replace(",", "")) >= 5, frame

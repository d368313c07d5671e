"""`oligo survival` on a small published snapshot (tests/stats/published_fixture.py).

The fixture's treated episodes have a third of the hazard of the untreated ones and lung
lesions with BED10 >= 100 Gy fail less often: the command must recover the direction."""

from __future__ import annotations

import re

import pytest

from pipelines.cli import main


def _hr(out: str, level: str) -> float:
    match = re.search(rf"^\s+{level}\s+HR (\d+\.\d+)", out, re.MULTILINE)
    assert match, out
    return float(match.group(1))


def test_pfs_by_all_sites_treated(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["survival", "--endpoint", "pfs", "--by", "all_sites_treated"]) == 0
    out = capsys.readouterr().out
    assert "first episode per patient" in out
    assert "median days (95% CI)" in out and "median months (95% CI)" in out
    assert "12 months:" in out and "24 months:" in out
    assert "numbers at risk" in out and "log-rank test" in out
    assert "reference: false" in out
    assert _hr(out, "true") < 0.7


def test_os_log_transform_and_all_episodes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["survival", "--endpoint", "os", "--by", "all_sites_treated", "--ci", "log",
                 "--all-episodes"]) == 0
    out = capsys.readouterr().out
    assert "(log transform)" in out and "cluster-robust by patient" in out
    assert _hr(out, "true") < 1


def test_small_groups_are_flagged(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["survival", "--endpoint", "os", "--by", "histology_group",
                 "--where", "n_lesions = 2"]) == 0
    out = capsys.readouterr().out
    assert "filter: n_lesions = 2" in out
    # 16 first episodes with 2 lesions, 4 of them squamous: shown, and flagged
    assert "group 'squamous' has 4 patients (fewer than 10)" in out
    assert "group 'adenocarcinoma'" not in out
    assert re.search(r"^squamous\s+4\s", out, re.MULTILINE), out


def test_landmark_comparison(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["survival", "--endpoint", "os", "--landmark-months", "6"]) == 0
    out = capsys.readouterr().out
    match = re.search(r"landmark 6 months \(182.6 days\): (\d+) of 80 at risk", out)
    assert match and 0 < int(match.group(1)) < 80
    assert "reference: no_lct_by_landmark" in out
    assert main(["survival", "--endpoint", "os", "--landmark-months", "3"]) == 2
    assert "shorter than the LCT window" in capsys.readouterr().err


def test_local_control_reports_cumulative_incidence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["survival", "--endpoint", "local_control", "--by", "is_lung_bed10_adequate"]) == 0
    out = capsys.readouterr().out
    assert "Aalen-Johansen, death competing" in out and "cause-specific" in out
    assert _hr(out, "true") < 1


def test_hostile_filter_and_unknown_column_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["survival", "--endpoint", "os", "--where",
                 "n_lesions > 1); DROP TABLE marts.episode_cohort; --"]) == 2
    assert "refused" in capsys.readouterr().err
    assert main(["survival", "--endpoint", "os", "--where",
                 "episode_id IN (SELECT episode_id FROM marts.episode_outcomes)"]) == 2
    assert "subquery" in capsys.readouterr().err
    assert main(["survival", "--endpoint", "os", "--by", "no_such_column"]) == 2
    assert "not a column of marts.episode_cohort" in capsys.readouterr().err

"""`oligo survival` on a small published snapshot (tests/stats/published_fixture.py).

The fixture's treated episodes have a third of the hazard of the untreated ones and lung
lesions with BED10 >= 100 Gy fail less often: the command must recover the direction."""

from __future__ import annotations

import json
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


def test_adjusted_model_ph_test_rmst_and_follow_up(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["survival", "--endpoint", "pfs", "--by", "all_sites_treated",
                 "--adjust", "age_at_episode,sex,n_lesions", "--ties", "breslow",
                 "--ph-test", "--rmst-months", "12"]) == 0
    out = capsys.readouterr().out
    assert "median follow-up (reverse Kaplan-Meier):" in out
    assert "Cox model (breslow ties, model variance); n 80, events" in out
    adjusted = re.search(r"^\s+true vs false\s+(\d+\.\d+)", out, re.MULTILINE)
    assert adjusted and float(adjusted.group(1)) < 0.7, out
    assert re.search(r"^\s+GLOBAL\s+chi-square \d+\.\d+ on 4 df", out, re.MULTILINE), out
    assert re.search(r"difference true - false: \d+\.\d days \(95% CI", out), out


def test_weighting_prints_balance_and_weighted_cox(capsys: pytest.CaptureFixture[str]) -> None:
    for method in ("iptw", "iptw-att", "match"):
        assert main(["survival", "--endpoint", "os", "--by", "all_sites_treated", "--weights",
                     method, "--covariates", "age_at_episode,sex,n_lesions,has_brain"]) == 0
        out = capsys.readouterr().out
        assert "balance (standardised mean differences" in out
        assert re.search(r"^\s+sex=male\s+-?\d\.\d{3}\s+-?\d\.\d{3}$", out, re.MULTILINE), out
        assert "weighted Cox (efron ties, " in out
        hr = re.search(r"weighted Cox.*\n.*\n\s+true vs false\s+(\d+\.\d+)", out)
        assert hr and float(hr.group(1)) < 1, out


def test_strata_gives_stratified_logrank_and_cox(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["survival", "--endpoint", "os", "--by", "all_sites_treated",
                 "--strata", "histology_group"]) == 0
    out = capsys.readouterr().out
    assert "stratified log-rank test: chi-square" in out
    assert "strata: histology_group" in out


def test_json_has_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["survival", "--endpoint", "os", "--by", "all_sites_treated", "--json",
                 "--adjust", "age_at_episode", "--rmst-months", "12", "--ph-test"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {g["group"] for g in doc["report"]["groups"]} == {"false", "true"}
    terms = {t["term"] for t in doc["comparative"]["model"]["terms"]}
    assert terms == {"group=true", "age_at_episode"}
    assert doc["comparative"]["rmst_differences"][0]["se_days"] > 0
    assert doc["comparative"]["followup"][0]["median_followup_days"] > 0
    assert [r["term"] for r in doc["comparative"]["ph_test"]][-1] == "GLOBAL"


def test_time_to_next_treatment_is_a_competing_endpoint(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["survival", "--endpoint", "ttnt", "--by", "all_sites_treated"]) == 0
    out = capsys.readouterr().out
    assert "event: next therapy" in out and "cumulative incidence of the event" in out
    assert "Gray's test (cumulative incidence): chi-square" in out
    assert "median follow-up" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["--adjust", "no_such"], "no_such is not a baseline variable"),
    (["--adjust", "has_brain", "--where", "n_lesions = 99"], "no rows to analyse"),
    (["--by", "all_sites_treated", "--adjust", "age_at_episode", "--where",
      "age_at_episode = 60"], "too few events for a Cox model (2; at least 5 needed)"),
    (["--weights", "iptw"], "--weights needs --covariates"),
    (["--covariates", "sex"], "--covariates is the propensity model of --weights"),
    (["--by", "all_sites_treated", "--weights", "iptw", "--covariates", "sex", "--ties",
      "breslow"], "Breslow ties are available for unweighted models only"),
])
def test_expected_refusals_are_one_line(capsys, argv, message) -> None:
    assert main(["survival", "--endpoint", "os", *argv]) in (1, 2)
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err

"""Model checks and adjustment against R, to 3 decimals or better, on fixed data sets.

The reference values come from tests/stats/r/reference.R (R 4.2, survival 3.5.3, cmprsk
2.2.11), stored in tests/stats/r/reference_values.csv so R is not needed here. Data: the
NCCTG lung cancer trial as lifelines ships it (tests/stats/lung.py)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from pipelines.stats.comparison import stratified_logrank_test
from pipelines.stats.competing_risks import (
    cumulative_incidence,
    cumulative_incidence_at,
    gray_test,
)
from pipelines.stats.cox import fit_cox
from pipelines.stats.kaplan_meier import kaplan_meier, median_survival
from pipelines.stats.ph_test import ph_test
from pipelines.stats.propensity import adjust
from pipelines.stats.rmst import rmst, rmst_difference
from tests.stats.lung import R_DIR, lung, r

THREE_DECIMALS = 5e-4
COVARIATES = ["age", "female", "ph.ecog"]


def _terms(fit) -> dict[str, dict]:
    return {row["term"]: row for row in fit.terms.iter_rows(named=True)}


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_multivariable_cox_matches_coxph(ties):
    fit = fit_cox(lung(), covariates=COVARIATES, ties=ties)
    assert fit.n == r(f"adjust.{ties}.n") == 227 and fit.n_dropped == 1  # one ECOG missing
    assert fit.log_likelihood == pytest.approx(r(f"adjust.{ties}.loglik"), abs=1e-6)
    terms = _terms(fit)
    for name in COVARIATES:
        for ours, theirs in (("coef", "coef"), ("se", "se"), ("p_value", "p")):
            assert terms[name][ours] == pytest.approx(r(f"adjust.{ties}.{name}.{theirs}"),
                                                      abs=1e-5), (name, ours)


def test_efron_and_breslow_differ_as_in_r():
    efron, breslow = (_terms(fit_cox(lung(), covariates=COVARIATES, ties=t)) for t in
                      ("efron", "breslow"))
    assert efron["female"]["coef"] != pytest.approx(breslow["female"]["coef"], abs=1e-4)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_ph_test_matches_cox_zph(ties):
    table = {row["term"]: row for row in
             ph_test(fit_cox(lung(), covariates=COVARIATES, ties=ties)).iter_rows(named=True)}
    for name in [*COVARIATES, "GLOBAL"]:
        assert table[name]["chisq"] == pytest.approx(r(f"zph.{ties}.{name}.chisq"), abs=1e-4)
        assert table[name]["p_value"] == pytest.approx(r(f"zph.{ties}.{name}.p"), abs=1e-4)


def _lung_ecog_0_to_2() -> pl.DataFrame:
    return lung().filter(pl.col("ph.ecog") < 3).with_columns(
        ecog=pl.col("ph.ecog").cast(pl.Int64).cast(pl.String))


def test_ph_test_of_a_categorical_term_has_its_degrees_of_freedom():
    fit = fit_cox(_lung_ecog_0_to_2(), covariates=["age", "female", "ecog"])
    assert _terms(fit)["ecog=2"]["coef"] == pytest.approx(r("factor.factor(ph.ecog)2.coef"),
                                                          abs=1e-4)
    table = {row["term"]: row for row in ph_test(fit).iter_rows(named=True)}
    assert table["ecog"]["df"] == 2 and table["GLOBAL"]["df"] == 4
    assert table["ecog"]["chisq"] == pytest.approx(r("zph.factor.factor(ph.ecog).chisq"), abs=1e-4)
    assert table["GLOBAL"]["chisq"] == pytest.approx(r("zph.factor.GLOBAL.chisq"), abs=1e-4)


def test_stratified_cox_ph_test_and_logrank():
    data = _lung_ecog_0_to_2()
    fit = fit_cox(data, covariates=["age", "female"], strata=["ph.ecog"])
    terms = _terms(fit)
    assert terms["female"]["coef"] == pytest.approx(r("strata.female.coef"), abs=1e-4)
    assert terms["female"]["se"] == pytest.approx(r("strata.female.se"), abs=1e-4)
    table = {row["term"]: row for row in ph_test(fit).iter_rows(named=True)}
    assert table["GLOBAL"]["chisq"] == pytest.approx(r("zph.strata.GLOBAL.chisq"), abs=1e-4)
    test = stratified_logrank_test(data, group="female", strata="ph.ecog").row(0, named=True)
    assert test["chisq"] == pytest.approx(r("logrank.strata.chisq"), abs=1e-6)


@pytest.mark.parametrize("horizon", [365.25, 730.5])
def test_rmst_matches_survfit_rmean(horizon):
    table = rmst(lung().with_columns(group=pl.col("female").cast(pl.String)), horizon_days=horizon)
    rows = {row["group"]: row for row in table.iter_rows(named=True)}
    for g in ("0", "1"):
        assert rows[g]["rmst_days"] == pytest.approx(r(f"rmst.{horizon:g}.{g}.rmean"), abs=1e-6)
        assert rows[g]["se_days"] == pytest.approx(r(f"rmst.{horizon:g}.{g}.se"), abs=1e-6)
    diff = rmst_difference(table, level="1", reference="0")
    assert diff["difference_days"] == pytest.approx(
        r(f"rmst.{horizon:g}.1.rmean") - r(f"rmst.{horizon:g}.0.rmean"), abs=1e-6)
    assert diff["se_days"] == pytest.approx(
        np.hypot(r(f"rmst.{horizon:g}.1.se"), r(f"rmst.{horizon:g}.0.se")), abs=1e-6)


@pytest.mark.parametrize(("method", "weight"), [("iptw", "w_ate"), ("iptw-att", "w_att")])
def test_weighted_cox_with_robust_variance_matches_coxph(method, weight):
    adjusted = adjust(lung(), treatment="female", covariates=["age", "ph.ecog", "ph.karno"],
                      method=method, required=["time_days", "event"])
    assert adjusted.data.height == r("ps.n")
    assert adjusted.data["propensity"].sum() == pytest.approx(r("ps.sum"), abs=1e-6)
    if method == "iptw":
        assert adjusted.data["weight"].sum() == pytest.approx(r("ps.w_ate.sum"), abs=1e-6)
    fit = fit_cox(adjusted.data, covariates=["female"], weights="weight")
    row = _terms(fit)["female"]
    assert fit.variance == "robust"
    assert row["coef"] == pytest.approx(r(f"weighted.{weight}.coef"), abs=1e-5)
    # lifelines' robust variance uses Breslow-type score residuals; R's uses Efron's:
    # equal to 3 decimals on these tied times (docs/statistics.md)
    assert row["se"] == pytest.approx(r(f"weighted.{weight}.robust_se"), abs=THREE_DECIMALS)


def test_weighted_kaplan_meier_median_matches_survfit():
    adjusted = adjust(lung(), treatment="female", covariates=["age", "ph.ecog", "ph.karno"],
                      required=["time_days", "event"])
    curve = kaplan_meier(adjusted.data, group="female", weights="weight")
    medians = dict(median_survival(curve).select("group", "median_days").iter_rows())
    assert medians["0"] == r("weighted_km.0.median") and medians["1"] == r("weighted_km.1.median")


@pytest.mark.parametrize("ci", ["log", "log-log"])
def test_events_on_day_zero_stay_in_the_median_ci(ci):
    data = pl.DataFrame({"time_days": [0.0, 0, 0, 5, 8, 12, 20, 30, 40, 50],
                         "event": [1, 1, 1, 1, 1, 0, 1, 0, 1, 0]})
    row = median_survival(kaplan_meier(data, ci=ci)).row(0, named=True)
    assert row["median_days"] == r(f"day0.{ci}.median")
    assert row["median_ci_lower_days"] == r(f"day0.{ci}.lower") == 0
    assert row["median_ci_upper_days"] is None  # R: NA


def _mgus2() -> pl.DataFrame:
    return pl.read_csv(R_DIR / "mgus2.csv").rename({"etime": "time_days"})


@pytest.mark.parametrize("cause", [1, 2])
def test_cumulative_incidence_and_variance_match_cmprsk(cause):
    cif = cumulative_incidence(_mgus2(), status="status", cause=cause, group="sex")
    at = cumulative_incidence_at(cif, [60, 120, 240])
    for row in at.iter_rows(named=True):
        key = f"cuminc.{row['group']}_{cause}.{row['at_days']:g}"
        assert row["cumulative_incidence"] == pytest.approx(r(f"{key}.est"), abs=1e-9)
        assert row["variance"] == pytest.approx(r(f"{key}.var"), rel=1e-8)
        assert row["ci_lower"] < row["cumulative_incidence"] < row["ci_upper"]


@pytest.mark.parametrize("cause", [1, 2])
def test_gray_test_matches_cmprsk(cause):
    data = _mgus2()
    two = gray_test(data, status="status", cause=cause, group="sex").row(0, named=True)
    assert two["df"] == 1
    assert two["chisq"] == pytest.approx(r(f"gray.{cause}.stat"), rel=1e-8)
    assert two["p_value"] == pytest.approx(r(f"gray.{cause}.p"), rel=1e-6)
    three = gray_test(data, status="status", cause=cause, group="agegroup").row(0, named=True)
    assert three["df"] == 2
    assert three["chisq"] == pytest.approx(r(f"gray3.{cause}.stat"), rel=1e-8)
    stratified = gray_test(data, status="status", cause=cause, group="agegroup", strata="sex")
    assert stratified["chisq"][0] == pytest.approx(r(f"gray3strata.{cause}.stat"), rel=1e-8)


def _lung_snapshot(home) -> None:
    import datetime as dt

    from tests.stats.published_fixture import build_published

    rows = lung().with_columns(
        patient_id=pl.format("L{}", pl.col("patient_id")),
        episode_id=pl.format("L{}-E1", pl.col("patient_id")))
    episodes = rows.select(
        "patient_id", "episode_id", "sex", is_first_episode=pl.lit(True),
        age_at_episode="age", ecog_at_diagnosis="ph.ecog",
        episode_date=pl.lit(dt.date(2020, 1, 1)), lct_start_date=pl.lit(None, pl.Date))
    outcomes = rows.select(
        "episode_id", "patient_id", is_first_episode=pl.lit(True), origin=pl.lit("episode"),
        os_days="time_days", os_event="event", pfs_days="time_days", pfs_event="event",
        wsp_days="time_days", wsp_event="event")
    build_published(home, tables={"episode_cohort": episodes, "episode_outcomes": outcomes})


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_oligo_survival_reproduces_r_on_the_lung_data(ties, tmp_path, monkeypatch, capsys):
    import json

    from pipelines.cli import main

    _lung_snapshot(tmp_path)
    monkeypatch.setenv("OLIGO_HOME", str(tmp_path))
    assert main(["survival", "--endpoint", "os", "--by", "sex", "--reference", "male",
                 "--adjust", "age_at_episode,ecog_at_diagnosis", "--ties", ties, "--ph-test",
                 "--rmst-months", "12", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)["comparative"]
    model = {t["term"]: t for t in doc["model"]["terms"]}
    assert doc["model"]["n"] == 227 and doc["model"]["n_dropped"] == 1
    female = model["group=female"]
    assert female["coef"] == pytest.approx(r(f"adjust.{ties}.female.coef"), abs=THREE_DECIMALS)
    assert female["se"] == pytest.approx(r(f"adjust.{ties}.female.se"), abs=THREE_DECIMALS)
    assert model["ecog_at_diagnosis"]["coef"] == pytest.approx(
        r(f"adjust.{ties}.ph.ecog.coef"), abs=THREE_DECIMALS)
    zph = {t["term"]: t for t in doc["ph_test"]}
    assert zph["group"]["chisq"] == pytest.approx(r(f"zph.{ties}.female.chisq"), abs=THREE_DECIMALS)
    assert zph["GLOBAL"]["chisq"] == pytest.approx(r(f"zph.{ties}.GLOBAL.chisq"),
                                                   abs=THREE_DECIMALS)
    rmst_rows = {row["group"]: row for row in doc["rmst"]}
    assert rmst_rows["female"]["rmst_days"] == pytest.approx(r("rmst.365.25.1.rmean"),
                                                             abs=THREE_DECIMALS)
    assert rmst_rows["male"]["se_days"] == pytest.approx(r("rmst.365.25.0.se"), abs=THREE_DECIMALS)


def test_a_level_without_events_is_not_estimable_and_leaves_the_others_as_r():
    from pipelines.stats.comparison import cox_hazard_ratios

    data = lung().with_columns(grp=pl.when(pl.col("female") == 1).then(pl.lit("female"))
                               .otherwise(pl.lit("male")))
    censored_men = data.with_row_index("row").filter(
        (pl.col("event") == 0) & (pl.col("female") == 0))["row"].head(8)
    data = data.with_row_index("row").with_columns(
        grp=pl.when(pl.col("row").is_in(censored_men)).then(pl.lit("none"))
        .otherwise(pl.col("grp")))
    table = {row["level"]: row for row in
             cox_hazard_ratios(data, group="grp", reference="male").iter_rows(named=True)}
    assert not table["none"]["is_estimable"] and table["none"]["hazard_ratio"] is None
    assert "no events" in table["none"]["note"]
    assert table["female"]["hazard_ratio"] == pytest.approx(r("zero_level.female.hr"),
                                                            abs=THREE_DECIMALS)
    # the reference without events: every HR of the column is not estimable, and says why
    against_none = cox_hazard_ratios(data, group="grp", reference="none")
    assert not against_none["is_estimable"].any()
    assert against_none["note"].str.contains("choose another reference").all()

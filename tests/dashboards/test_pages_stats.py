"""The statistics and formatting behind the second set of pages: Gray's test and the CIF
variance against literal step-by-step implementations of the published algorithms (Gray
1988; cmprsk's estimator), the CIF limits against lifelines, Wilson intervals, SMDs,
journal-style numbers, and the code labels."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from lifelines import AalenJohansenFitter

from dashboards import formatting, labels
from dashboards.competing_risk_stats import cif_variance, gray_test, with_confidence_limits
from dashboards.smd import categorical_smd, continuous_smd
from dashboards.toxicity import wilson_interval
from pipelines.stats import cumulative_incidence


def gray_reference(y, m, ig, ng):
    """Gray's K-sample statistic, one distinct time after another (rho = 0)."""
    order = np.argsort(y, kind="stable")
    y, m, ig = y[order], m[order], ig[order]
    n, ng1 = len(y), ng - 1
    rs = np.bincount(ig, minlength=ng).astype(float)
    s, v = np.zeros(ng1), np.zeros((ng1, ng1))
    f1m, f1, skmm, skm = np.zeros(ng), np.zeros(ng), np.ones(ng), np.ones(ng)
    v3, v2, c = np.zeros(ng), np.zeros((ng1, ng)), np.zeros((ng, ng))
    fm = f = 0.0
    start = 0
    while start < n:
        stop = start
        while stop + 1 < n and y[stop + 1] == y[start]:
            stop += 1
        d = np.zeros((3, ng))
        for i in range(start, stop + 1):
            d[m[i], ig[i]] += 1
        nd1, nd2 = d[1].sum(), d[2].sum()
        if nd1 or nd2:
            tr = tq = 0.0
            for i in range(ng):
                if rs[i] > 0:
                    skm[i] = skmm[i] * (rs[i] - d[1, i] - d[2, i]) / rs[i]
                    f1[i] = f1m[i] + skmm[i] * d[1, i] / rs[i]
                    tr += rs[i] / skmm[i]
                    tq += rs[i] * (1 - f1m[i]) / skmm[i]
            f = fm + nd1 / tr
            a = np.zeros((ng, ng))
            for i in range(ng):
                for j in range(ng):
                    if rs[i] > 0 and rs[j] > 0:
                        h_i, h_j = rs[i] / skmm[i], rs[j] / skmm[j]
                        a[i, j] = h_i * ((1 - h_i / tr) if i == j else -h_j / tr)
                        c[i, j] += a[i, j] * nd1 / (tr * (1 - fm))
            for i in range(ng1):
                if rs[i] > 0:
                    s[i] += d[1, i] - nd1 * rs[i] * (1 - f1m[i]) / (skmm[i] * tq)
            for k in range(ng):
                if nd1 > 0 and rs[k] > 0:
                    t4 = 1 - (1 - f) / skm[k] if skm[k] > 0 else 1
                    t5 = 1 - (nd1 - 1) / (tr * skmm[k] - 1) if nd1 > 1 else 1
                    t3 = t5 * skmm[k] * nd1 / (tr * rs[k])
                    v3[k] += t4 * t4 * t3
                    for i in range(ng1):
                        v2[i, k] += (a[i, k] - t4 * c[i, k]) * t4 * t3
                        for j in range(ng1):
                            v[i, j] += (a[i, k] - t4 * c[i, k]) * (a[j, k] - t4 * c[j, k]) * t3
                if nd2 > 0 and skm[k] > 0 and d[2, k] > 0:
                    t4 = (1 - f) / skm[k]
                    t5 = 1 - (d[2, k] - 1) / (rs[k] - 1) if d[2, k] > 1 else 1
                    t3 = t5 * skmm[k] ** 2 * d[2, k] / rs[k] ** 2
                    v3[k] += t4 * t4 * t3
                    for i in range(ng1):
                        v2[i, k] -= t4 * c[i, k] * t4 * t3
                        for j in range(ng1):
                            v[i, j] += t4 * c[i, k] * t4 * c[j, k] * t3
        for i in range(start, stop + 1):
            rs[ig[i]] -= 1
        fm, f1m, skmm = f, f1.copy(), skm.copy()
        start = stop + 1
    for i in range(ng1):
        for j in range(ng1):
            v[i, j] += sum(c[i, k] * c[j, k] * v3[k] + c[i, k] * v2[j, k] + c[j, k] * v2[i, k]
                           for k in range(ng))
    return s, v


def cinc_reference(y, status):
    """cmprsk's cumulative incidence variance, one distinct time after another."""
    order = np.argsort(y, kind="stable")
    y, status = y[order], status[order]
    n = len(y)
    s_before, incidence, v1, v2, v3, variance = 1.0, 0.0, 0.0, 0.0, 0.0, 0.0
    out = {}
    start = 0
    while start < n:
        stop = start
        while stop + 1 < n and y[stop + 1] == y[start]:
            stop += 1
        at_risk = n - start
        d1 = int((status[start:stop + 1] == 1).sum())
        d2 = int((status[start:stop + 1] == 2).sum())
        s_after = s_before * (at_risk - d1 - d2) / at_risk
        incidence += s_before * d1 / at_risk
        for d, cause in ((d2, False), (d1, True)):
            if d == 0 or (not cause and s_after <= 0):
                continue
            t5 = 1 - (d - 1) / (at_risk - 1) if d > 1 else 1
            t6 = s_before**2 * t5 * d / at_risk**2
            t3 = 1 / s_after if s_after > 0 else 0
            t4 = 1 + t3 * incidence if cause else incidence / s_after
            v1, v2, v3 = v1 + t4 * t4 * t6, v2 + t3 * t4 * t6, v3 + t3 * t3 * t6
        if d1:
            variance = v1 + incidence**2 * v3 - 2 * incidence * v2
        out[float(y[start])] = (incidence, variance)
        s_before = s_after
        start = stop + 1
    return out


def competing_data(seed: int, n: int, groups: int, ties: bool):
    rng = np.random.default_rng(seed)
    group = rng.integers(0, groups, n)
    time = rng.exponential(30 + 15 * group, n)
    time = np.ceil(time) if ties else time + rng.random(n) * 1e-3
    status = rng.choice(3, n, p=[0.35, 0.4, 0.25])
    return time, status, group


@pytest.mark.parametrize(("groups", "ties"), [(2, True), (3, True), (4, False)])
def test_gray_test_equals_the_step_by_step_algorithm(groups, ties):
    time, status, group = competing_data(groups, 250, groups, ties)
    scores, variance = gray_reference(time, status, group, groups)
    expected = float(scores @ np.linalg.solve(variance, scores))
    frame = pl.DataFrame({"time_days": time, "status": status, "group": [str(g) for g in group]})
    result = gray_test(frame)
    assert result.df == groups - 1
    assert result.scores == pytest.approx(tuple(scores), rel=1e-9)
    assert result.statistic == pytest.approx(expected, rel=1e-9)


def test_gray_test_detects_a_difference_and_not_a_copy():
    rng = np.random.default_rng(5)
    n = 300
    fast = pl.DataFrame({"time_days": np.ceil(rng.exponential(10, n)),
                         "status": rng.choice([1, 2], n, p=[0.8, 0.2]), "group": "a"})
    slow = pl.DataFrame({"time_days": np.ceil(rng.exponential(10, n)),
                         "status": rng.choice([1, 2], n, p=[0.2, 0.8]), "group": "b"})
    assert gray_test(pl.concat([fast, slow])).p_value < 0.001
    copy = pl.concat([fast, fast.with_columns(group=pl.lit("b"))])
    assert gray_test(copy).statistic == pytest.approx(0.0, abs=1e-12)
    assert gray_test(fast) is None  # one group: no test


@pytest.mark.parametrize("ties", [True, False])
def test_cif_variance_equals_the_step_by_step_estimator(ties):
    time, status, _ = competing_data(11, 200, 1, ties)
    cif = cumulative_incidence(pl.DataFrame({"time_days": time, "status": status}))
    incidence, variance = cif_variance(cif["n_at_risk"], cif["n_events"], cif["n_competing"])
    reference = cinc_reference(time, status)
    for t, f, v in zip(cif["time_days"], incidence, variance, strict=True):
        if t in reference:
            assert f == pytest.approx(reference[t][0], abs=1e-12)
            assert v == pytest.approx(reference[t][1], rel=1e-9, abs=1e-15)


def test_cif_limits_agree_with_lifelines_on_untied_data():
    time, status, _ = competing_data(3, 200, 1, ties=False)
    cif = with_confidence_limits(
        cumulative_incidence(pl.DataFrame({"time_days": time, "status": status}))
    )
    fitted = AalenJohansenFitter(jitter_level=0).fit(time, status, event_of_interest=1)
    times = fitted.cumulative_density_.index.to_numpy()
    for q in (20, 60, 120):
        at = np.sort(time)[q]
        row = cif.filter(pl.col("time_days") <= at).tail(1).row(0, named=True)
        index = np.searchsorted(times, at, side="right") - 1
        assert row["cumulative_incidence"] == pytest.approx(
            fitted.cumulative_density_.iloc[index, 0], rel=1e-9)
        # cmprsk's (Aalen-type) and lifelines' (Greenwood-type) variances differ slightly.
        assert row["variance"] == pytest.approx(fitted.variance_.iloc[index], rel=0.03)
        lower, upper = fitted.confidence_interval_.iloc[index].to_numpy()
        assert row["ci_lower"] == pytest.approx(lower, rel=0.03)
        assert row["ci_upper"] == pytest.approx(upper, rel=0.03)
        assert row["ci_lower"] <= row["cumulative_incidence"] <= row["ci_upper"]


def test_wilson_interval_known_values():
    # Brown, Cai & DasGupta 2001: 0/10 -> (0, 0.278); 5/10 -> (0.237, 0.763).
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def test_standardised_mean_differences():
    a = pl.Series("x", [1.0, 2.0, 3.0, 4.0])
    b = pl.Series("x", [2.0, 3.0, 4.0, 5.0])
    assert continuous_smd(a, b) == pytest.approx(1 / math.sqrt(5 / 3))
    # Two levels: the categorical SMD equals the binary formula |p1 - p2| / sqrt(mean var).
    yes = pl.Series("s", ["F"] * 30 + ["M"] * 70)
    no = pl.Series("s", ["F"] * 50 + ["M"] * 50)
    binary = abs(0.3 - 0.5) / math.sqrt((0.3 * 0.7 + 0.5 * 0.5) / 2)
    assert categorical_smd(yes, no) == pytest.approx(binary)
    assert categorical_smd(yes, yes) == pytest.approx(0.0)


@pytest.mark.parametrize(("p", "text"), [
    (0.0004, "p < 0.001"), (0.0042, "p = 0.004"), (0.0312, "p = 0.03"), (0.5, "p = 0.50"),
    (0.996, "p > 0.99"), (None, "—"), (float("nan"), "—"),
])
def test_p_values_as_journals_print_them(p, text):
    assert formatting.p_value(p) == text


def test_estimates_with_their_interval():
    assert formatting.estimate_ci(0.4312, 0.31, 0.6) == "0.43 (95% CI 0.31–0.60)"
    assert formatting.percent_ci(0.1234, 0.081, 0.174) == "12.3% (95% CI 8.1–17.4)"


def test_every_code_of_a_generated_batch_has_a_label(pipeline_home):
    import duckdb

    coded = {  # table, column, vocabulary
        "marts.episode_cohort": ["omd_state", "omd_family", "sex", "smoking_status",
                                 "histology_group", "driver_status", "pdl1_category",
                                 "treatment_strategy"],
        "marts.lesion_outcomes": ["organ"],
        "marts.local_treatments": ["modality", "organ"],
        "marts.disease_assessments": ["assessment_state", "assessment_kind"],
        "staging.toxicities": ["attribution"],
        "staging.patients": ["vital_status"],
    }
    with duckdb.connect(str(pipeline_home.paths.current), read_only=True) as con:
        for table, columns in coded.items():
            for column in columns:
                values = [v for (v,) in con.execute(
                    f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL"
                ).fetchall()]
                missing = [v for v in values if v not in labels.labels_for(column)]
                assert not missing, (table, column, missing)

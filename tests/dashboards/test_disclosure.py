"""The disclosure-control layer (dashboards/disclosure.py), case by case."""

from __future__ import annotations

import os
import stat

import numpy as np
import polars as pl
import pytest

from dashboards import disclosure as dc


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("OLIGO_HOME", str(tmp_path))
    for name in (dc.THRESHOLD_ENV, dc.MIN_GROUP_ENV, dc.MAX_NOISE_ENV, dc.VARIANCE_ENV):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


AGG = dc.policy_for("aggregate")
ANALYST = dc.policy_for("analyst")


def rows(n: int, group: str = "g", start: int = 0) -> pl.DataFrame:
    return pl.DataFrame({"episode_id": [f"e{i}" for i in range(start, start + n)],
                         "grp": [group] * n})


def test_policies_by_role():
    assert AGG.perturb and AGG.threshold == 5 and AGG.min_group == 20
    assert AGG.max_noise == 3 and AGG.variance == 2.0
    for role in ("analyst", "admin"):
        policy = dc.policy_for(role)
        assert not policy.perturb and policy.threshold == 1 and policy.min_group == 1
    assert dc.rows_allowed(ANALYST) and not dc.rows_allowed(AGG)


def test_policy_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv(dc.THRESHOLD_ENV, "11")
    monkeypatch.setenv(dc.MIN_GROUP_ENV, "50")
    monkeypatch.setenv(dc.MAX_NOISE_ENV, "x")
    policy = dc.policy_for("aggregate")
    assert (policy.threshold, policy.min_group, policy.max_noise) == (11, 50, 3)


def test_ptable_rows_are_unbiased_bounded_and_never_cross_the_threshold():
    table = dc.ptable(AGG)
    assert table.height == 256 * (AGG.threshold + AGG.max_noise + 1)
    by_row = table.group_by("count_row").agg(
        mean=pl.col("perturbation").mean(), var=pl.col("perturbation").var(ddof=0),
        low=pl.col("perturbation").min(), high=pl.col("perturbation").max(), keys=pl.len(),
    ).sort("count_row")
    assert (by_row["keys"] == 256).all()
    assert by_row.filter(pl.col("count_row") < AGG.threshold)["high"].to_list() == [0] * 5
    for row in by_row.filter(pl.col("count_row") >= AGG.threshold).iter_rows(named=True):
        assert abs(row["mean"]) < 0.02, row  # quantisation to 1/256 only
        assert -AGG.max_noise <= row["low"] and row["high"] <= AGG.max_noise
        assert row["count_row"] + row["low"] >= AGG.threshold  # never shown as small
    unrestricted = by_row.row(-1, named=True)
    assert unrestricted["var"] == pytest.approx(AGG.variance, abs=0.05)


def test_record_keys_are_stable_keyed_and_spread(home):
    ids = pl.Series("patient_id", [f"p{i}" for i in range(5000)])
    first = dc.record_keys(ids)
    assert first.equals(dc.record_keys(ids))  # stable
    assert not first.equals(dc.record_keys(ids, secret="f" * 64))  # depends on the secret
    assert first.min() >= 0 and first.max() <= 255
    counts = np.bincount(first.to_numpy(), minlength=256)
    assert counts.min() > 0 and counts.max() < 60  # about 20 each
    key_file = home / dc.KEY_FILE
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert "published" not in key_file.parts


def test_small_counts_zero_and_large_counts():
    frame = pl.concat([rows(3, "a"), rows(40, "b", 100)])
    out = dc.protected_counts(frame, ["grp"], unit="episode_id", policy=AGG)
    a, b = out.row(0, named=True), out.row(1, named=True)
    assert (a["n"], a["n_label"], a["n_small"]) == (None, "<5", True)
    assert abs(b["n"] - 40) <= 3 and b["n_label"] == str(b["n"]) and not b["n_small"]
    assert dc.protected_total(rows(0), unit="episode_id", policy=AGG).label == "0"


def test_same_units_always_show_the_same_value_in_any_order():
    frame = rows(57)
    one = dc.protected_total(frame, unit="episode_id", policy=AGG)
    other = dc.protected_total(frame.reverse(), unit="episode_id", policy=AGG)
    assert one == other
    # the same cell reached through a grouping and through a filter
    grouped = dc.protected_counts(pl.concat([frame, rows(30, "z", 500)]), ["grp"],
                                  unit="episode_id", policy=AGG)
    assert grouped.filter(pl.col("grp") == "g")["n"].item() == one.value


def test_differences_of_overlapping_cells_stay_noisy():
    # Over many (A, A∪B) pairs with B of 2 units, the difference of the shown values is
    # B's true size only part of the time.
    pairs = 400
    a = pl.concat([rows(50, f"a{i}", start=60 * i) for i in range(pairs)])
    b = pl.concat([rows(2, f"a{i}", start=60 * i + 50) for i in range(pairs)])
    both = pl.concat([a, b]).with_columns(grp=pl.lit("ab_") + pl.col("grp"))
    shown = dc.protected_counts(pl.concat([a, both]), ["grp"], unit="episode_id", policy=AGG)
    values = dict(zip(shown["grp"], shown["n"], strict=True))
    hits = sum(values[f"ab_a{i}"] - values[f"a{i}"] == 2 for i in range(pairs))
    assert 0.08 < hits / pairs < 0.35, hits  # about Σp² ≈ 0.19 for the default p-table


def test_analyst_sees_exact_counts_without_suppression():
    out = dc.protected_counts(pl.concat([rows(3, "a"), rows(40, "b", 100)]), ["grp"],
                              unit="episode_id", policy=ANALYST)
    assert out["n"].to_list() == [3, 40] and out["n_label"].to_list() == ["3", "40"]


def test_distinct_units_are_counted():
    frame = pl.DataFrame({"patient_id": ["p1", "p1", "p2"] * 4, "g": ["x"] * 12})
    assert dc.protected_total(frame, unit="patient_id", policy=ANALYST).value == 2


def test_thousands_separator():
    values = pl.DataFrame({"n": [0, 999, 1000, 1234567]})
    text = values.select(dc.thousands(pl.col("n")))["n"].to_list()
    assert text == ["0", "999", "1,000", "1,234,567"]


def test_flag_counts_keep_zeros_and_order():
    frame = pl.DataFrame({"episode_id": [f"e{i}" for i in range(30)],
                          "has_brain": [True] * 30, "has_bone": [False] * 28 + [True] * 2})
    out = dc.protected_flag_counts(frame, {"bone": "has_bone", "brain": "has_brain",
                                           "liver": "has_bone"}, unit="episode_id", policy=AGG)
    assert out["label"].to_list() == ["bone", "brain", "liver"]
    assert out["n_label"].to_list()[0] == "<5"
    assert abs(out["n"][1] - 30) <= 3


def test_numbers_at_risk_at_zero_equal_the_group_count():
    frame = pl.DataFrame({"episode_id": [f"e{i}" for i in range(45)],
                          "time": [float(i * 10) for i in range(45)], "grp": ["g"] * 45})
    risk = dc.protected_at_risk(frame, time="time", at=[0, 100, 440, 1000], by=["grp"],
                                unit="episode_id", policy=AGG)
    total = dc.protected_total(frame, unit="episode_id", policy=AGG)
    assert risk["n"][0] == total.value
    assert risk["n_label"].to_list()[2:] == ["<5", "0"]
    exact = dc.protected_at_risk(frame, time="time", at=[0, 100], by=["grp"],
                                 unit="episode_id", policy=ANALYST)
    assert exact["n"].to_list() == [45, 35]  # time ≥ t, as pipelines.stats.numbers_at_risk


def test_curve_gate_by_group_size_and_events():
    frame = pl.DataFrame({
        "episode_id": [f"e{i}" for i in range(19 + 20 + 30)],
        "grp": ["small"] * 19 + ["ok"] * 20 + ["few_events"] * 30,
        "event": [1] * 19 + [1] * 10 + [0] * 10 + [1] * 3 + [0] * 27,
    })
    gate = dc.gate_groups(frame, "grp", unit="episode_id", policy=AGG, event="event",
                          order=["small", "ok", "few_events"])
    assert gate.allowed == ["ok"]
    assert gate.refused == {"small": "fewer than 20 episodes", "few_events": "fewer than 5 events"}
    assert "small (fewer than 20 episodes)" in dc.gate_message(gate)
    assert dc.gate_groups(frame, "grp", unit="episode_id", policy=ANALYST,
                          event="event").refused == {}


def test_aggregated_counts_are_perturbed_consistently():
    counts = pl.DataFrame({"step": ["a", "b", "c"], "n_patients": [480, 300, 3]})
    one = dc.protected_aggregate_counts(counts, count="n_patients", identity=["step"],
                                        policy=AGG)
    assert one.equals(dc.protected_aggregate_counts(counts, count="n_patients",
                                                    identity=["step"], policy=AGG))
    assert one["step"].to_list() == ["a", "b", "c"]
    assert one["n_label"][2] == "<5" and abs(one["n"][0] - 480) <= 3


def test_cohort_flow_last_step_shows_the_headline_patient_count():
    """The flow's last box and the headline 'Patients' are one cell: one value, in the
    aggregate role too; a last step that is not the cohort keeps its aggregated count."""
    from dashboards.study_stats import flow_steps

    cohort_rows = pl.DataFrame({"patient_id": [f"p{i // 2}" for i in range(80)],
                                "episode_id": [f"e{i}" for i in range(80)]})
    attrition = pl.DataFrame({"step_order": [1, 2], "step": ["registry", "with an OMD episode"],
                              "remaining": [90, 40]})
    headline = dc.protected_total(cohort_rows, unit="patient_id", policy=AGG)
    steps = flow_steps(attrition, None, AGG, cohort_rows=cohort_rows)
    assert steps["n_label"][-1] == headline.label
    other = attrition.with_columns(remaining=pl.Series([90, 41]))
    aggregated = flow_steps(other, None, AGG)
    assert flow_steps(other, None, AGG, cohort_rows=cohort_rows)["n_label"].to_list() == \
        aggregated["n_label"].to_list()


def test_cohort_flow_of_the_pipeline_steps_reads_in_words_with_one_value_per_set_of_patients():
    """The pipeline's step codes (marts.cohort_attrition) are shown in words; steps that
    exclude nobody show one value (the same patients are one cell, so the flow never goes
    4,999 -> 5,001); the with-OMD-episode step, not the last, equals the headline."""
    from dashboards.labels import labels_for
    from dashboards.study_stats import flow_steps

    codes = ["registry_patients", "excluded_opt_out", "excluded_no_primary", "excluded_sclc",
             "nsclc", "with_omd_episode", "with_synchronous_omd"]
    remaining = [5000, 5000, 5000, 4833, 4833, 40, 25]
    attrition = pl.DataFrame({"step_order": range(1, 8), "step": codes, "remaining": remaining})
    cohort_rows = pl.DataFrame({"patient_id": [f"p{i // 2}" for i in range(80)],
                                "episode_id": [f"e{i}" for i in range(80)]})
    steps = flow_steps(attrition, None, AGG, cohort_rows=cohort_rows)
    words = labels_for("attrition_step")
    assert steps["step"].to_list() == [words[c] for c in codes]
    shown = steps["n_label"].to_list()
    assert len(set(shown[:3])) == 1 and shown[3] == shown[4]
    assert steps["excluded_label"].to_list()[1:3] == ["0", "0"]
    headline = dc.protected_total(cohort_rows, unit="patient_id", policy=AGG)
    assert shown[5] == headline.label
    assert abs(int(shown[0].replace(",", "")) - 5000) <= 3

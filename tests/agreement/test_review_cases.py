"""The review's cases on the generated batch (pipelines/synthetic/review_cases.py): the
cohort attrition reconciles step by step, nothing after the cut-off enters the marts, and a
regional node of the staging is no PFS event."""

from __future__ import annotations

import polars as pl
import pytest

pytestmark = pytest.mark.slow  # uses the session's 10,000-patient batch


def test_cohort_attrition_reconciles_step_by_step(generated):
    a = generated.derived.episodes["cohort_attrition"].sort("step_order")
    assert a.columns == ["step_order", "step", "remaining", "excluded", "reason"]
    assert a["step"][:2].to_list() == ["registry_patients", "excluded_opt_out"]
    assert a["remaining"][0] == generated.derived.staging["patients"].height  # no opt-out
    previous = a["remaining"].shift(1)
    assert (a["remaining"][1:] == (previous - a["excluded"])[1:]).all()
    assert a["excluded"][0] == 0 and (a["excluded"] >= 0).all()
    assert a["step_order"].to_list() == list(range(1, a.height + 1))
    episodes = generated.derived.episodes["omd_episodes"]
    remaining = dict(zip(a["step"], a["remaining"], strict=True))
    assert remaining["with_omd_episode"] == episodes["patient_id"].n_unique()
    assert remaining["nsclc"] == generated.derived.episodes["nsclc_population"][
        "is_nsclc"].sum()


def test_nothing_after_the_cutoff_enters_the_marts(generated):
    cutoff = generated.derived.data_cutoff_date
    d = generated.derived
    assert d.staging["metastases"]["detected_date"].max() <= cutoff
    assert d.episodes["disease_assessments"]["assessment_date"].max() <= cutoff
    assert d.therapy_lines["line_start_date"].max() <= cutoff


def test_a_regional_node_of_the_staging_is_no_pfs_event(generated):
    """Nodes first seen 1-40 days after a synchronous episode (review_cases): no episode of
    those patients has a PFS event dated on the node's day."""
    d = generated.derived
    nodes = d.staging["metastases"].filter(pl.col("organ") == "regional_lymph_node")
    episodes = d.episodes["omd_episodes"].select("episode_id", "patient_id", "episode_date")
    late = nodes.join(episodes, on="patient_id").filter(
        (pl.col("detected_date") > pl.col("episode_date"))
        & ((pl.col("detected_date") - pl.col("episode_date")).dt.total_days() <= 42))
    assert late.height > 20
    outcomes = generated.outcomes["episode_outcomes"].filter(pl.col("origin") == "episode")
    deaths = d.staging["patients"].select("patient_id", "death_date")
    on_node_day = late.join(outcomes, on="episode_id").join(deaths, on="patient_id").filter(
        (pl.col("pfs_event") == 1)
        & pl.col("death_date").ne_missing(pl.col("detected_date"))  # a death that day counts
        & (pl.col("pfs_days") == (pl.col("detected_date") - pl.col("episode_date"))
           .dt.total_days()))
    assert on_node_day.height == 0

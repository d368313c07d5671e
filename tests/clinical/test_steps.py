"""The columns each clinical step reads (pipelines/clinical/steps.py) are enough for its
rules, under the default parameters and under the parameters that change which columns a
rule looks at (adrenals counted per side reads the laterality columns)."""

import dataclasses
import datetime as dt

import polars as pl
import pytest

from pipelines.clinical import steps
from pipelines.clinical.cutoff import staging_at_cutoff
from pipelines.clinical.episodes import ATTRITION_COUNTS, derive_patient_episodes
from pipelines.clinical.parameters import DEFAULT_PARAMETERS
from pipelines.contract.staging import empty_staging_frame

CUTOFF = dt.date(2026, 10, 31)
PARAMETER_SETS = [DEFAULT_PARAMETERS,
                  dataclasses.replace(DEFAULT_PARAMETERS, adrenals_one_organ=False)]


def only(columns: dict[str, tuple[str, ...]], frames=None) -> dict[str, pl.LazyFrame]:
    """Schema-only frames with exactly the listed columns (of staging, or of `frames`)."""
    return {name: (frames[name] if frames else empty_staging_frame(name)).select(cols).lazy()
            for name, cols in columns.items()}


def collect(outputs: dict[str, pl.LazyFrame]) -> dict[str, pl.DataFrame]:
    return dict(zip(outputs, pl.collect_all(list(outputs.values())), strict=True))


@pytest.mark.parametrize("params", PARAMETER_SETS, ids=["default", "adrenals_per_side"])
def test_each_step_runs_on_exactly_its_listed_columns(params):
    episodes = collect(derive_patient_episodes(
        staging_at_cutoff(only(steps.EPISODE_STAGING), CUTOFF), params))
    assert set(episodes) >= set(steps.TREATMENT_UPSTREAM) | {ATTRITION_COUNTS}
    treatments = collect(steps.derive_treatment_step(
        staging_at_cutoff(only(steps.TREATMENT_STAGING), CUTOFF),
        only(steps.TREATMENT_UPSTREAM, episodes), params))
    upstream = only(steps.OUTCOME_UPSTREAM, episodes | treatments)
    outcomes = collect(steps.derive_outcome_step(
        staging_at_cutoff(only(steps.OUTCOME_STAGING), CUTOFF), upstream, CUTOFF, params))
    assert set(outcomes) == {"episode_outcomes", "lesion_outcomes", "toxicity_summary",
                             "patient_followup"}


def test_a_missing_column_fails_loudly():
    columns = dict(steps.OUTCOME_STAGING)
    columns["imaging"] = ("patient_id", "exam_date")  # without modality
    episodes = collect(derive_patient_episodes(
        staging_at_cutoff(only(steps.EPISODE_STAGING), CUTOFF)))
    treatments = collect(steps.derive_treatment_step(
        staging_at_cutoff(only(steps.TREATMENT_STAGING), CUTOFF),
        only(steps.TREATMENT_UPSTREAM, episodes)))
    with pytest.raises(pl.exceptions.ColumnNotFoundError):
        collect(steps.derive_outcome_step(
            staging_at_cutoff(only(columns), CUTOFF),
            only(steps.OUTCOME_UPSTREAM, episodes | treatments), CUTOFF))

"""Marts of a generated batch built in-process, as the pipeline builds them: generate ->
open_batch -> load_raw_table (test pseudonymiser) -> find_row_defects -> build_staging_table
-> derive_* (the loading and the episode/treatment derivations are `pipelines.agreement`;
the outcomes are added here). No Dagster, no published file."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.agreement import Derived, derive_marts, matched_assessments, read_truth
from pipelines.clinical.followup import derive_patient_followup
from pipelines.clinical.outcomes import derive_episode_outcomes, derive_lesion_outcomes
from pipelines.clinical.parameters import DEFAULT_PARAMETERS
from pipelines.clinical.toxicity import derive_toxicity_summary
from pipelines.synthetic.batch import BatchResult, BatchSpec, generate_batch

CUTOFF = dt.date(2026, 10, 31)


@dataclass
class GeneratedMarts:
    batch: BatchResult
    derived: Derived
    truth: pl.DataFrame  # truth assessments, patient_id keyed as the loader keys it
    outcomes: dict[str, pl.DataFrame]
    seconds: dict[str, float]

    def matched(self) -> pl.DataFrame:
        return matched_assessments(self.truth, self.derived)


def derive_outcomes(derived: Derived) -> dict[str, pl.DataFrame]:
    """episode_outcomes, lesion_outcomes, toxicity_summary, patient_followup (the outcome
    asset's calls)."""
    params = DEFAULT_PARAMETERS
    staging = derived.lazy_staging()
    ep = {name: frame.lazy() for name, frame in derived.episodes.items()}
    cutoff = derived.data_cutoff_date
    frames = pl.collect_all([
        derive_episode_outcomes(staging, ep["omd_episodes"], ep["episode_lesions"],
                                ep["disease_assessments"], derived.episode_lct.lazy(),
                                derived.therapy_lines.lazy(), cutoff, params),
        derive_lesion_outcomes(staging, derived.local_treatments.lazy(), cutoff, params),
        derive_toxicity_summary(staging, cutoff, params),
        derive_patient_followup(staging["patients"], ep["omd_episodes"], cutoff),
    ])
    names = ("episode_outcomes", "lesion_outcomes", "toxicity_summary", "patient_followup")
    return dict(zip(names, frames, strict=True))


def build_generated_marts(patients: int, seed: int, out_dir: Path) -> GeneratedMarts:
    seconds = {}
    start = time.perf_counter()
    batch = generate_batch(BatchSpec(patients, seed, Path(out_dir), CUTOFF))
    seconds["generate"] = time.perf_counter() - start
    derived = derive_marts(batch.batch_dir)
    seconds |= derived.seconds
    start = time.perf_counter()
    outcomes = derive_outcomes(derived)
    seconds["outcomes"] = time.perf_counter() - start
    return GeneratedMarts(batch, derived, read_truth(batch.truth_dir), outcomes, seconds)

"""The published marts and their documentation (grain, description, every column)."""

from __future__ import annotations

import importlib

MART_TABLES = (
    "omd_episodes",
    "disease_assessments",
    "cohort_attrition",
    "local_treatments",
    "therapy_lines",
    "episode_cohort",
    "episode_outcomes",
    "lesion_outcomes",
    "toxicity_summary",
    "patient_followup",
)

DOC_MODULES = (
    "pipelines.clinical.marts_episodes",
    "pipelines.clinical.marts_treatments",
    "pipelines.clinical.marts_outcomes",
)


def mart_docs() -> dict[str, dict]:
    docs: dict[str, dict] = {}
    for name in DOC_MODULES:
        docs.update(importlib.import_module(name).MART_DOCS)
    return docs

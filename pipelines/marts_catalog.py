"""The one registry of the tables the clinical assets build: name, layer, builder, keys, docs.

Everything that lists marts is derived from `MARTS`: the Dagster asset specs of the clinical
multi-asset (`pipelines/assets/clinical.py`: one step derives every table, the stages of
`BUILDERS` in order on each patient partition; each stage is the UI group of its tables),
the tables the publisher copies and comments (`MART_TABLES`), the mart keys the
data-quality checks use (`mart_keys()`, read by `pipelines/quality/relations.py`) and the
consistency tests of the fixtures.

Docs are templates: `{line_regimen_window_days}` and the other parameter names of
`pipelines/clinical/parameters.py` are filled from the parameter set of the run, so a
sensitivity run publishes comments that state the values it used.
"""

from __future__ import annotations

import functools
import importlib
import re
from dataclasses import dataclass, fields

from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters

EPISODES = "episodes"
TREATMENTS = "treatments"
OUTCOMES = "outcomes"
BUILDERS = (EPISODES, TREATMENTS, OUTCOMES)  # the derivation's stages, in the order they run

_DOC_MODULES = {
    EPISODES: "pipelines.clinical.marts_episodes",
    TREATMENTS: "pipelines.clinical.marts_treatments",
    OUTCOMES: "pipelines.clinical.marts_outcomes",
}


@dataclass(frozen=True)
class Mart:
    name: str
    layer: str  # "marts" (published) or "clinical" (intermediate, stays in the warehouse)
    builder: str  # the stage of the derivation that computes it (one of BUILDERS)
    keys: tuple[str, ...]  # the grain: these columns identify one row
    grain: str = ""  # for clinical-layer tables without a docs entry

    @property
    def asset_key(self) -> tuple[str, str]:
        return (self.layer, self.name)

    @property
    def is_published(self) -> bool:
        return self.layer == "marts"


MARTS: tuple[Mart, ...] = (
    Mart("nsclc_population", "clinical", EPISODES, ("patient_id",),
         "one row per patient of the registry with the population decision"),
    Mart("episode_lesions", "clinical", EPISODES, ("episode_id", "lesion_id"),
         "one row per OMD episode and counted lesion"),
    Mart("omd_episodes", "marts", EPISODES, ("episode_id",)),
    Mart("disease_assessments", "marts", EPISODES, ("assessment_id",)),
    Mart("cohort_attrition", "marts", EPISODES, ("step_order",)),
    Mart("local_treatments", "marts", TREATMENTS, ("treatment_id", "target", "phase")),
    Mart("therapy_lines", "marts", TREATMENTS, ("patient_id", "line_number")),
    Mart("episode_lct", "clinical", TREATMENTS, ("episode_id",),
         "one row per OMD episode with its local consolidative therapy"),
    Mart("episode_cohort", "marts", TREATMENTS, ("episode_id",)),
    Mart("episode_outcomes", "marts", OUTCOMES, ("episode_id", "origin")),
    Mart("lesion_outcomes", "marts", OUTCOMES, ("lesion_id",)),
    Mart("toxicity_summary", "marts", OUTCOMES, ("course_id",)),
    Mart("patient_followup", "marts", OUTCOMES, ("patient_id",)),
)
MARTS_BY_NAME = {m.name: m for m in MARTS}
MART_TABLES = tuple(m.name for m in MARTS if m.is_published)  # what is published


def built_by(builder: str) -> tuple[Mart, ...]:
    return tuple(m for m in MARTS if m.builder == builder)


def mart_keys() -> dict[str, tuple[str, ...]]:
    """Keys of the published marts, for the key-uniqueness checks."""
    return {m.name: m.keys for m in MARTS if m.is_published}


@functools.cache
def _templates() -> dict[str, dict]:
    docs: dict[str, dict] = {}
    for module in _DOC_MODULES.values():
        docs.update(importlib.import_module(module).MART_DOCS)
    return docs


_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def _formatted(value: object) -> str:
    if value is None:
        return "no limit"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def render(text: str, params: ClinicalParameters = DEFAULT_PARAMETERS) -> str:
    """Fill `{parameter_name}` placeholders; other braces are left as they are."""
    values = {f.name: _formatted(getattr(params, f.name)) for f in fields(params)}
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def mart_docs(params: ClinicalParameters = DEFAULT_PARAMETERS) -> dict[str, dict]:
    """{table: {grain, description, columns}} of every published mart, rendered with `params`."""
    docs = {}
    for name, doc in _templates().items():
        docs[name] = {
            "grain": render(doc.get("grain", ""), params),
            "description": render(doc.get("description", ""), params),
            "columns": {c: render(text, params) for c, text in doc.get("columns", {}).items()},
        }
    return docs


def table_doc(mart: Mart, params: ClinicalParameters = DEFAULT_PARAMETERS) -> dict:
    """The docs of one registry table (clinical-layer tables have a grain only)."""
    return mart_docs(params).get(mart.name) or {
        "grain": mart.grain, "description": f"Intermediate clinical table: {mart.grain}.",
        "columns": {}}

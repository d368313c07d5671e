"""The catalogue: every data-quality check, from the contract, by hand, and on the marts."""

from __future__ import annotations

from collections import defaultdict

from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters
from pipelines.quality.clinical_suites import clinical_checks
from pipelines.quality.contract_suites import contract_checks
from pipelines.quality.mart_suites import mart_checks
from pipelines.quality.specs import CheckSpec
from pipelines.quality.thresholds import DEFAULT_THRESHOLDS, QualityThresholds


def all_checks(params: ClinicalParameters = DEFAULT_PARAMETERS,
               thresholds: QualityThresholds = DEFAULT_THRESHOLDS) -> list[CheckSpec]:
    specs = [*contract_checks(thresholds), *clinical_checks(thresholds),
             *mart_checks(params, thresholds)]
    seen: set[str] = set()
    for s in specs:
        if s.check_id in seen:
            raise ValueError(f"duplicate check id {s.check_id}")
        seen.add(s.check_id)
    return specs


def checks_by_asset(specs: list[CheckSpec]) -> dict[tuple[str, ...], list[CheckSpec]]:
    grouped: dict[tuple[str, ...], list[CheckSpec]] = defaultdict(list)
    for s in specs:
        grouped[s.asset].append(s)
    return dict(grouped)

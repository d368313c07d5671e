"""Every clinical parameter, named, with its default from docs/clinical-rules.md (the section
named on each group).

One settings object for a run; overridable from Dagster run config or
`oligo run --set max_lesions=3`; recorded with the results (`parameter_set`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields, replace


@dataclass(frozen=True)
class ClinicalParameters:
    # Section 1: population
    exclude_lcnec_and_carcinoids: bool = True  # 8013, 8240, 8249 excluded by default
    # Section 2: lesions and burden (ESTRO/EORTC 2020; ESTRO-ASTRO 2020: no organ limit)
    max_lesions: int = 5
    max_organs: int | None = None  # set 3 for the EORTC-LCG convention
    adrenals_one_organ: bool = True
    # Section 3: assessments and episodes
    grouping_days: int = 42
    lct_window_days: int = 180
    synchronous_months: int = 6
    systemic_gap_days: int = 30
    # Section 4: EORTC-LCG 2019 (fixed counts whatever max_organs is)
    eortc_max_lesions: int = 5
    eortc_max_organs: int = 3
    staging_window_after_days: int = 90
    staging_imaging_before_days: int = 60
    staging_imaging_after_days: int = 30
    allow_brain_ct: bool = False
    mdt_window_before_days: int = 60  # the MDT decision judged: latest in [-60, +90] days
    mdt_window_after_days: int = 90
    # Section 5: local therapy and dose (LQ model)
    alpha_beta_tumour: float = 10.0
    alpha_beta_late: float = 3.0
    sbrt_min_dose_per_fraction_gy: float = 5.0
    sbrt_max_fractions: int = 8
    sbrt_min_bed10_gy: float = 35.0
    lung_bed10_adequate_gy: float = 100.0
    lct_before_days: int = 30
    # Primary / regional nodes with no intent recorded: radical at EQD2(10) >= 45 Gy (the
    # lowest consolidative regimen of Gomez 2016, 45 Gy in 15 fractions; a convention)
    radical_eqd2_min_gy: float = 45.0
    # Section 6: outcomes and lines of therapy
    line_regimen_window_days: int = 28
    line_restart_gap_days: int = 120
    pfs_death_window_days: int = 182
    acute_toxicity_days: int = 90
    # Section 7: statistics
    landmark_months: int = 6
    days_per_month: float = 30.4375

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @property
    def parameter_set(self) -> str:
        """'default' for the documented defaults, else a short hash plus the changed values."""
        changed = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) != f.default
        }
        if not changed:
            return "default"
        digest = hashlib.sha256(self.to_json().encode()).hexdigest()[:8]
        return digest + ":" + ",".join(f"{k}={v}" for k, v in sorted(changed.items()))

    def with_overrides(self, overrides: dict[str, object] | list[str]) -> ClinicalParameters:
        """Apply `{"max_lesions": 3}` or `["max_lesions=3"]`; unknown names are an error."""
        if isinstance(overrides, list):
            overrides = dict(item.split("=", 1) for item in overrides)
        types = {f.name: f.type for f in fields(self)}
        parsed: dict[str, object] = {}
        for name, value in overrides.items():
            if name not in types:
                raise ValueError(f"unknown clinical parameter {name!r}")
            parsed[name] = _parse(value, types[name])
        return replace(self, **parsed)


def _parse(value: object, type_name: str) -> object:
    if not isinstance(value, str):
        return value
    text = value.strip()
    if "None" in type_name and text.lower() in ("", "none", "null"):
        return None
    if type_name.startswith("bool"):
        if text.lower() in ("1", "true", "yes"):
            return True
        if text.lower() in ("0", "false", "no"):
            return False
        raise ValueError(f"not a boolean: {value!r}")
    if type_name.startswith("int"):
        return int(text)
    if type_name.startswith("float"):
        return float(text)
    return text


DEFAULT_PARAMETERS = ClinicalParameters()

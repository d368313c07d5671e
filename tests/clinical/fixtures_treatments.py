"""Tiny hand-made frames for the treatment and outcome rules.

Staging frames have exactly the staging schema (`staging_schema(table)`) with the contract
defaults staging applies (phase 1, confirmed true); episode frames have the columns of
`docs/marts-interface.md`. Dates are given as ISO strings for brevity.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from pipelines.contract.staging import staging_schema
from pipelines.contract.tables import TABLES

STAGING_DEFAULTS = {
    ("radiotherapy", "phase"): 1,
    ("disease_events", "confirmed"): True,
    ("primary_tumors", "tnm_edition"): 8,
    ("radiotherapy", "dose_reference"): "prescription",
    ("toxicities", "ctcae_version"): "5.0",
}


def d(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


def _frame(schema: dict[str, pl.DataType], rows: list[dict], defaults: dict) -> pl.LazyFrame:
    filled = []
    for row in rows:
        unknown = set(row) - set(schema)
        if unknown:
            raise KeyError(f"unknown columns {sorted(unknown)}")
        full = {name: row.get(name, defaults.get(name)) for name in schema}
        for name, dtype in schema.items():
            if dtype == pl.Date() and isinstance(full[name], str):
                full[name] = d(full[name])
        filled.append(full)
    return pl.LazyFrame(filled, schema=schema, orient="row") if filled else pl.LazyFrame(
        schema=schema
    )


def staging_frame(table: str, rows: list[dict] | None = None) -> pl.LazyFrame:
    defaults = {c: v for (t, c), v in STAGING_DEFAULTS.items() if t == table}
    return _frame(staging_schema(table), rows or [], defaults)


def staging(**tables: list[dict]) -> dict[str, pl.LazyFrame]:
    """Every staging table, empty unless given: `staging(patients=[...], imaging=[...])`."""
    unknown = set(tables) - {t.name for t in TABLES}
    if unknown:
        raise KeyError(f"unknown tables {sorted(unknown)}")
    return {t.name: staging_frame(t.name, tables.get(t.name)) for t in TABLES}


OMD_EPISODES_SCHEMA: dict[str, pl.DataType] = {
    "patient_id": pl.String(),
    "episode_id": pl.String(),
    "episode_date": pl.Date(),
    "omd_state": pl.String(),
    "omd_family": pl.String(),
    "n_lesions": pl.Int64(),
    "n_organs": pl.Int64(),
    "n_stable_lesions": pl.Int64(),
    "organs": pl.List(pl.String()),
    "is_eortc_som_nsclc": pl.Boolean(),
    "eortc_failed_criterion": pl.String(),
    "eortc_unverified_criteria": pl.List(pl.String()),
    "has_prior_poly": pl.Boolean(),
    "has_prior_omd": pl.Boolean(),
    "on_systemic_therapy": pl.Boolean(),
    "has_progression": pl.Boolean(),
    "months_from_diagnosis": pl.Float64(),
    "diagnosis_date": pl.Date(),
    "primary_tumor_id": pl.String(),
    "episode_number": pl.Int64(),
    "parameter_set": pl.String(),
}

EPISODE_LESIONS_SCHEMA: dict[str, pl.DataType] = {
    "episode_id": pl.String(),
    "patient_id": pl.String(),
    "lesion_id": pl.String(),
    "organ": pl.String(),
    "is_counted": pl.Boolean(),
    "is_in_detection_group": pl.Boolean(),
}

DISEASE_ASSESSMENTS_SCHEMA: dict[str, pl.DataType] = {
    "patient_id": pl.String(),
    "assessment_id": pl.String(),
    "assessment_date": pl.Date(),
    "assessment_kind": pl.String(),
    "assessment_state": pl.String(),
    "n_lesions": pl.Int64(),
    "n_organs": pl.Int64(),
    "n_stable_lesions": pl.Int64(),
    "progression_count_basis": pl.String(),
    "on_systemic_therapy": pl.Boolean(),
    "has_progression": pl.Boolean(),
    "episode_id": pl.String(),
}

NSCLC_POPULATION_SCHEMA: dict[str, pl.DataType] = {
    "patient_id": pl.String(),
    "is_nsclc": pl.Boolean(),
    "population_reason": pl.String(),
    "primary_tumor_id": pl.String(),
    "diagnosis_date": pl.Date(),
    "diagnosis_date_imputed": pl.Boolean(),
    "histology_group": pl.String(),
}

EPISODE_DEFAULTS = {
    "omd_state": "synchronous_omd",
    "omd_family": "de_novo",
    "n_lesions": 1,
    "n_organs": 1,
    "n_stable_lesions": 0,
    "organs": [],
    "eortc_unverified_criteria": [],
    "has_prior_poly": False,
    "has_prior_omd": False,
    "on_systemic_therapy": False,
    "has_progression": False,
    "episode_number": 1,
    "parameter_set": "default",
}


def omd_episodes(rows: list[dict]) -> pl.LazyFrame:
    return _frame(OMD_EPISODES_SCHEMA, rows, EPISODE_DEFAULTS)


def episode_lesions(rows: list[dict]) -> pl.LazyFrame:
    return _frame(
        EPISODE_LESIONS_SCHEMA, rows, {"is_counted": True, "is_in_detection_group": True}
    )


def disease_assessments(rows: list[dict]) -> pl.LazyFrame:
    return _frame(DISEASE_ASSESSMENTS_SCHEMA, rows, {})


def nsclc_population(rows: list[dict]) -> pl.LazyFrame:
    return _frame(NSCLC_POPULATION_SCHEMA, rows, {"is_nsclc": True,
                                                   "population_reason": "nsclc"})


def rows(frame: pl.LazyFrame, sort_by: str | list[str] | None = None) -> list[dict]:
    out = frame.collect()
    if sort_by is not None:
        out = out.sort(sort_by)
    return out.to_dicts()

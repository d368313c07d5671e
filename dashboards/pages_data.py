"""Cached reads and analyses of the second set of pages (local control, toxicity, timelines,
saved-cohort comparison), on the published files through `pipelines.safe_sql` (via
`dashboards.data`, whose cache is keyed by the file's identity). What is cached is data and
protected results, keyed by the disclosure policy (so by role), never connections.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import streamlit as st

from dashboards import data, local_control, toxicity
from dashboards.cif_summary import CifSummary, summarise_cif
from dashboards.disclosure import Policy
from dashboards.filters import apply_filters
from pipelines.clinical.parameters import DEFAULT_PARAMETERS


def read_staging(database: Path, table: str) -> pl.DataFrame:
    """A whole staging table (`staging.<table>`) of one published file."""
    return data._table(str(database), data._stamp(database), f"staging.{table}")


def filtered_patients(database: Path, filters: dict) -> pl.LazyFrame | None:
    """patient_id of the patients with an episode matching the filter (None: no filter)."""
    if not filters:
        return None
    return apply_filters(data.cohort(database), filters).select("patient_id").unique()


def cutoff_of(database: Path) -> dt.date:
    info = data.provenance(database)
    if info is None or info.data_cutoff_date is None:
        return dt.date.today()
    return info.data_cutoff_date


# --- local control ---------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=32)
def _lesions(database: str, stamp: tuple, filters_key: str) -> pl.DataFrame:
    del stamp
    path = Path(database)
    return local_control.lesion_rows(
        data.read_mart(path, "lesion_outcomes").lazy(),
        data.read_mart(path, "local_treatments").lazy(),
        filtered_patients(path, json.loads(filters_key)),
    )


def lesions(database: Path, filters: dict) -> pl.DataFrame:
    return _lesions(str(database), data._stamp(database), json.dumps(filters, sort_keys=True))


@st.cache_data(show_spinner="Estimating…", max_entries=32)
def _local_control(database: str, stamp: tuple, filters_key: str, grouping: str,
                   policy: Policy) -> tuple[CifSummary, int]:
    del stamp
    rows = local_control.rows_for_grouping(
        _lesions(database, data._stamp(Path(database)), filters_key), grouping
    )
    summary = summarise_cif(
        rows, group=local_control.GROUPINGS[grouping], unit="lesion_id", policy=policy,
        order=local_control.group_order(grouping), unit_title="Lesions",
        event_title="Local failures",
    )
    return summary, rows.height


def local_control_summary(database: Path, filters: dict, grouping: str,
                          policy: Policy) -> tuple[CifSummary, int]:
    """(summary, lesions before protection) of the Local control page."""
    return _local_control(str(database), data._stamp(database),
                          json.dumps(filters, sort_keys=True), grouping, policy)


# --- toxicity --------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=32)
def _courses(database: str, stamp: tuple, filters_key: str) -> dict[str, pl.DataFrame]:
    del stamp
    path = Path(database)
    summary = data.read_mart(path, "toxicity_summary").lazy()
    patients = filtered_patients(path, json.loads(filters_key))
    if patients is not None:
        summary = summary.join(patients, on="patient_id", how="semi")
    summary = summary.collect()
    starts = toxicity.course_starts(read_staging(path, "radiotherapy").lazy()).collect()
    events = toxicity.course_events(
        read_staging(path, "toxicities").lazy(), starts.lazy(), cutoff_of(path),
        DEFAULT_PARAMETERS.acute_toxicity_days,
    ).join(summary.lazy().select("course_id"), on="course_id", how="semi").collect()
    organs = toxicity.course_organs(data.read_mart(path, "local_treatments").lazy()).collect()
    return {"summary": summary, "starts": starts, "events": events, "organs": organs}


def courses(database: Path, filters: dict) -> dict[str, pl.DataFrame]:
    return _courses(str(database), data._stamp(database), json.dumps(filters, sort_keys=True))


@st.cache_data(show_spinner="Estimating…", max_entries=32)
def _late_cif(database: str, stamp: tuple, filters_key: str, min_grade: int, rt_only: bool,
              policy: Policy) -> CifSummary:
    del stamp
    path = Path(database)
    parts = _courses(database, data._stamp(path), filters_key)
    rows = toxicity.late_cif_rows(
        parts["summary"], parts["starts"], parts["events"], read_staging(path, "patients"),
        cutoff_of(path), min_grade=min_grade, rt_only=rt_only,
    )
    return summarise_cif(rows, group=None, unit="course_id", policy=policy,
                         unit_title="Courses", event_title="Late events")


def late_toxicity(database: Path, filters: dict, min_grade: int, rt_only: bool,
                  policy: Policy) -> CifSummary:
    return _late_cif(str(database), data._stamp(database), json.dumps(filters, sort_keys=True),
                     min_grade, rt_only, policy)


# --- saved-cohort comparison ---------------------------------------------------------------


def cohort_rows(database: Path, filters: dict) -> pl.DataFrame:
    return apply_filters(data.cohort(database), filters).collect()

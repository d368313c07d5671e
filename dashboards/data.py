"""Cached read-only queries on the published files, through `pipelines.safe_sql` only.

Every read opens the file read-only and locked and closes it again (safe_sql does this);
what is cached is data, keyed by the file's path and identity (inode, size, mtime), so a
newly published file (swapped in with `os.replace`) is read again and an old one is never
pinned open.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

from dashboards.filters import (
    FACETS,
    FACETS_BY_COLUMN,
    apply_filters,
    grouping_columns,
    label_expr,
)
from dashboards.study_stats import Headline, facet_bars, flow_steps, headline
from dashboards.survival_analysis import SurvivalSummary, summarise
from dashboards.table_one import table_one
from pipelines import safe_sql
from pipelines.lake import read as lake_read
from pipelines.lake import target_is_ducklake  # DuckLake hooks: which target, which snapshot
from pipelines.settings import paths
from pipelines.stats import landmark_cohort, landmark_days

CURRENT = "current"
ENDPOINTS = {  # label → (time column, event column) of marts.episode_outcomes
    "Overall survival": ("os_days", "os_event"),
    "Progression-free survival": ("pfs_days", "pfs_event"),
    "Widespread progression-free": ("wsp_days", "wsp_event"),
}
ATTENTION_STATUSES = ("blocked_dq", "refused", "failed")


@dataclass(frozen=True)
class Provenance:
    batch_id: str
    data_cutoff_date: dt.date | None
    published_at: dt.datetime | None
    parameter_set: str
    contract_version: str
    code_version: str


@dataclass(frozen=True)
class RunReport:
    run_id: str
    batch_id: str | None
    status: str
    message: str | None
    finished_at: dt.datetime | None

    @property
    def needs_attention(self) -> bool:
        return self.status in ATTENTION_STATUSES


def _stamp(path: Path) -> tuple[int, int, int]:
    """Changes whenever a new file is swapped in at `path`."""
    if (snapshot := lake_read.snapshot_of(path)) is not None:  # DuckLake: ids never change
        return 0, 0, snapshot
    info = path.stat()
    return info.st_ino, info.st_size, info.st_mtime_ns


# --- which file -------------------------------------------------------------------------


def frozen_batches() -> list[str]:
    """Batch ids with a frozen snapshot, newest id first."""
    if target_is_ducklake():
        return lake_read.frozen_batch_names()
    folder = paths().batches
    if not folder.is_dir():
        return []
    return sorted((p.stem for p in folder.glob("*.duckdb") if not p.name.startswith(".")),
                  reverse=True)


def batch_choices() -> list[str]:
    """'current' (when published) followed by the frozen batches."""
    frozen = frozen_batches()
    has_current = bool(frozen) if target_is_ducklake() else paths().current.is_file()
    return ([CURRENT] if has_current else []) + frozen


def database_for(choice: str) -> Path:
    if target_is_ducklake():  # a snapshot address; safe_sql opens it
        return safe_sql.published_database(None if choice == CURRENT else choice)
    if choice == CURRENT:
        return paths().current
    if choice not in frozen_batches():  # only names we listed ourselves become paths
        raise safe_sql.QueryRefused(f"no frozen batch named {choice!r}")
    return paths().batch_snapshot(choice)


# --- cached reads -----------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=64)
def _table(database: str, stamp: tuple, table: str) -> pl.DataFrame:
    del stamp  # part of the cache key only
    return safe_sql.read_table(Path(database), table)


def read_mart(database: Path, table: str) -> pl.DataFrame:
    """A whole mart (`marts.<table>`) of one published file."""
    return _table(str(database), _stamp(database), f"marts.{table}")


@st.cache_data(show_spinner=False, max_entries=16)
def _provenance(database: str, stamp: tuple) -> dict:
    del stamp
    frame = safe_sql.run_query(
        "SELECT batch_id, data_cutoff_date, published_at, parameter_set, contract_version, "
        "code_version FROM meta.provenance LIMIT 1",
        Path(database),
    ).frame
    return frame.row(0, named=True) if frame.height else {}


def provenance(database: Path) -> Provenance | None:
    row = _provenance(str(database), _stamp(database))
    if not row:
        return None
    return Provenance(**{k: row.get(k) for k in Provenance.__dataclass_fields__})


@st.cache_data(show_spinner=False, max_entries=16, ttl=60)
def _latest_run(ops: str, stamp: tuple) -> dict:
    del stamp
    # Opened as the database itself (there may be no published batch yet); its catalog is
    # named after the file, like its schema, so the table is fully qualified.
    catalog = '"' + Path(ops).stem.replace('"', '""') + '"'
    frame = safe_sql.run_query(
        "SELECT run_id, batch_id, status, message, finished_at "
        f"FROM {catalog}.ops.runs WHERE status <> ? ORDER BY started_at DESC LIMIT 1",
        Path(ops),
        params=["running"],
    ).frame
    return frame.row(0, named=True) if frame.height else {}


def latest_run() -> RunReport | None:
    """The most recent finished pipeline run from published/ops.duckdb, if any."""
    ops = paths().ops
    if not ops.is_file():
        return None
    try:
        row = _latest_run(str(ops), _stamp(ops))
    except (safe_sql.QueryRefused, duckdb.Error):  # an unreadable ops file must not stop a page
        return None
    return RunReport(**row) if row else None


# --- shaped frames for the pages --------------------------------------------------------


def cohort(database: Path) -> pl.LazyFrame:
    """marts.episode_cohort: one row per OMD episode."""
    return read_mart(database, "episode_cohort").lazy()


@st.cache_data(show_spinner=False, max_entries=16)
def _groupings(database: str, stamp: tuple) -> list[str]:
    del stamp
    return grouping_columns(cohort(Path(database)))


def grouping_choices(database: Path) -> list[str]:
    """Columns of marts.episode_cohort a survival analysis or Table 1 can be grouped by."""
    return _groupings(str(database), _stamp(database))


def survival_frame(
    database: Path, cohort_rows: pl.LazyFrame, *, endpoint: str, origin: str
) -> pl.LazyFrame:
    """The (filtered) cohort joined to its outcomes for one endpoint and origin:
    cohort columns plus `time_days` and `event` (0/1)."""
    time, event = ENDPOINTS[endpoint]
    outcomes = (
        read_mart(database, "episode_outcomes")
        .lazy()
        .filter(pl.col("origin") == origin)
        .select(
            "episode_id",
            "origin_date",
            time_days=pl.col(time).cast(pl.Float64),
            event=pl.col(event).cast(pl.Int8),
        )
    )
    return cohort_rows.join(outcomes, on="episode_id", how="inner")


# --- survival analysis, cached per view ----------------------------------------------------


@dataclass(frozen=True)
class SurvivalRequest:
    endpoint: str  # a key of ENDPOINTS
    origin: str  # 'episode' or 'lct'
    group: str | None  # a column of marts.episode_cohort
    first_episode_only: bool = True
    landmark_months: float | None = None  # only with origin 'episode'


LANDMARK_GROUP = "lct_by_landmark"


def _survival_rows(database: Path, filters: dict, request: SurvivalRequest) -> pl.DataFrame:
    rows = apply_filters(cohort(database), filters)
    if request.first_episode_only:
        rows = rows.filter(pl.col("is_first_episode"))
    frame = survival_frame(database, rows, endpoint=request.endpoint, origin=request.origin)
    if request.landmark_months is not None:
        frame = frame.with_columns(
            lct_start_days=(pl.col("lct_start_date") - pl.col("episode_date")).dt.total_days()
        )
        frame = landmark_cohort(
            frame, at_days=landmark_days(months=request.landmark_months)
        ).with_columns(
            pl.when(pl.col("has_lct_by_landmark"))
            .then(pl.lit("LCT by the landmark"))
            .otherwise(pl.lit("no LCT by the landmark"))
            .alias(LANDMARK_GROUP)
        )
    elif request.group:
        frame = frame.with_columns(
            label_expr(request.group, frame.collect_schema()).alias(request.group)
        )
    return frame.collect()


@st.cache_data(show_spinner="Estimating…", max_entries=32)
def _survival(database: str, stamp: tuple, filters_key: str, request: SurvivalRequest,
              threshold: int) -> SurvivalSummary:
    del stamp
    frame = _survival_rows(Path(database), json.loads(filters_key), request)
    if request.landmark_months is not None:
        group, order = LANDMARK_GROUP, ["no LCT by the landmark", "LCT by the landmark"]
    else:
        group = request.group
        facet = FACETS_BY_COLUMN.get(group or "")
        order = list(facet.order) if facet else None
    return summarise(
        frame,
        group=group,
        threshold=threshold,
        cluster=None if request.first_episode_only else "patient_id",
        order=order,
    )


def survival_summary(
    database: Path, filters: dict, request: SurvivalRequest, threshold: int
) -> SurvivalSummary:
    """The Survival page's analysis (`dashboards.survival_analysis.SurvivalSummary`)."""
    key = json.dumps(filters, sort_keys=True)
    return _survival(str(database), _stamp(database), key, request, threshold)


# --- study view numbers, cached per batch and filter ---------------------------------------


@st.cache_data(show_spinner=False, max_entries=64)
def _study(
    database: str, stamp: tuple, filters_key: str, threshold: int
) -> tuple[pl.DataFrame, Headline, dict[str, pl.DataFrame], pl.DataFrame]:
    del stamp
    path = Path(database)
    filters = json.loads(filters_key)
    rows = cohort(path)
    filtered = apply_filters(rows, filters).collect()
    numbers = headline(filtered, read_mart(path, "patient_followup"), threshold)
    bars = {facet.key: facet_bars(rows, filters, facet, threshold) for facet in FACETS}
    steps = flow_steps(
        read_mart(path, "cohort_attrition"),
        numbers.n_patients if filters else None,
        threshold,
    )
    return filtered, numbers, bars, steps


def study_view(
    database: Path, filters: dict, threshold: int
) -> tuple[pl.DataFrame, Headline, dict[str, pl.DataFrame], pl.DataFrame]:
    """(filtered episodes, Headline, {facet key: suppressed bar counts}, cohort-flow steps)."""
    return _study(str(database), _stamp(database), json.dumps(filters, sort_keys=True),
                  threshold)


@st.cache_data(show_spinner=False, max_entries=64)
def _table_one(database: str, stamp: tuple, filters_key: str, group: str | None,
               threshold: int) -> pl.DataFrame:
    del stamp
    rows = apply_filters(cohort(Path(database)), json.loads(filters_key))
    return table_one(rows, group, threshold)


def table_one_view(
    database: Path, filters: dict, group: str | None, threshold: int
) -> pl.DataFrame:
    return _table_one(str(database), _stamp(database), json.dumps(filters, sort_keys=True),
                      group, threshold)

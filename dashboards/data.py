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

from dashboards.disclosure import KEY_PREFIX, Policy, rows_allowed, with_record_keys
from dashboards.filters import (
    FACETS,
    FACETS_BY_COLUMN,
    apply_filters,
    grouping_columns,
    label_expr,
)
from dashboards.labels import label, label_column
from dashboards.study_stats import Headline, facet_bars, flow_steps, headline
from dashboards.survival_analysis import SurvivalSummary, summarise
from dashboards.table_one import table_one
from dashboards.table_one_display import readable as readable_table_one
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
    """Frozen snapshots the published ops file records as published, newest id first: a file
    swapped in by a run that crashed before ops said so is not offered (pipelines/publish.py).
    With the DuckLake target, the lake's batch snapshots."""
    if target_is_ducklake():
        return lake_read.frozen_batch_names()
    from pipelines.publish import offered_snapshots

    return sorted(offered_snapshots(paths().batches, paths().ops), reverse=True)


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


@st.cache_data(show_spinner=False, max_entries=16)
def _keyed_cohort(database: str, stamp: tuple) -> pl.DataFrame:
    del stamp
    frame = safe_sql.read_table(Path(database), "marts.episode_cohort")
    if "diagnosis_date" not in frame.columns:  # for the diagnosis-date range filter
        dates = safe_sql.read_table(Path(database), "marts.omd_episodes",
                                    columns=["episode_id", "diagnosis_date"])
        frame = frame.join(dates, on="episode_id", how="left")
    return with_record_keys(with_record_keys(frame, "episode_id"), "patient_id")


def cohort(database: Path) -> pl.LazyFrame:
    """marts.episode_cohort (one row per OMD episode) with the record keys of its episodes
    and patients (`_rk_episode_id`, `_rk_patient_id`, see dashboards.disclosure), computed
    once per published file."""
    return _keyed_cohort(str(database), _stamp(database)).lazy()


def without_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows as shown to a row-level role: the record-key columns dropped."""
    return frame.select(pl.exclude(f"^{KEY_PREFIX}.*$"))


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
            label_column(label_expr(request.group, frame.collect_schema()), request.group)
            .alias(request.group)
        )
    return frame.collect()


@st.cache_data(show_spinner="Estimating…", max_entries=32)
def _survival(database: str, stamp: tuple, filters_key: str, request: SurvivalRequest,
              policy: Policy) -> SurvivalSummary:
    del stamp
    frame = _survival_rows(Path(database), json.loads(filters_key), request)
    if request.landmark_months is not None:
        group, order = LANDMARK_GROUP, ["no LCT by the landmark", "LCT by the landmark"]
    else:
        group = request.group
        facet = FACETS_BY_COLUMN.get(group or "")
        order = [label(group, code) for code in facet.order] if facet else None
    return summarise(
        frame,
        group=group,
        policy=policy,
        cluster=None if request.first_episode_only else "patient_id",
        order=order,
    )


def survival_summary(
    database: Path, filters: dict, request: SurvivalRequest, policy: Policy
) -> SurvivalSummary:
    """The Survival page's analysis (`dashboards.survival_analysis.SurvivalSummary`),
    cached per file, filter, request and role policy."""
    key = json.dumps(filters, sort_keys=True)
    return _survival(str(database), _stamp(database), key, request, policy)


# --- study view numbers, cached per batch, filter and role policy ---------------------------


@dataclass(frozen=True)
class StudyView:
    headline: Headline
    bars: dict[str, pl.DataFrame]  # facet key → protected bar counts
    flow: pl.DataFrame  # cohort-flow steps, protected
    rows_before_protection: int  # filtered episodes (for the audit log)
    episodes: pl.DataFrame | None  # the filtered rows, only for roles with row-level access


@st.cache_data(show_spinner=False, max_entries=64)
def _study(database: str, stamp: tuple, filters_key: str, policy: Policy) -> StudyView:
    del stamp
    path = Path(database)
    filters = json.loads(filters_key)
    rows = cohort(path)
    filtered = apply_filters(rows, filters).collect()
    numbers = headline(filtered, read_mart(path, "patient_followup"), policy)
    bars = {facet.key: facet_bars(rows, filters, facet, policy) for facet in FACETS}
    steps = flow_steps(
        read_mart(path, "cohort_attrition"),
        filtered if filters else None,
        policy,
        cohort_rows=rows,
    )
    return StudyView(
        headline=numbers,
        bars=bars,
        flow=steps,
        rows_before_protection=filtered.height,
        episodes=without_keys(filtered) if rows_allowed(policy) else None,
    )


def study_view(database: Path, filters: dict, policy: Policy) -> StudyView:
    return _study(str(database), _stamp(database), json.dumps(filters, sort_keys=True), policy)


@st.cache_data(show_spinner=False, max_entries=64)
def _table_one(database: str, stamp: tuple, filters_key: str, group: str | None,
               policy: Policy) -> pl.DataFrame:
    del stamp
    rows = apply_filters(cohort(Path(database)), json.loads(filters_key))
    overall = table_one(rows, None, policy)
    grouped = table_one(rows, group, policy) if group else overall
    return readable_table_one(grouped, overall, group)


def table_one_view(
    database: Path, filters: dict, group: str | None, policy: Policy
) -> pl.DataFrame:
    return _table_one(str(database), _stamp(database), json.dumps(filters, sort_keys=True),
                      group, policy)

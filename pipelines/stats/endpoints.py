"""Analysis data for one endpoint, read from a published snapshot through the safe SQL module.

Columns of `docs/marts-interface.md`: `marts.episode_cohort` (one row per OMD episode) joined
to `marts.episode_outcomes` (one row per episode and origin) for OS, PFS and widespread
progression; `marts.lesion_outcomes` (one row per treated lesion) for local control.
docs/clinical-rules.md section 6: the first qualifying episode per patient by
default (episodes of one patient are not independent); all episodes is an option, analysed
with cluster-robust variance by patient.

The user's `--where` filter and `--by` column apply to the table the analysis is about:
`episode_cohort` for the episode endpoints, `lesion_outcomes` for local control. The filter
goes through `safe_sql.filtered_relation` (checked, applied with the relational API), the
column name is checked against the table's columns; neither is spliced into a query string.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.safe_sql import QueryRefused, SafetyLimits, filtered_relation, open_read_only

EPISODE_ENDPOINTS = {  # endpoint -> (time column, event column) in marts.episode_outcomes
    "os": ("os_days", "os_event"),
    "pfs": ("pfs_days", "pfs_event"),
    "wsp": ("wsp_days", "wsp_event"),
}
# competing-risk endpoints of marts.episode_outcomes: (time, status 0/1/2) columns
COMPETING_EPISODE_ENDPOINTS = {"ttnt": ("ttnt_days", "ttnt_status")}
ENDPOINTS = (*EPISODE_ENDPOINTS, *COMPETING_EPISODE_ENDPOINTS, "local_control")
ENDPOINT_LABELS = {
    "os": "overall survival",
    "pfs": "progression-free survival",
    "wsp": "freedom from widespread progression",
    "ttnt": "time to next systemic therapy (cumulative incidence, death competing)",
    "local_control": "local failure (cumulative incidence, death competing)",
}
ORIGINS = ("episode", "lct")
# Analysis time limit: whole tables are read, so allow longer than an ad-hoc query.
ANALYSIS_LIMITS = SafetyLimits(timeout_seconds=120.0)


@dataclass(frozen=True)
class EndpointData:
    """One row per analysed unit: `patient_id`, `time_days`, `event` (0/1; for local
    control `status` 0/1/2), `group` (text, or 'all'), and for episode endpoints
    `lct_start_days` (days from the episode date to the first day of LCT, null without)."""

    frame: pl.DataFrame
    endpoint: str
    origin: str
    unit: str  # "episode" or "lesion"
    by: str | None
    all_episodes: bool


def _group_expr(by: str | None) -> pl.Expr:
    if by is None:
        return pl.lit("all").alias("group")
    return pl.col(by).cast(pl.String).fill_null("missing").alias("group")


def _check_column(by: str | None, columns: list[str], table: str) -> None:
    if by is not None and by not in columns:
        raise QueryRefused(f"{by!r} is not a column of {table}; choose one of: {', '.join(columns)}")


def _checked_extra(extra: tuple[str, ...], columns: list[str], table: str) -> list[str]:
    for column in extra:
        _check_column(column, columns, table)
    return [c for c in dict.fromkeys(extra) if c not in ("patient_id", "group")]


def load_endpoint(
    database: Path,
    endpoint: str,
    *,
    by: str | None = None,
    where: str | None = None,
    origin: str = "episode",
    all_episodes: bool = False,
    columns: tuple[str, ...] = (),
    limits: SafetyLimits = ANALYSIS_LIMITS,
) -> EndpointData:
    """Read the analysis rows of `endpoint` from the published file `database`.

    `columns` (checked against the table) are carried along, e.g. adjustment covariates.
    Competing-risk endpoints (`ttnt`, `local_control`) have `status` instead of `event`."""
    if endpoint not in ENDPOINTS:
        raise QueryRefused(f"unknown endpoint {endpoint!r}; choose one of {', '.join(ENDPOINTS)}")
    if origin not in ORIGINS:
        raise QueryRefused(f"unknown origin {origin!r}; choose one of {', '.join(ORIGINS)}")
    with open_read_only(database, limits=limits) as con:
        if endpoint == "local_control":
            lesions = filtered_relation(con, "marts.lesion_outcomes", where)
            _check_column(by, lesions.columns, "marts.lesion_outcomes")
            extra = _checked_extra(columns, lesions.columns, "marts.lesion_outcomes")
            frame = lesions.pl().select(
                "patient_id",
                pl.col("lf_days").cast(pl.Float64).alias("time_days"),
                pl.col("lf_status").cast(pl.Int64).alias("status"),
                _group_expr(by),
                *extra,
            )
            return EndpointData(frame, endpoint, "therapy_start", "lesion", by, True)
        cohort = filtered_relation(con, "marts.episode_cohort", where)
        _check_column(by, cohort.columns, "marts.episode_cohort")
        extra = _checked_extra(columns, cohort.columns, "marts.episode_cohort")
        episodes = cohort.pl()
        outcomes = con.table("marts.episode_outcomes").pl()
    competing = endpoint in COMPETING_EPISODE_ENDPOINTS
    time, event = (COMPETING_EPISODE_ENDPOINTS if competing else EPISODE_ENDPOINTS)[endpoint]
    rows = episodes.select(
        "episode_id",
        _group_expr(by),
        *extra,
        lct_start_days=(pl.col("lct_start_date") - pl.col("episode_date")).dt.total_days(),
        is_first=pl.col("is_first_episode"),
    ).join(
        outcomes.filter(pl.col("origin") == origin).select(
            "episode_id",
            "patient_id",
            pl.col(time).cast(pl.Float64).alias("time_days"),
            pl.col(event).cast(pl.Int64).alias("status" if competing else "event"),
            # follow-up (reverse Kaplan-Meier of OS: alive at last contact is the event)
            pl.col("os_days").cast(pl.Float64).alias("followup_days"),
            (1 - pl.col("os_event").cast(pl.Int64)).alias("followup_event"),
        ),
        on="episode_id",
        how="inner",
    )
    if not all_episodes:
        rows = rows.filter(pl.col("is_first"))
    frame = rows.drop("is_first").drop_nulls(["time_days", "status" if competing else "event"])
    return EndpointData(frame, endpoint, origin, "episode", by, all_episodes)

"""Saved cohorts: a named filter set kept in the application database
(`OLIGO_HOME/app.sqlite`, `pipelines.appdb`, next to the audit log), never in the
published files.

A cohort is its filter (`{facet key: [labels]}`, the same keys as a shared URL), so it
reopens on any later batch: labels a batch does not have are dropped when it is applied, as
for a shared URL. Its owner may share it; a shared cohort is listed for every viewer and
opens from its link (`/cohorts?open=<id>`). Names are unique per owner (saving again under
the same name replaces the filter).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipelines import appdb

SCHEMA = """
CREATE TABLE IF NOT EXISTS saved_cohorts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    owner TEXT NOT NULL,
    filters TEXT NOT NULL,          -- JSON {facet key: [labels]}
    batch TEXT NOT NULL,            -- the batch it was saved on (for information)
    shared INTEGER NOT NULL DEFAULT 0,
    saved_at TEXT NOT NULL,         -- UTC, ISO 8601
    UNIQUE (owner, name)
);
"""
MAX_NAME = 80


class CohortError(ValueError):
    """A cohort cannot be saved or opened; the text says why."""


@dataclass(frozen=True)
class SavedCohort:
    id: int
    name: str
    owner: str
    filters: dict[str, list[str]]
    batch: str
    shared: bool
    saved_at: str


def _connect(home: Path | None = None):
    con = appdb.connect(home)
    con.executescript(SCHEMA)
    return con


def _row(row: Sequence) -> SavedCohort:
    return SavedCohort(id=row[0], name=row[1], owner=row[2], filters=json.loads(row[3]),
                       batch=row[4], shared=bool(row[5]), saved_at=row[6])


COLUMNS = "id, name, owner, filters, batch, shared, saved_at"


def save_cohort(owner: str, name: str, filters: Mapping[str, Sequence[str]], batch: str, *,
                shared: bool = False, home: Path | None = None) -> SavedCohort:
    name = " ".join(name.split())
    if not name:
        raise CohortError("give the cohort a name")
    if len(name) > MAX_NAME:
        raise CohortError(f"a cohort name has at most {MAX_NAME} characters")
    clean = {key: list(values) for key, values in sorted(filters.items()) if values}
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    con = _connect(home)
    try:
        con.execute(
            "INSERT INTO saved_cohorts (name, owner, filters, batch, shared, saved_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (owner, name) DO UPDATE SET "
            "filters = excluded.filters, batch = excluded.batch, shared = excluded.shared, "
            "saved_at = excluded.saved_at",
            (name, owner, json.dumps(clean), batch, int(shared), now),
        )
        row = con.execute(f"SELECT {COLUMNS} FROM saved_cohorts WHERE owner = ? AND name = ?",
                          (owner, name)).fetchone()
    finally:
        con.close()
    return _row(row)


def visible_cohorts(viewer: str, home: Path | None = None) -> list[SavedCohort]:
    """The viewer's own cohorts and every shared one, newest first."""
    con = _connect(home)
    try:
        rows = con.execute(
            f"SELECT {COLUMNS} FROM saved_cohorts WHERE owner = ? OR shared = 1 "
            "ORDER BY saved_at DESC, id DESC", (viewer,),
        ).fetchall()
    finally:
        con.close()
    return [_row(r) for r in rows]


def open_cohort(cohort_id: int, viewer: str, home: Path | None = None) -> SavedCohort:
    """A cohort the viewer owns or that is shared; CohortError otherwise."""
    con = _connect(home)
    try:
        row = con.execute(f"SELECT {COLUMNS} FROM saved_cohorts WHERE id = ?",
                          (cohort_id,)).fetchone()
    finally:
        con.close()
    if row is None:
        raise CohortError(f"there is no saved cohort number {cohort_id}")
    cohort = _row(row)
    if cohort.owner != viewer and not cohort.shared:
        raise CohortError(f"cohort {cohort_id} belongs to someone else and is not shared")
    return cohort


def set_shared(cohort_id: int, owner: str, shared: bool, home: Path | None = None) -> None:
    con = _connect(home)
    try:
        changed = con.execute("UPDATE saved_cohorts SET shared = ? WHERE id = ? AND owner = ?",
                              (int(shared), cohort_id, owner)).rowcount
    finally:
        con.close()
    if not changed:
        raise CohortError("only the owner can share or unshare a cohort")

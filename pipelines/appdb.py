"""The application database: `OLIGO_HOME/app.sqlite`, outside the published files.

It holds what the dashboards themselves produce (today: the audit log), never registry
data, so it is not part of a publish and survives a republish. SQLite in WAL mode, so the
dashboard processes append while `oligo audit` or the admin page read.

The audit log is append-only: triggers refuse UPDATE and DELETE on `audit_log`, so a row,
once written, stays as it was (a determined owner of the file can still replace the file;
the log guards against edits through the application, not against the machine's root).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipelines.settings import paths

FILE_NAME = "app.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,                 -- UTC, ISO 8601
    user TEXT NOT NULL,
    role TEXT NOT NULL,
    is_demo INTEGER NOT NULL,
    page TEXT NOT NULL,
    action TEXT NOT NULL,             -- view, query, download, sign_in, ...
    filters TEXT NOT NULL,            -- JSON
    rows_before_protection INTEGER    -- rows behind what was shown, before disclosure control
);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
"""
COLUMNS = ("id", "at", "user", "role", "is_demo", "page", "action", "filters",
           "rows_before_protection")


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    user: str
    role: str
    is_demo: bool
    page: str
    action: str
    filters: str
    rows_before_protection: int | None


def database_path(home: Path | None = None) -> Path:
    return (home or paths().home) / FILE_NAME


def connect(home: Path | None = None) -> sqlite3.Connection:
    """A connection with the schema in place (created on first use)."""
    path = database_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=10, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA busy_timeout=10000")
    con.executescript(SCHEMA)
    return con


def append_audit(
    *,
    user: str,
    role: str,
    is_demo: bool,
    page: str,
    action: str,
    filters: Mapping | Sequence | None,
    rows_before_protection: int | None,
    home: Path | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Append one row to the audit log."""
    when = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="seconds")
    con = connect(home)
    try:
        con.execute(
            "INSERT INTO audit_log (at, user, role, is_demo, page, action, filters, "
            "rows_before_protection) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [when, user, role, int(is_demo), page, action,
             json.dumps(filters or {}, sort_keys=True, default=str),
             None if rows_before_protection is None else int(rows_before_protection)],
        )
    finally:
        con.close()


def read_audit(
    *,
    limit: int | None = 200,
    user: str | None = None,
    since: str | None = None,
    home: Path | None = None,
) -> list[AuditEntry]:
    """Newest first; `since` is an ISO date or timestamp (UTC)."""
    if not database_path(home).is_file():
        return []
    where, params = [], []
    if user:
        where.append("user = ?")
        params.append(user)
    if since:
        where.append("at >= ?")
        params.append(since)
    query = f"SELECT {', '.join(COLUMNS)} FROM audit_log"
    if where:
        query += " WHERE " + " AND ".join(where)
    query += " ORDER BY id DESC"
    if limit:
        query += " LIMIT ?"
        params.append(int(limit))
    con = connect(home)
    try:
        rows = con.execute(query, params).fetchall()
    finally:
        con.close()
    return [AuditEntry(*row[:4], bool(row[4]), *row[5:]) for row in rows]

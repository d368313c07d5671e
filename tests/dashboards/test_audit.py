"""The audit log: application database (append-only, WAL), what the pages record, and
`oligo audit`."""

from __future__ import annotations

import json
import sqlite3

import duckdb
import pytest

from pipelines import appdb
from pipelines.cli import main as oligo


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("OLIGO_HOME", str(tmp_path))
    return tmp_path


def entry(**overrides):
    values = dict(user="ann@x.org", role="analyst", is_demo=False, page="study", action="view",
                  filters={"center_id": ["c1"]}, rows_before_protection=12)
    return values | overrides


def test_append_and_read_newest_first(home):
    appdb.append_audit(**entry())
    appdb.append_audit(**entry(action="download:episodes", user="bob@x.org"))
    rows = appdb.read_audit()
    assert [r.action for r in rows] == ["download:episodes", "view"]
    assert json.loads(rows[1].filters) == {"center_id": ["c1"]}
    assert rows[1].rows_before_protection == 12
    assert [r.user for r in appdb.read_audit(user="ann@x.org")] == ["ann@x.org"]
    assert appdb.database_path() == home / "app.sqlite"


def test_audit_table_is_append_only_and_in_wal_mode(home):
    appdb.append_audit(**entry())
    con = sqlite3.connect(home / "app.sqlite")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    for statement in ("UPDATE audit_log SET role = 'admin'", "DELETE FROM audit_log"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute(statement)
    assert con.execute("SELECT role FROM audit_log").fetchall() == [("analyst",)]


def test_oligo_audit_prints_the_log(home, capsys):
    assert oligo(["audit"]) == 0
    assert "no audit log yet" in capsys.readouterr().out
    appdb.append_audit(**entry())
    assert oligo(["audit", "--limit", "5"]) == 0
    out = capsys.readouterr().out
    assert "ann@x.org" in out and "analyst" in out and "center_id" in out
    assert oligo(["audit", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["page"] == "study"


def test_pages_record_views_with_role_filters_and_rows(app, warehouse):
    before = len(appdb.read_audit(limit=None, home=warehouse.home))
    at = app(warehouse.home, role="aggregate")
    at.query_params["center_id"] = "centre_b"
    at.run()
    at.run()  # a rerun of the same view is not a new entry
    at.switch_page("views/survival.py")
    at.run()
    everything = appdb.read_audit(limit=None, home=warehouse.home)  # newest first
    rows = everything[: len(everything) - before]
    assert [r.page for r in rows] == ["survival", "study"]
    study = rows[1]
    assert (study.user, study.role, study.is_demo) == ("demo@localhost", "aggregate", True)
    assert json.loads(study.filters) == {"center_id": ["centre_b"]}
    with duckdb.connect(str(warehouse.paths.current), read_only=True) as con:
        (episodes,) = con.execute("SELECT count(*) FROM marts.episode_cohort "
                                  "WHERE center_id = 'centre_b'").fetchone()
    assert study.rows_before_protection == episodes

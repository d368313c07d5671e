"""`oligo dq` on a small warehouse: overview, failures and the batch diff."""

from __future__ import annotations

import argparse

import duckdb

from pipelines.commands import dq
from pipelines.quality.history import record_outcomes
from pipelines.quality.outcome import CheckOutcome
from pipelines.quality.specs import CheckSpec, Engine, Severity
from tests.quality.tiny_warehouse import STAGING, staging_frames, write_tables


def main(argv: list[str]) -> int:
    """`oligo` with only the dq command (other commands are not under test here)."""
    parser = argparse.ArgumentParser(prog="oligo")
    dq.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_overview_failures_and_diff(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OLIGO_HOME", str(tmp_path))
    db = tmp_path / "warehouse.duckdb"
    spec = CheckSpec("patients__key_unique", ("staging", "patients"), Severity.BLOCK, 0.0,
                     "conformance", "relational", "key", Engine.SQL, "key_unique", "patients")
    with duckdb.connect(str(db)) as con:
        record_outcomes(con, [CheckOutcome(spec, 0, 3)], "r1", "2026-01")
        record_outcomes(con, [CheckOutcome(spec, 2, 4, [("P1", "P1"), ("P1", "P1")])], "r2",
                        "2026-02")
        write_tables(con, "staging_2026_01", staging_frames())
        write_tables(con, "staging_2026_02", staging_frames(
            {**STAGING, "patients": STAGING["patients"][:2]}))

    assert main(["dq", "--db", str(db), "overview"]) == 0
    out = capsys.readouterr().out
    assert "run r2" in out and "conformance" in out and "0.0" in out

    assert main(["dq", "--db", str(db), "failures"]) == 0
    out = capsys.readouterr().out
    assert "patients__key_unique" in out and "P1, P1" in out

    assert main(["dq", "--db", str(db), "diff", "2026-01", "2026-02"]) == 0
    out = capsys.readouterr().out
    assert "newly_failing" in out
    assert "removed" in out  # P3 is gone, with all their rows

"""`oligo status`: the latest run and the published batches, read from published/ops.duckdb.

A run still `running` while nobody holds the run lock stopped without finishing (killed,
machine stopped): said so here; the next run marks it failed."""

from __future__ import annotations

import argparse

import duckdb

from pipelines import lake
from pipelines.lake import read as lake_read
from pipelines.run_lock import is_locked
from pipelines.settings import paths


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("status", help="latest run and published batches")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    ops = paths().ops
    if not ops.exists():
        print(f"no run yet: {ops} does not exist. Run `oligo run` first.")
        return 1
    # The file is named ops.duckdb: its catalog `ops` shadows the schema, so qualify fully.
    with duckdb.connect(str(ops), read_only=True) as con:
        run = con.execute(
            "SELECT run_id, batch_id, status, started_at, finished_at, message "
            "FROM ops.ops.runs ORDER BY started_at DESC LIMIT 1").fetchone()
        batches = con.execute(
            "SELECT batch_id, data_cutoff_date, status, published_at FROM ops.ops.batches "
            "ORDER BY data_cutoff_date NULLS LAST, batch_id").fetchall()
        steps = con.execute(
            "SELECT step, status, round(duration_seconds, 2) FROM ops.ops.run_steps "
            "WHERE run_id = ? ORDER BY started_at", [run[0]]).fetchall() if run else []
    if run:
        message = run[5]
        if run[2] == "running" and not is_locked(paths().lock_file):
            message = ("stopped without finishing (no process holds the run lock); the next "
                       "run marks it failed. Start it again with `oligo run --batch "
                       f"{run[1]}`")
        print(f"latest run {run[0]}\n  batch {run[1]}: {run[2]} ({run[3]} -> {run[4]})\n"
              f"  {message}")
        for step, status, seconds in steps:
            print(f"    {step:<45} {status:<8} {seconds if seconds is not None else '':>8} s")
    current = paths().current
    print(f"current snapshot: {current if current.exists() else 'none'}")
    if lake.target_is_ducklake():  # DuckLake hook
        print(lake_read.status_line())
    print("batches:")
    for batch_id, cutoff, status, published_at in batches:
        print(f"  {batch_id:<24} cut-off {cutoff}  {status:<10} published {published_at or '-'}")
    return 0

"""`oligo dq`: the data-quality history.

  oligo dq overview [--run RUN] [--subcategory]   pass % by Kahn category (latest run)
  oligo dq failures [--run RUN] [--check ID]      failing checks with counts and sample keys
  oligo dq diff BATCH_A BATCH_B                   checks newly failing or recovered; patients
                                                  added, removed or changed, by table
  oligo dq checks                                 the catalogue (id, asset, severity, ...)

Reads `published/ops.duckdb` (dq.*) and, for the data side of `diff`, the batches' staging
snapshots: schema `staging_<batch>` of the working warehouse, or schema `staging` of
`published/batches/<batch>.duckdb`. Everything is opened read-only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import polars as pl

from pipelines.settings import paths


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("dq", help="data-quality results, overview and batch differences")
    parser.add_argument("--db", type=Path, default=None,
                        help="database holding dq.* (default: published/ops.duckdb)")
    dq_sub = parser.add_subparsers(dest="dq_command", required=True)

    overview = dq_sub.add_parser("overview", help="pass %% by Kahn category")
    overview.add_argument("--run", default=None, help="run id (default: the latest)")
    overview.add_argument("--subcategory", action="store_true")
    overview.set_defaults(func=overview_command)

    failures = dq_sub.add_parser("failures", help="failing checks with counts and keys")
    failures.add_argument("--run", default=None, help="run id (default: the latest)")
    failures.add_argument("--check", default=None, help="one check id: list its failing rows")
    failures.add_argument("--limit", type=int, default=50)
    failures.set_defaults(func=failures_command)

    diff = dq_sub.add_parser("diff", help="differences between two batches")
    diff.add_argument("batch_a")
    diff.add_argument("batch_b")
    diff.add_argument("--warehouse", type=Path, default=None,
                      help="database holding the staging_<batch> snapshots "
                           "(default: the working warehouse)")
    diff.set_defaults(func=diff_command)

    checks = dq_sub.add_parser("checks", help="list the check catalogue")
    checks.set_defaults(func=checks_command)


def _show(frame: pl.DataFrame) -> None:
    with pl.Config(tbl_rows=max(len(frame), 1), tbl_cols=-1, fmt_str_lengths=60,
                   tbl_width_chars=160, tbl_hide_dataframe_shape=True):
        print(frame)


def _dq_database(args) -> Path:
    if args.db is not None:
        return args.db
    where = paths()
    return where.ops if where.ops.exists() else where.warehouse


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.exists():
        raise SystemExit(f"no database at {path}: run the pipeline first (`oligo run`)")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        raise SystemExit(f"cannot open {path} read-only (a run is writing it?): {exc}") from exc


def overview_command(args) -> int:
    from pipelines.quality.history import category_overview, latest_run_id

    with _connect(_dq_database(args)) as con:
        run_id = args.run or latest_run_id(con)
        if run_id is None:
            print("no data-quality results yet")
            return 1
        print(f"run {run_id}")
        _show(category_overview(con, run_id, by_subcategory=args.subcategory))
    return 0


def failures_command(args) -> int:
    from pipelines.quality.history import latest_run_id

    with _connect(_dq_database(args)) as con:
        run_id = args.run or latest_run_id(con)
        if run_id is None:
            print("no data-quality results yet")
            return 1
        if args.check:
            rows = con.execute(
                "select record_key, patient_id from dq.failing_rows "
                "where run_id = $run and check_id = $check order by record_key limit $limit",
                {"run": run_id, "check": args.check, "limit": args.limit}).pl()
            _show(rows)
            return 0
        failing = con.execute(
            "select r.kahn_category, r.kahn_subcategory, r.check_id, r.severity, "
            "r.failing_count, r.total_count, round(r.failing_pct, 2) as failing_pct, "
            "r.threshold_pct, (select string_agg(f.record_key, ', ') from "
            "(select record_key from dq.failing_rows f where f.run_id = r.run_id "
            "and f.check_id = r.check_id order by record_key limit 5) f) as sample_keys "
            "from dq.check_results r where r.run_id = $run and not r.passed "
            "order by r.severity, r.kahn_category, r.check_id limit $limit",
            {"run": run_id, "limit": args.limit}).pl()
        print(f"run {run_id}: {len(failing)} failing checks")
        _show(failing)
    return 0


def _table_set(con: duckdb.DuckDBPyConnection, batch_id: str, alias: str):
    from pipelines.quality.diff import snapshot_schema, staging_table_set

    tables = staging_table_set(con, snapshot_schema(batch_id))
    if tables:
        return tables
    frozen = paths().batch_snapshot(batch_id)
    if frozen.exists():
        quoted = frozen.as_posix().replace("'", "''")  # ATTACH takes no bound parameter
        con.execute(f"attach '{quoted}' as {alias} (read_only)")
        tables = staging_table_set(con, "staging", database=alias)
        if tables:
            return tables
    raise SystemExit(f"no staging snapshot for batch {batch_id!r}: expected schema "
                     f"{snapshot_schema(batch_id)} in the warehouse or schema staging in {frozen}")


def diff_command(args) -> int:
    from pipelines.quality.diff import diff_batches, diff_checks

    with _connect(_dq_database(args)) as con:
        try:
            changes = diff_checks(con, args.batch_a, args.batch_b)
        except LookupError as exc:
            print(f"checks: {exc}")
        else:
            moved = changes.filter(pl.col("change").is_in(["newly_failing", "recovered"]))
            print(f"checks newly failing or recovered from {args.batch_a} to {args.batch_b}:")
            _show(moved)
    with _connect(args.warehouse or paths().warehouse) as con:
        before = _table_set(con, args.batch_a, "batch_a")
        after = _table_set(con, args.batch_b, "batch_b")
        diff = diff_batches(con, before, after)
    print("rows and patients by table:")
    _show(diff.by_table)
    print("patients:")
    _show(diff.patients.group_by("change").agg(pl.len().alias("n_patients")).sort("change"))
    return 0


def checks_command(args) -> int:
    from pipelines.quality.catalog import all_checks

    frame = pl.DataFrame([
        {"check_id": s.check_id, "asset": s.asset_path, "severity": str(s.severity),
         "threshold_pct": s.threshold_pct, "kahn_category": s.kahn_category,
         "kahn_subcategory": s.kahn_subcategory, "engine": str(s.engine),
         "description": s.description}
        for s in all_checks()
    ])
    frame.write_csv(sys.stdout)
    return 0

"""`oligo sql "QUERY" [--batch ID] [--csv]`: one read-only query on the published files.

Marts (`marts.*`, `meta.provenance`) come from `published/current.duckdb` or the frozen
snapshot of `--batch`; `ops.*` and `dq.*` from `published/ops.duckdb`, attached read-only.
Everything goes through `pipelines.safe_sql`: refusals say why and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys

import duckdb
import polars as pl

from pipelines.safe_sql import (
    DEFAULT_LIMITS,
    QueryRefused,
    QueryTimedOut,
    QueryTooLarge,
    SafetyLimits,
    published_database,
    published_ops_database,
    run_query,
)

EXIT_REFUSED = 2
EXIT_SQL_ERROR = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sql",
        help="run one read-only query on the published marts (and ops/dq tables)",
        description="Only SELECT-type statements (SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE); "
        "no file access, no writes, no settings.",
    )
    parser.add_argument("query", help='e.g. "SELECT omd_state, count(*) FROM marts.omd_episodes GROUP BY 1"')
    parser.add_argument("--batch", metavar="ID", help="query this batch's frozen snapshot")
    parser.add_argument("--csv", action="store_true", help="write CSV to standard output")
    parser.add_argument("--max-rows", type=int, default=DEFAULT_LIMITS.row_limit,
                        help="row limit (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_LIMITS.timeout_seconds,
                        help="seconds before the query is stopped (default: %(default)s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    limits = SafetyLimits(row_limit=max(1, args.max_rows), timeout_seconds=args.timeout)
    try:
        result = run_query(
            args.query,
            published_database(args.batch),
            ops_database=published_ops_database(),
            limits=limits,
        )
    except (QueryTimedOut, QueryTooLarge) as exc:
        print(f"oligo sql: stopped: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except QueryRefused as exc:
        print(f"oligo sql: refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except duckdb.Error as exc:
        print(f"oligo sql: {exc}", file=sys.stderr)
        return EXIT_SQL_ERROR
    frame = result.frame
    if args.csv:
        sys.stdout.write(csv_ready(frame).write_csv())
    else:
        with pl.Config(
            tbl_rows=-1, tbl_cols=-1, fmt_str_lengths=60, tbl_hide_dataframe_shape=True,
            tbl_hide_column_data_types=False,
        ):
            print(frame)
        print(f"{frame.height} row{'s' if frame.height != 1 else ''}")
    if result.truncated:
        print(f"oligo sql: output stopped at the row limit ({result.row_limit}); "
              "use --max-rows or aggregate", file=sys.stderr)
    return 0


def csv_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """CSV has no nested types: lists become ';'-joined text, structs JSON text."""
    return frame.with_columns(
        pl.col(name).cast(pl.List(pl.String)).list.join(";")
        if isinstance(dtype, pl.List)
        else pl.col(name).struct.json_encode()
        if isinstance(dtype, pl.Struct)
        else pl.col(name)
        for name, dtype in frame.schema.items()
    )

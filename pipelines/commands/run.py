"""`oligo run [--exports DIR] [--batch ID] [--replace] [--set NAME=VALUE ...]`"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.run_lock import RunInProgress


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("run", help="load batches and publish their marts (one in-process "
                            "Dagster run each, recorded like the sensor's and the UI's)")
    parser.add_argument("--exports", type=Path, help="folder of batch folders "
                        "(default: <OLIGO_HOME>/exports)")
    parser.add_argument("--batch", help="only this batch id (default: every batch folder)")
    parser.add_argument("--replace", action="store_true",
                        help="replace a batch loaded before with different checksums")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="NAME=VALUE", help="override a clinical parameter")
    parser.add_argument("--dialect", default="default", help="the source's dialect profile")
    parser.add_argument("--demo", action="store_true",
                        help="demo mode: allows the announced demo pseudonym secret (same as "
                        "OLIGO_DEMO_MODE=true)")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from pipelines.ingest.pseudonym import MissingSecret, checked_pseudonymizer, configured_secret
    from pipelines.runner import run_batches

    bad = [item for item in args.overrides if "=" not in item]
    if bad:
        print(f"oligo run: --set needs NAME=VALUE, got {bad[0]!r}")
        return 2
    try:  # a missing or weak secret is refused before any run starts
        checked_pseudonymizer(configured_secret(), args.demo)
    except MissingSecret as exc:
        print(f"oligo run: {exc}")
        return 2
    overrides = dict(item.split("=", 1) for item in args.overrides)
    try:
        outcomes = run_batches(exports_dir=args.exports, batch_id=args.batch,
                               replace=args.replace, overrides=overrides,
                               dialect=args.dialect, demo_mode=args.demo)
    except (RunInProgress, FileNotFoundError, ValueError) as exc:  # InvalidRunConfig too
        print(f"oligo run: {exc}")
        return 2
    worst = 0
    for outcome in outcomes:
        print_outcome(outcome)
        if outcome.status in ("refused", "failed", "blocked_dq"):
            worst = 1
    return worst


def print_outcome(outcome) -> None:
    print(f"batch {outcome.batch_id}: {outcome.status} - {outcome.message}")
    print(f"  run {outcome.run_id}")
    if outcome.table_counts:
        print(f"  {'table':<20} {'read':>10} {'loaded':>10} {'quarantined':>12} {'flagged':>8}")
        for row in outcome.table_counts:
            print(f"  {row['table_name']:<20} {row['rows_read']:>10} {row['rows_loaded']:>10} "
                  f"{row['rows_quarantined']:>12} {row['rows_flagged'] or 0:>8}")
    if outcome.top_reasons:
        print("  top quarantine reasons:")
        for row in outcome.top_reasons:
            print(f"    {row['n']:>6}  {row['table_name']}.{row['column_name'] or '*'}: "
                  f"{row['rule_id']}")

"""`oligo rebuild [--force]`: recreate a corrupt or missing working warehouse, and its ops
history, from the published files (pipelines/recovery.py). The old file is set aside."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("rebuild", help="recreate the working warehouse and its ops "
                            "history from published/ (after corruption or loss)")
    parser.add_argument("--force", action="store_true",
                        help="rebuild even when the working warehouse opens fine")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from pipelines.recovery import NothingToRebuild, rebuild

    try:
        report = rebuild(force=args.force)
    except NothingToRebuild as exc:
        print(f"oligo rebuild: {exc}")
        return 0
    if report.moved_aside:
        print(f"set aside the unusable warehouse as {report.moved_aside}")
    print(f"ops history from {report.ops_source}: "
          f"{sum(report.ops_rows.values())} rows in {len(report.ops_rows)} tables")
    for table, rows in sorted(report.ops_rows.items()):
        print(f"  {table:<28} {rows:>8}")
    if report.batches_from_files:
        print("published batches taken from their frozen files: "
              + ", ".join(report.batches_from_files))
    print(f"current: {report.current_batch or '-'}"
          + (" (swapped in again)" if report.current_republished else ""))
    return 0

"""`oligo generate`: a seeded synthetic registry batch (issue 3; docs/synthetic-registry.md)."""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

from pipelines.contract.dialects import DIALECTS, dialect


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("generate", help="write a seeded synthetic registry batch")
    parser.add_argument("--patients", type=int, required=True, help="number of patients")
    parser.add_argument("--seed", type=int, required=True, help="random seed")
    parser.add_argument("--out", type=Path, required=True, help="folder that receives <batch_id>/")
    parser.add_argument("--batch-id", default=None, help="batch folder name (default: the cut-off date)")
    parser.add_argument("--cutoff", type=dt.date.fromisoformat, default=dt.date(2026, 10, 31),
                        help="data cut-off date, YYYY-MM-DD (default 2026-10-31)")
    parser.add_argument("--dialect", choices=sorted(DIALECTS), default="default")
    parser.add_argument("--format", dest="file_format", choices=("csv", "parquet", "xlsx"), default="csv")
    parser.add_argument("--messy", action="store_true", help="inject listed row defects")
    parser.add_argument("--inject-identifier", action="store_true",
                        help="add a column of person names (the batch must be refused)")
    parser.add_argument("--chunk-patients", type=int, default=None, help=argparse.SUPPRESS)
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from pipelines.synthetic.batch import DEFAULT_CHUNK_PATIENTS, BatchSpec, generate_batch

    if args.patients < 1:
        print("--patients must be at least 1")
        return 2
    started = time.perf_counter()
    result = generate_batch(BatchSpec(
        patients=args.patients, seed=args.seed, out_dir=args.out, cutoff=args.cutoff,
        batch_id=args.batch_id, dialect=dialect(args.dialect), file_format=args.file_format,
        messy=args.messy, inject_identifier=args.inject_identifier,
        chunk_patients=args.chunk_patients or DEFAULT_CHUNK_PATIENTS))
    print(f"batch {result.batch_dir} ({args.patients} patients, seed {args.seed}) "
          f"in {time.perf_counter() - started:.1f} s")
    for name, n in result.rows.items():
        print(f"  {name:<20} {n:>10} rows")
    print(f"truth: {result.truth_dir}")
    if result.defects_file is not None:
        print(f"defects: {result.defects_file}")
    return 0

"""`oligo pseudonym SOURCE_ID...`: the warehouse key of each source id, for a data manager
who holds the secret. The mapping is never stored; it is recomputed here."""

from __future__ import annotations

import argparse
import sys

from pipelines.contract.tables import TABLES
from pipelines.ingest.pseudonym import MissingSecret, id_columns, load_pseudonymizer


def namespaces() -> list[str]:
    return sorted({ns for t in TABLES for ns in id_columns(t).values()})


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pseudonym", help="print the pseudonymised keys of source ids (needs the secret)"
    )
    parser.add_argument("source_ids", nargs="+", metavar="SOURCE_ID")
    parser.add_argument("--entity", choices=namespaces(), default="patient_id",
                        help="which kind of id (default: %(default)s)")
    parser.add_argument("--demo", action="store_true",
                        help="use the public demo secret (synthetic data only)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        pseudonymizer = load_pseudonymizer(demo=args.demo)
    except MissingSecret as exc:
        print(f"oligo pseudonym: {exc}", file=sys.stderr)
        return 2
    for source_id in args.source_ids:
        print(f"{source_id}\t{pseudonymizer.pseudonym(args.entity, source_id)}")
    return 0

"""`oligo pseudonym SOURCE_ID... --registry NAME`: the warehouse key of each source id of one
registry, for a data manager who holds the secret. The mapping is never stored; it is
recomputed here with the same scope as the loader (registry, or linkage key)."""

from __future__ import annotations

import argparse
import os
import sys

from pipelines.contract.tables import TABLES
from pipelines.ingest.pseudonym import (
    REGISTRY_ENV,
    MissingSecret,
    Pseudonymizer,
    id_columns,
    linkage_from_env,
    load_pseudonymizer,
    registry_scope,
)


def namespaces() -> list[str]:
    return sorted({ns for t in TABLES for ns in id_columns(t).values()})


def add_registry_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--registry", default=None,
                        help="the registry named in its manifests (default: $OLIGO_REGISTRY)")
    parser.add_argument("--demo", action="store_true",
                        help="use the public demo secret (synthetic data only)")


def registry_pseudonymizer(args: argparse.Namespace, command: str) -> Pseudonymizer | None:
    """The secret, checked, scoped to `--registry`; None after printing one line why not."""
    registry = args.registry or os.environ.get(REGISTRY_ENV, "")
    if not registry.strip():
        print(f"oligo {command}: name the registry with --registry (as in its manifest.json) "
              f"or set {REGISTRY_ENV}: pseudonyms are keyed per registry", file=sys.stderr)
        return None
    try:
        return load_pseudonymizer(demo=args.demo).scoped(
            registry_scope(registry, linkage_from_env()))
    except MissingSecret as exc:
        print(f"oligo {command}: {exc}", file=sys.stderr)
        return None


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pseudonym", help="print the pseudonymised keys of source ids (needs the secret)"
    )
    parser.add_argument("source_ids", nargs="+", metavar="SOURCE_ID")
    parser.add_argument("--entity", choices=namespaces(), default="patient_id",
                        help="which kind of id (default: %(default)s)")
    add_registry_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    pseudonymizer = registry_pseudonymizer(args, "pseudonym")
    if pseudonymizer is None:
        return 2
    for source_id in args.source_ids:
        print(f"{source_id}\t{pseudonymizer.pseudonym(args.entity, source_id)}")
    return 0

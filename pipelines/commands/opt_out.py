"""`oligo opt-out add SOURCE_ID --registry NAME`: record a patient's objection to research use
(docs/privacy.md). Only the pseudonym is stored, in <OLIGO_HOME>/opt-outs.csv; every later
batch of that registry loads without the patient. `oligo opt-out count` says how many are
recorded."""

from __future__ import annotations

import argparse

from pipelines.commands.pseudonym import add_registry_arguments, registry_pseudonymizer
from pipelines.ingest.opt_outs import add_opt_out, opt_out_path, read_opt_outs, snapshots_holding


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "opt-out", help="record a patient's objection: excluded from every later batch")
    actions = parser.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="record one patient by source id (needs the secret)")
    add.add_argument("source_id", metavar="SOURCE_ID")
    add_registry_arguments(add)
    add.set_defaults(func=run_add)
    count = actions.add_parser("count", help="how many opt-outs are recorded")
    count.set_defaults(func=run_count)


def run_add(args: argparse.Namespace) -> int:
    pseudonymizer = registry_pseudonymizer(args, "opt-out")
    if pseudonymizer is None:
        return 2
    if not args.source_id.strip():
        print("oligo opt-out: the source id is empty")
        return 2
    key, new = add_opt_out(pseudonymizer, args.source_id)
    # The source id is not repeated: the terminal's history is the only copy we do not control.
    if new:
        print(f"opt-out recorded in {opt_out_path()} (as a pseudonym); the patient is left out "
              "of every batch loaded from now on")
    else:
        print("this patient's opt-out was already recorded; nothing changed")
    frozen = snapshots_holding(key)
    if frozen:
        print(f"the patient is still in {len(frozen)} frozen snapshot(s) of earlier batches "
              f"({', '.join(p.name for p in frozen)}): they are kept unchanged for "
              "reproducibility; delete them if the objection requires it (docs/privacy.md)")
    return 0


def run_count(args: argparse.Namespace) -> int:
    print(f"{len(read_opt_outs())} opt-outs recorded in {opt_out_path()}")
    return 0

"""`oligo batch retire ID [--reason TEXT]`: take a published batch out of the choice of
`current` (its frozen file stays readable with `--batch ID`).

A batch published with a wrong cut-off would otherwise stay `current` until a batch with a
later cut-off arrives. The retirement is recorded in ops.batch_retirements (when, why, which
batch was current before and after); `current` is swapped to the batch that now wins."""

from __future__ import annotations

import argparse

from pipelines.ops_store import now, retire_batch
from pipelines.publish import copy_as_current
from pipelines.run_lock import run_lock
from pipelines.settings import paths


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("batch", help="manage published batches (retire)")
    actions = parser.add_subparsers(dest="action", required=True)
    retire = actions.add_parser("retire", help="take a published batch out of the choice "
                                "of current (recorded in ops.batch_retirements)")
    retire.add_argument("batch_id", metavar="ID")
    retire.add_argument("--reason", default="retired by the data manager",
                        help="why, recorded with the retirement")
    retire.set_defaults(func=main_retire)


def main_retire(args: argparse.Namespace) -> int:
    from pipelines.ops_snapshot import refresh_ops_snapshot, working_connection

    where = paths()
    with run_lock(where.lock_file), working_connection() as con:
        con.execute("BEGIN TRANSACTION")
        try:
            before, after = retire_batch(con, args.batch_id, args.reason)
            if before != after:
                if after is None:
                    raise ValueError(f"batch {args.batch_id} is the only published batch; "
                                     "current would be empty (publish another batch first)")
                # The swap happens inside the transaction: ops changes only if it does.
                copy_as_current(where.batch_snapshot(after), where.current)
        except ValueError as exc:
            con.execute("ROLLBACK")
            print(f"oligo batch retire: refused: {exc}")
            return 2
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        refresh_ops_snapshot(con)
    print(f"batch {args.batch_id}: retired at {now():%Y-%m-%d %H:%M} UTC ({args.reason})")
    print(f"  current: {before or '-'} -> {after or '-'}")
    return 0

"""`oligo audit`: print the dashboards' audit log (OLIGO_HOME/app.sqlite), newest first."""

from __future__ import annotations

import argparse
import json

from pipelines import appdb

HEADER = ("id", "at (UTC)", "user", "role", "page", "action", "rows", "filters")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("audit", help="the dashboards' audit log, newest first")
    parser.add_argument("--limit", type=int, default=50, help="rows to print (0: all)")
    parser.add_argument("--user", help="only this user's entries (e-mail)")
    parser.add_argument("--since", help="only entries at or after this UTC date or time")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    path = appdb.database_path()
    if not path.is_file():
        print(f"no audit log yet: {path} does not exist (it is created when the dashboards "
              "are first opened).")
        return 0
    entries = appdb.read_audit(limit=args.limit or None, user=args.user, since=args.since)
    if args.json:
        for entry in entries:
            print(json.dumps(entry.__dict__, sort_keys=True))
        return 0
    if not entries:
        print(f"{path}: no matching entries.")
        return 0
    rows = [
        (str(e.id), e.at, e.user + (" (demo)" if e.is_demo else ""), e.role, e.page, e.action,
         "" if e.rows_before_protection is None else str(e.rows_before_protection), e.filters)
        for e in entries
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEADER[:-1])]
    print(f"{path} · {len(rows)} entries, newest first")
    print("  ".join(h.ljust(w) for h, w in zip(HEADER, widths, strict=False)) + "  filters")
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1])
    return 0

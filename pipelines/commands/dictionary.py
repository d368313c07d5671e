"""`oligo dictionary --out docs/data-dictionary.md`: write the data dictionary generated
from the contract."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.ingest.dictionary import render_dictionary

DEFAULT_OUT = Path("docs/data-dictionary.md")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dictionary", help="generate the data dictionary")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="where to write it (default: %(default)s; '-' for stdout)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    text = render_dictionary()
    if str(args.out) == "-":
        print(text, end="")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0

"""`oligo`: one console script; each subcommand lives in its own module under
`pipelines/commands/` and exposes `register(subparsers)`, which sets `func` on its parser."""

from __future__ import annotations

import argparse
import importlib
import sys

from pipelines.settings import disable_telemetry

# Order is the order of `oligo --help`.
COMMAND_MODULES = (
    "validate",
    "dictionary",
    "generate",
    "run",
    "pseudonym",
    "status",
    "sql",
    "survival",
    "emulate",
    "export",
    "dq",
    "demo",
    "audit",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="oligo", description="Oligometastatic NSCLC registry warehouse"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"pipelines.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"pipelines.commands.{name}":
                raise
            continue  # command not built yet
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    disable_telemetry()
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())

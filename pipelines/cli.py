"""`oligo`: one console script; each subcommand lives in its own module under
`pipelines/commands/` and exposes `register(subparsers)`, which sets `func` on its parser."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
import warnings

from pipelines.gc_tuning import collect_less_often
from pipelines.settings import disable_telemetry, paths

# Order is the order of `oligo --help`.
COMMAND_MODULES = (
    "validate",
    "dictionary",
    "generate",
    "run",
    "pseudonym",
    "opt_out",
    "status",
    "sql",
    "survival",
    "emulate",
    "export",
    "dq",
    "demo",
    "batch",
    "rebuild",
    "audit",
)


def command_word(argv: list[str]) -> str | None:
    """The subcommand named in argv: the first word that is not an option (`oligo` takes
    only flags before it)."""
    return next((word for word in argv if not word.startswith("-")), None)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every command's parser, or only `command`'s when it names one: each command module
    imports what its command needs (`survival` loads lifelines and SciPy, ~7 s), so
    `oligo run` must not pay for the others."""
    modules = [name for name in COMMAND_MODULES if name.replace("_", "-") == command]
    parser = argparse.ArgumentParser(
        prog="oligo", description="Oligometastatic NSCLC registry warehouse"
    )
    parser.add_argument("--debug", action="store_true",
                        help="show Dagster's step log and Python tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in modules or COMMAND_MODULES:  # unknown or no command: all, for the help
        try:
            module = importlib.import_module(f"pipelines.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"pipelines.commands.{name}":
                raise
            continue  # command not built yet
        module.register(sub)
    return parser


EXIT_EXPECTED = 2  # refused, blocked, misconfigured: the report says what to do
EXIT_BUG = 70


class QuietDagsterStderr:
    """Dagster writes event-log storage failures (disk full, read-only folder) straight to
    stderr, one block per event; without --debug the one-line report below says it all."""

    DROPPED = ("Exception while writing logger call to event log",)

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        if text.startswith(self.DROPPED):
            return len(text)
        return self._stream.write(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def main(argv: list[str] | None = None) -> int:
    """Expected outcomes print one report; tracebacks and Dagster's ERROR lines only with
    --debug (they stay in the Dagster event log either way)."""
    collect_less_often()
    disable_telemetry()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(command_word(argv)).parse_args(argv)
    if args.debug:
        os.environ["OLIGO_LOG_LEVEL"] = "DEBUG"
    else:
        os.environ.setdefault("OLIGO_LOG_LEVEL", "CRITICAL")
        warnings.filterwarnings("ignore")
        sys.stderr = QuietDagsterStderr(sys.stderr)
    from pipelines.failures import explain
    from pipelines.publish import discard_pending_temporaries

    try:
        return int(args.func(args) or 0)
    except Exception as exc:  # noqa: BLE001 - the one place that turns errors into reports
        if args.debug:
            traceback.print_exc()
        reason = explain(exc, paths().home)
        if reason is not None:
            print(f"oligo {args.command}: {reason}", file=sys.stderr)
            return EXIT_EXPECTED
        print(f"oligo {args.command}: unexpected error ({type(exc).__name__}: "
              f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}); "
              "run again with --debug for the traceback", file=sys.stderr)
        return EXIT_BUG
    finally:
        discard_pending_temporaries()  # a failed run leaves no temporaries in published/


def console_main() -> None:
    """The `oligo` command: `main`, then a quick exit (pipelines/quick_exit.py)."""
    from pipelines.quick_exit import exit_now

    exit_now(main())


if __name__ == "__main__":
    console_main()

"""What `oligo <command>` loads before its command runs: only that command's module. A
command that never runs the pipeline loads neither Dagster nor Great Expectations, and
`oligo run` does not load the statistics stack of `oligo survival` (~7 s)."""

import json
import subprocess
import sys

from pipelines.cli import COMMAND_MODULES

HEAVY = ("dagster", "great_expectations", "lifelines", "scipy", "statsmodels")


def loaded_by_parser(command: str | None) -> list[str]:
    script = ("import json, sys; from pipelines.cli import build_parser; "
              f"build_parser({command!r}); "
              f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_run_command_parser_loads_nothing_heavy():
    assert loaded_by_parser("run") == []


def test_no_command_parser_loads_dagster_or_great_expectations():
    # All of them at once (`oligo --help`): the statistics commands load lifelines, no more.
    assert not {"dagster", "great_expectations"} & set(loaded_by_parser(None))


def test_each_command_name_selects_its_module_only():
    from pipelines.cli import build_parser

    for module in COMMAND_MODULES:
        name = module.replace("_", "-")
        parser = build_parser(name)
        choices = parser._subparsers._group_actions[0].choices  # noqa: SLF001
        assert list(choices) == [name], name

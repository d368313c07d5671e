"""`oligo emulate gomez|sabr-comet|iyengar|bauml [--rmst-months M] [--batch ID] [--json]`

Applies the trial's documented protocol (docs/emulation.md; pipelines/stats/emulation.py)
to the published snapshot: eligibility with its attrition, time zero, the two strategies
compared by cloning, censoring at deviation and inverse-probability-of-censoring weights;
prints each arm's numbers, weighted Kaplan-Meier median, RMST and the hazard ratio beside
the trial's published figures. Observational: the label is printed with every result.
"""

from __future__ import annotations

import argparse
import json
import sys

import duckdb

from pipelines.commands.survival_format import _plain
from pipelines.safe_sql import QueryRefused, published_database
from pipelines.stats.emulation import PROTOCOLS, EmulationResult, emulate
from pipelines.stats.emulation_data import load_emulation_rows

LABEL = ("OBSERVATIONAL emulation on registry data, not a randomised result: it holds only "
         "if the baseline covariates capture why local therapy was given")
ARM_NAMES = {"lct": "LCT of all sites", "no_lct": "no LCT"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "emulate", help="target-trial emulation of an oligometastatic NSCLC trial")
    parser.add_argument("trial", choices=list(PROTOCOLS))
    parser.add_argument("--rmst-months", type=float, default=24.0, metavar="M",
                        help="horizon of the restricted mean survival time (default 24)")
    parser.add_argument("--batch", metavar="ID", help="analyse this batch's frozen snapshot")
    parser.add_argument("--json", action="store_true", help="every figure as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    protocol = PROTOCOLS[args.trial]
    try:
        rows = load_emulation_rows(published_database(args.batch))
        results = emulate(rows, protocol, rmst_months=args.rmst_months)
    except (QueryRefused, ValueError) as exc:
        print(f"oligo emulate: refused: {exc}", file=sys.stderr)
        return 2
    except duckdb.Error as exc:
        print(f"oligo emulate: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(_plain({"label": LABEL, "results": results}), indent=1))
        return 0
    print(format_results(results))
    return 0


def _months(value: float | None, missing: str = "NR") -> str:
    """NR: median not reached; NA: RMST horizon beyond the arm's follow-up."""
    return missing if value is None else f"{value:.1f}"


def format_results(results: list[EmulationResult]) -> str:
    protocol = results[0].protocol
    lines = [protocol.title, protocol.citation, LABEL, "",
             f"eligibility: {protocol.eligibility}",
             f"time zero: {protocol.time_zero}; grace period for local therapy: "
             f"{protocol.grace_days / 30.4375:g} months",
             "strategies: local consolidative therapy of all sites started within the grace "
             "period vs no local therapy (cloned, censored at deviation, IPC-weighted)", "",
             "attrition"]
    lines += [f"  {label:<58} {n:>7}" for label, n in results[0].attrition]
    for result in results:
        lines += ["", f"{result.endpoint.upper()} from time zero ({result.n_patients} patients, "
                  "each cloned into both arms)",
                  f"  {'arm':<18} {'clones':>7} {'events':>7} {'censored at deviation':>22} "
                  f"{'median, months':>15} {f'RMST {result.rmst_horizon_months:g} mo':>11} "
                  f"{'max weight':>11}"]
        for arm in result.arms:
            lines.append(f"  {ARM_NAMES[arm.arm]:<18} {arm.n_clones:>7} {arm.n_events:>7} "
                         f"{arm.n_censored_deviation:>22} {_months(arm.median_months):>15} "
                         f"{_months(arm.rmst_months, 'NA'):>11} {arm.weight_max:>11.2f}")
        hr = result.hazard_ratio
        if hr is not None:
            lines.append(f"  hazard ratio LCT vs no LCT {hr['hazard_ratio']:.2f} "
                         f"(95% CI {hr['ci_lower']:.2f}-{hr['ci_upper']:.2f})")
        for ref in (r for r in protocol.references if r.endpoint == result.endpoint):
            control = ("(single arm, no comparator)" if ref.control_months is None
                       else f"vs {ref.control_months:g} months")
            hr_text = f", HR {ref.hazard_ratio}" if ref.hazard_ratio else ""
            lines.append(f"  published ({ref.source}): median {ref.lct_months:g} months "
                         f"{control}{hr_text}")
        lines += [f"  note: {n}" for n in result.notes]
    return "\n".join(lines)

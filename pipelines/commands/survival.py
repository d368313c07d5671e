"""`oligo survival --endpoint os|pfs|wsp|ttnt|local_control [--by COLUMN] [--where FILTER]
[--origin episode|lct] [--landmark-months N] [--ci log|log-log] [--batch ID]
[--adjust COL,...] [--weights iptw|iptw-att|match --covariates COL,...] [--trim P]
[--rmst-months M] [--ties efron|breslow] [--strata COL] [--ph-test] [--json]`

Medians with CIs in days and months, 12/24-month rates, numbers at risk, log-rank p and
hazard ratios, from the published snapshot (see docs/statistics.md); beside them the
adjusted figures asked for (pipelines.stats.comparative) and always the median follow-up.
The first episode per patient by default; `--all-episodes` uses every episode with
cluster-robust Cox variance. `--json` prints every figure as one JSON document.
"""

from __future__ import annotations

import argparse
import json
import sys

import duckdb
import polars as pl

from pipelines.clinical.parameters import DEFAULT_PARAMETERS
from pipelines.commands.survival_format import format_comparative, to_json
from pipelines.safe_sql import QueryRefused, published_database
from pipelines.stats.comparative import ComparisonOptions, comparative_report
from pipelines.stats.cox import TIES
from pipelines.stats.design import BASELINE_COVARIATES
from pipelines.stats.endpoints import (
    COMPETING_EPISODE_ENDPOINTS,
    ENDPOINT_LABELS,
    ENDPOINTS,
    ORIGINS,
    load_endpoint,
)
from pipelines.stats.kaplan_meier import CI_TRANSFORMS
from pipelines.stats.landmark import landmark_cohort, landmark_days
from pipelines.stats.propensity import DEFAULT_CALIPER_SD, METHODS
from pipelines.stats.report import SurvivalReport, local_control_report, survival_report


def _columns(text: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.split(",") if c.strip())


def _unknown_covariates(args: argparse.Namespace) -> str | None:
    unknown = [c for c in (*args.adjust, *args.covariates) if c not in BASELINE_COVARIATES]
    if not unknown:
        return None
    return (f"{', '.join(unknown)} is not a baseline variable; choose from "
            f"{', '.join(BASELINE_COVARIATES)}")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("survival", help="survival estimates from the published marts")
    parser.add_argument("--endpoint", required=True, choices=ENDPOINTS)
    parser.add_argument("--by", metavar="COLUMN",
                        help="compare groups: a column of marts.episode_cohort "
                        "(of marts.lesion_outcomes for local_control)")
    parser.add_argument("--reference", metavar="LEVEL",
                        help="reference level for hazard ratios (default: first in sort order)")
    parser.add_argument("--where", metavar="FILTER",
                        help="a boolean SQL expression over the same table's columns")
    parser.add_argument("--origin", choices=ORIGINS, default="episode",
                        help="time zero: the episode date or the first day of LCT")
    parser.add_argument("--landmark-months", type=float, metavar="N",
                        help="landmark comparison of LCT started by N months vs not "
                        f"(default landmark {DEFAULT_PARAMETERS.landmark_months} months)")
    parser.add_argument("--ci", choices=CI_TRANSFORMS, default="log-log",
                        help="confidence interval transform; 'log' reproduces R survfit")
    parser.add_argument("--all-episodes", action="store_true",
                        help="every episode, not only each patient's first (cluster-robust HRs)")
    parser.add_argument("--batch", metavar="ID", help="analyse this batch's frozen snapshot")
    parser.add_argument("--adjust", type=_columns, default=(), metavar="COL[,COL...]",
                        help="multivariable Cox adjusted for these baseline variables")
    parser.add_argument("--weights", choices=METHODS,
                        help="propensity-score inverse-probability weights (ATE or ATT) or 1:1 "
                        "caliper matching between the two --by groups")
    parser.add_argument("--covariates", type=_columns, default=(), metavar="COL[,COL...]",
                        help="baseline variables of the propensity model (with --weights)")
    parser.add_argument("--trim", type=float, default=0.0, metavar="P",
                        help="leave out rows with a propensity outside [P, 1-P] (default 0)")
    parser.add_argument("--caliper-sd", type=float, default=DEFAULT_CALIPER_SD, metavar="SD",
                        help="matching caliper in SDs of the logit propensity (default 0.2)")
    parser.add_argument("--rmst-months", type=float, metavar="M",
                        help="restricted mean survival time to M months, and its difference")
    parser.add_argument("--ties", choices=TIES, default="efron",
                        help="tied event times in the Cox model (efron, R's default)")
    parser.add_argument("--strata", metavar="COL",
                        help="stratified log-rank and Cox by this column of the cohort")
    parser.add_argument("--ph-test", action="store_true",
                        help="test proportional hazards on scaled Schoenfeld residuals (R cox.zph)")
    parser.add_argument("--json", action="store_true", help="every figure as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.landmark_months is not None and (args.by or args.origin != "episode"
                                             or args.endpoint == "local_control"):
        print("oligo survival: --landmark-months compares LCT by the landmark with no LCT from "
              "the episode date; it cannot be combined with --by, --origin lct or local_control",
              file=sys.stderr)
        return 2
    options = ComparisonOptions(
        adjust=args.adjust, weights=args.weights, covariates=args.covariates, trim=args.trim,
        caliper_sd=args.caliper_sd, rmst_months=args.rmst_months, ties=args.ties,
        strata=args.strata, ph_test=args.ph_test,
        cluster="patient_id" if args.all_episodes else None,
    )
    competing = args.endpoint == "local_control" or args.endpoint in COMPETING_EPISODE_ENDPOINTS
    asks_comparative = options.wants_model or options.weights or options.rmst_months is not None
    if competing and asks_comparative:
        print(f"oligo survival: refused: {args.endpoint} is a competing-risk endpoint; --adjust, "
              "--weights, --rmst-months, --ties, --strata and --ph-test apply to os, pfs and wsp",
              file=sys.stderr)
        return 2
    if (unknown := _unknown_covariates(args)) is not None:
        print(f"oligo survival: refused: {unknown}", file=sys.stderr)
        return 2
    if args.weights and not args.covariates:
        print("oligo survival: refused: --weights needs --covariates COL[,COL...] for the "
              "propensity model", file=sys.stderr)
        return 2
    if args.covariates and not args.weights:
        print("oligo survival: refused: --covariates is the propensity model of --weights; "
              "use --adjust for a multivariable Cox model", file=sys.stderr)
        return 2
    try:
        extra = tuple(dict.fromkeys([*args.adjust, *args.covariates,
                                     *([args.strata] if args.strata else [])]))
        data = load_endpoint(
            published_database(args.batch), args.endpoint, by=args.by, where=args.where,
            origin=args.origin, all_episodes=args.all_episodes, columns=extra,
        )
        frame = data.frame
        heading = [f"{ENDPOINT_LABELS[args.endpoint]}; origin: {data.origin}; "
                   f"unit: {data.unit}" + ("" if data.unit == "lesion" else
                   "; all episodes" if args.all_episodes else "; first episode per patient")]
        if args.where:
            heading.append(f"filter: {args.where}")
        if args.landmark_months is not None:
            at = landmark_days(months=args.landmark_months)
            before = frame.height
            frame = (
                landmark_cohort(frame.lazy(), at_days=at)
                .with_columns(group=pl.when(pl.col("has_lct_by_landmark"))
                              .then(pl.lit("lct_by_landmark")).otherwise(pl.lit("no_lct_by_landmark")))
                .collect()
            )
            heading.append(
                f"landmark {args.landmark_months:g} months ({at:.1f} days): {frame.height} of "
                f"{before} at risk at the landmark; time counted from the landmark"
            )
        if frame.height == 0:
            print("oligo survival: no rows to analyse", file=sys.stderr)
            return 1
        reference = args.reference
        if args.landmark_months is not None and reference is None:
            reference = "no_lct_by_landmark"
        if competing:
            report = local_control_report(frame, reference=reference,
                                          cluster_by_patient=data.unit == "lesion"
                                          or args.all_episodes)
            followup_frame = frame.with_columns(event=(pl.col("status") != 0).cast(pl.Int64))
            comparative = comparative_report(followup_frame, ComparisonOptions(), None)
        else:
            report = survival_report(frame, ci=args.ci, reference=reference,
                                     cluster_by_patient=args.all_episodes)
            comparative = comparative_report(frame, options, report_reference(report))
    except (QueryRefused, ValueError) as exc:
        print(f"oligo survival: refused: {exc}", file=sys.stderr)
        return 2
    except duckdb.Error as exc:
        print(f"oligo survival: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(to_json(report, comparative, heading, vars(args)), indent=1))
        return 0
    if competing:
        heading.append(f"event: {'local failure' if data.unit == 'lesion' else 'next therapy'}")
    print(format_report(report, heading, ci=args.ci, by=args.by, lesion=competing))
    print(format_comparative(comparative, by=args.by))
    return 0


def report_reference(report: SurvivalReport) -> str | None:
    if report.hazard_ratios is None or report.hazard_ratios.is_empty():
        return None
    return report.hazard_ratios["reference"][0]


def _num(value: float | None, digits: int = 1) -> str:
    return "NR" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "NA (beyond follow-up)" if value is None else f"{100 * value:.1f}%"


def _p(value: float | None) -> str:
    if value is None:
        return "NA"
    return "< 0.0001" if value < 1e-4 else f"= {value:.4f}"


def format_report(report: SurvivalReport, heading: list[str], *, ci: str, by: str | None,
                  lesion: bool) -> str:
    lines = [*heading, ""]
    group_label = by or "group"
    if lesion:
        lines.append(f"{group_label:<24} {'patients':>8} {'lesions':>8} {'failures':>8} {'deaths':>7}")
        for row in report.groups.iter_rows(named=True):
            lines.append(f"{row['group']:<24} {row['n_patients']:>8} {row['n_lesions']:>8} "
                         f"{row['n_local_failures']:>8} {row['n_deaths_first']:>7}")
        lines += ["", "cumulative incidence of the event (Aalen-Johansen, death competing)"]
    else:
        lines.append(f"median survival, 95% CI ({ci} transform); NR = not reached")
        lines.append(f"{group_label:<24} {'patients':>8} {'events':>7}  {'median days (95% CI)':<26}"
                     f"median months (95% CI)")
        for row in report.groups.iter_rows(named=True):
            days = (f"{_num(row['median_days'], 0)} ({_num(row['median_ci_lower_days'], 0)}-"
                    f"{_num(row['median_ci_upper_days'], 0)})")
            months = (f"{_num(row['median_months'])} ({_num(row['median_ci_lower_months'])}-"
                      f"{_num(row['median_ci_upper_months'])})")
            lines.append(f"{row['group']:<24} {row['n_patients']:>8} {row['n_events']:>7}  "
                         f"{days:<26}{months}")
        lines += ["", "survival at 12 and 24 months (95% CI)"]
    for row in report.rates.iter_rows(named=True):
        interval = ("" if row["ci_lower"] is None or row["estimate"] is None
                    else f" ({_pct(row['ci_lower'])}-{_pct(row['ci_upper'])})")
        lines.append(f"  {row['group']:<22} {row['at_months']:>4.0f} months: "
                     f"{_pct(row['estimate'])}{interval}")
    lines += ["", "numbers at risk (months)"]
    wide = report.at_risk.with_columns(pl.col("at_months").round(0).cast(pl.Int64)).pivot(
        on="at_months", index="group", values="n_at_risk"
    )
    lines.append(f"  {'':<22}" + "".join(f"{c:>7}" for c in wide.columns[1:]))
    for row in wide.rows():
        lines.append(f"  {row[0]:<22}" + "".join(f"{v if v is not None else '':>7}" for v in row[1:]))
    if report.test is not None:
        t = report.test.row(0, named=True)
        name = "Gray's test (cumulative incidence)" if lesion else "log-rank test"
        lines += ["", f"{name}: chi-square {t['chisq']:.2f} on {t['df']} df, "
                      f"p {_p(t['p_value'])}"]
    if report.hazard_ratios is not None and report.hazard_ratios.height:
        robust = bool(report.hazard_ratios["is_cluster_robust"].any())
        lines += ["", "hazard ratios (Cox" + (", cluster-robust by patient" if robust else "")
                  + f"), reference: {report.hazard_ratios['reference'][0]}"]
        for row in report.hazard_ratios.iter_rows(named=True):
            if not row["is_estimable"]:
                lines.append(f"  {row['level']:<22} not estimable ({row['note']})")
                continue
            lines.append(f"  {row['level']:<22} HR {_num(row['hazard_ratio'], 2)} "
                         f"(95% CI {_num(row['ci_lower'], 2)}-{_num(row['ci_upper'], 2)}), "
                         f"p {_p(row['p_value'])}")
        lines += [f"note: {n}" for n in report.hazard_ratios["note"].drop_nulls().unique()
                  if "not estimable" not in n]
    if report.notes:
        lines += ["", *(f"note: {n}" for n in report.notes)]
    return "\n".join(lines)

"""`oligo survival --endpoint os|pfs|wsp|local_control [--by COLUMN] [--where FILTER]
[--origin episode|lct] [--landmark-months N] [--ci log|log-log] [--batch ID]`

Medians with CIs in days and months, 12/24-month rates, numbers at risk, log-rank p and
hazard ratios, from the published snapshot (see docs/statistics.md). The first episode per
patient by default; `--all-episodes` uses every episode with cluster-robust Cox variance.
"""

from __future__ import annotations

import argparse
import sys

import duckdb
import polars as pl

from pipelines.clinical.parameters import DEFAULT_PARAMETERS
from pipelines.safe_sql import QueryRefused, published_database
from pipelines.stats.endpoints import ENDPOINT_LABELS, ENDPOINTS, ORIGINS, load_endpoint
from pipelines.stats.kaplan_meier import CI_TRANSFORMS
from pipelines.stats.landmark import landmark_cohort, landmark_days
from pipelines.stats.report import SurvivalReport, local_control_report, survival_report


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
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.landmark_months is not None and (args.by or args.origin != "episode"
                                             or args.endpoint == "local_control"):
        print("oligo survival: --landmark-months compares LCT by the landmark with no LCT from "
              "the episode date; it cannot be combined with --by, --origin lct or local_control",
              file=sys.stderr)
        return 2
    try:
        data = load_endpoint(
            published_database(args.batch), args.endpoint, by=args.by, where=args.where,
            origin=args.origin, all_episodes=args.all_episodes,
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
        if data.unit == "lesion":
            report = local_control_report(frame, reference=reference)
        else:
            report = survival_report(frame, ci=args.ci, reference=reference,
                                     cluster_by_patient=args.all_episodes)
    except (QueryRefused, ValueError) as exc:
        print(f"oligo survival: refused: {exc}", file=sys.stderr)
        return 2
    except duckdb.Error as exc:
        print(f"oligo survival: {exc}", file=sys.stderr)
        return 1
    print(format_report(report, heading, ci=args.ci, by=args.by, lesion=data.unit == "lesion"))
    return 0


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
        lines += ["", "cumulative incidence of local failure (Aalen-Johansen, death competing)"]
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
        lines += ["", f"log-rank test: chi-square {t['chisq']:.2f} on {t['df']} df, "
                      f"p {_p(t['p_value'])}"]
    if report.hazard_ratios is not None and report.hazard_ratios.height:
        robust = bool(report.hazard_ratios["is_cluster_robust"].any())
        lines += ["", "hazard ratios (Cox" + (", cluster-robust by patient" if robust else "")
                  + f"), reference: {report.hazard_ratios['reference'][0]}"]
        for row in report.hazard_ratios.iter_rows(named=True):
            lines.append(f"  {row['level']:<22} HR {_num(row['hazard_ratio'], 2)} "
                         f"(95% CI {_num(row['ci_lower'], 2)}-{_num(row['ci_upper'], 2)}), "
                         f"p {_p(row['p_value'])}")
    if report.notes:
        lines += ["", *(f"note: {n}" for n in report.notes)]
    return "\n".join(lines)

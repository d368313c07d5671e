"""Text tables and JSON of the comparative figures of `oligo survival` (and `oligo emulate`).

The text is for reading (rounded, one table per analysis, each with its n); the JSON has
every figure unrounded, so nothing printed is the only copy of a number.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import polars as pl

from pipelines.stats.comparative import ComparativeReport, ModelSummary
from pipelines.stats.report import SurvivalReport


def _num(value: float | None, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NA"
    return f"{value:.{digits}f}"


def _p(value: float | None) -> str:
    if value is None:
        return "NA"
    return "< 0.0001" if value < 1e-4 else f"{value:.4f}"


def _model_lines(title: str, model: ModelSummary) -> list[str]:
    strata = f"; strata: {', '.join(model.strata)}" if model.strata else ""
    lines = ["", f"{title} ({model.ties} ties, {model.variance} variance{strata}); "
             f"n {model.n}, events {model.n_events}"
             + (f", {model.n_dropped} incomplete rows left out" if model.n_dropped else "")]
    lines.append(f"  {'term':<34} {'HR':>6}  {'95% CI':<15} {'p':>8}")
    for row in model.terms.iter_rows(named=True):
        term = row["term"] if row["level"] is None else f"{row['column']}: {row['level']} vs {row['reference']}"
        term = term.replace("group: ", "")
        if not row["is_estimable"]:
            lines.append(f"  {term:<34} not estimable")
            continue
        ci = f"{_num(row['ci_lower'])}-{_num(row['ci_upper'])}"
        lines.append(f"  {term:<34} {_num(row['hazard_ratio']):>6}  {ci:<15} {_p(row['p_value']):>8}")
    lines += [f"  note: {n}" for n in model.notes]
    return lines


def _rmst_lines(table: pl.DataFrame, diffs: list[dict], heading: str) -> list[str]:
    months = table["horizon_months"][0]
    lines = ["", f"{heading} to {months:g} months (days / months)"]
    for row in table.iter_rows(named=True):
        ci = ("" if row["se_days"] is None else
              f" (95% CI {_num(row['ci_lower_days'], 1)}-{_num(row['ci_upper_days'], 1)})")
        lines.append(f"  {row['group']:<22} {_num(row['rmst_days'], 1)} days{ci}, "
                     f"{_num(row['rmst_months'], 1)} months")
    for d in diffs:
        ci = ("" if d["se_days"] is None else
              f" (95% CI {_num(d['ci_lower_days'], 1)} to {_num(d['ci_upper_days'], 1)}), "
              f"p {_p(d['p_value'])}")
        lines.append(f"  difference {d['level']} - {d['reference']}: "
                     f"{_num(d['difference_days'], 1)} days{ci}")
    return lines


def format_comparative(report: ComparativeReport, *, by: str | None) -> str:
    lines: list[str] = []
    f = report.followup.row(0, named=True)
    lines += ["", "median follow-up (reverse Kaplan-Meier): "
              f"{_num(f['median_followup_months'], 1)} months "
              f"(95% CI {_num(f['median_followup_ci_lower_months'], 1)}-"
              f"{_num(f['median_followup_ci_upper_months'], 1)})"]
    if report.model is not None:
        lines += _model_lines("Cox model", report.model)
    if report.ph_test is not None:
        lines += ["", "proportional hazards (scaled Schoenfeld residuals, R cox.zph; km transform)"]
        for row in report.ph_test.iter_rows(named=True):
            term = "group" if row["term"] == "group" and by is None else (
                by if row["term"] == "group" else row["term"])
            lines.append(f"  {term:<24} chi-square {row['chisq']:.3f} on {row['df']} df, "
                         f"p {_p(row['p_value'])}")
        if (report.ph_test["p_value"] < 0.05).any():
            lines.append("  note: proportional hazards rejected at 0.05: a single HR averages a "
                         "changing effect; read the RMST difference and the curves")
    if report.stratified_logrank is not None:
        t = report.stratified_logrank.row(0, named=True)
        lines += ["", f"stratified log-rank test: chi-square {t['chisq']:.2f} on {t['df']} df, "
                  f"p {_p(t['p_value'])}"]
    if report.rmst is not None:
        lines += _rmst_lines(report.rmst, report.rmst_differences, "restricted mean survival time")
    w = report.weighted
    if w is not None:
        label = {"iptw": "inverse-probability weights (ATE, stabilised)",
                 "iptw-att": "inverse-probability weights (ATT)",
                 "match": "1:1 propensity-score matching"}[w.method]
        lines += ["", f"propensity-score comparison: {label}; propensity model: "
                  f"{', '.join(w.covariates)}",
                  f"  {w.n_analysed} of {w.n_input} rows analysed "
                  f"({w.n_dropped_incomplete} incomplete, {w.n_trimmed} trimmed, "
                  f"{w.n_unmatched} treated unmatched)",
                  "", "  balance (standardised mean differences; |SMD| < 0.1 is the usual target)",
                  f"  {'term':<30} {'before':>8} {'after':>8}"]
        for row in w.balance.iter_rows(named=True):
            lines.append(f"  {row['term']:<30} {round(row['smd_before'], 3) + 0.0:>8.3f} "
                         f"{round(row['smd_after'], 3) + 0.0:>8.3f}")
        lines += ["", "  weighted Kaplan-Meier medians (months)"]
        for row in w.medians.iter_rows(named=True):
            lines.append(f"  {row['group']:<22} {_num(row['median_months'], 1)}")
        lines += _model_lines("  weighted Cox", w.hazard_ratio)
        if w.rmst is not None:
            lines += _rmst_lines(w.rmst, [w.rmst_difference] if w.rmst_difference else [],
                                 "  weighted restricted mean survival time (point estimates)")
        lines += [f"  note: {n}" for n in w.notes]
    lines += [f"note: {n}" for n in report.notes]
    return "\n".join(lines)


def _plain(value: Any) -> Any:
    """JSON-ready: frames as lists of rows, NaN as null, dataclasses as dicts."""
    if isinstance(value, pl.DataFrame):
        return [_plain(row) for row in value.to_dicts()]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if f.name not in ("design", "beta", "curves", "clones")}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def to_json(report: SurvivalReport, comparative: ComparativeReport, heading: list[str],
            arguments: dict) -> dict:
    options = {k: v for k, v in arguments.items() if k != "func"}
    return _plain({"analysis": heading, "options": options, "report": report,
                   "comparative": comparative})

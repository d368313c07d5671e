"""One cumulative-incidence view as a page shows it: curves with 95% CIs, numbers at risk,
12/24-month values and Gray's test, every count through `dashboards.disclosure`.

Used by local control (local failure per treated lesion, death competing), late toxicity
(first late event per course, death competing) and the cohort comparison. Estimation is
`pipelines.stats.cumulative_incidence` (Aalen–Johansen, ties exact) plus
`dashboards.competing_risk_stats` (variance, limits, Gray's test).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from dashboards import disclosure
from dashboards.competing_risk_stats import gray_test, with_confidence_limits
from dashboards.formatting import MISSING, percent_ci
from dashboards.survival_analysis import at_risk_months
from pipelines.stats import DAYS_PER_MONTH, cumulative_incidence

VALUE_MONTHS = (12, 24)
NO_EVENT_YET = "0% (no event yet)"  # a log(−log) interval does not exist at 0
GROUP = "group"


@dataclass(frozen=True)
class CifSummary:
    groups: list[str]  # groups with a curve, in display order
    curve: pl.DataFrame  # group, time_months, cumulative_incidence, ci_lower, ci_upper, ...
    at_risk: pl.DataFrame  # group, at_months, label
    table: pl.DataFrame  # one text row per group (also the groups without a curve)
    gray_p: float | None
    refused: dict[str, str]  # group -> why no curve (never a count)
    n_label: str  # analysed units, protected


def cif_values_at(curve: pl.DataFrame, months: Sequence[int]) -> pl.DataFrame:
    """The step values (with limits) at given months; null beyond a group's follow-up."""
    targets = pl.DataFrame({"at_months": [float(m) for m in months]})
    last = curve.group_by(GROUP).agg(last=pl.col("time_months").max())
    return (
        curve.select(GROUP).unique().join(targets, how="cross").sort("at_months")
        .join_asof(
            curve.sort("time_months").select(GROUP, "time_months", "cumulative_incidence",
                                             "ci_lower", "ci_upper"),
            left_on="at_months", right_on="time_months", by=GROUP, strategy="backward",
            check_sortedness=False,
        )
        .join(last, on=GROUP)
        .with_columns(
            pl.when(pl.col("at_months") <= pl.col("last")).then(pl.col(c)).alias(c)
            for c in ("cumulative_incidence", "ci_lower", "ci_upper")
        )
    )


def summarise_cif(
    rows: pl.DataFrame,
    *,
    group: str | None,
    unit: str,
    policy: disclosure.Policy,
    order: Sequence[str] | None = None,
    unit_title: str = "Lesions",
    event_title: str = "Events",
    competing_title: str = "Deaths first",
) -> CifSummary:
    """`rows`: one row per unit with `time_days`, `status` (0 censored, 1 event, 2 death
    first), the `unit` id, `patient_id` and, when grouped, the text column `group`."""
    data = rows.drop_nulls(["time_days", "status"]).with_columns(
        (pl.col(group).cast(pl.String).fill_null("Unknown") if group else pl.lit("All"))
        .alias(GROUP),
        _event=(pl.col("status") == 1).cast(pl.Int8),
        _competing=(pl.col("status") == 2).cast(pl.Int8),
    )
    gate = disclosure.gate_groups(data, GROUP, unit=unit, policy=policy, event="_event",
                                  order=order)
    groups = gate.allowed
    analysed = data.filter(pl.col(GROUP).is_in(groups))
    curve = with_confidence_limits(
        cumulative_incidence(analysed, time="time_days", status="status", group=GROUP)
    ) if groups else pl.DataFrame()
    max_months = (analysed["time_days"].max() or 0) / DAYS_PER_MONTH if groups else 0
    at_months = at_risk_months(max_months)
    at_risk = disclosure.protected_at_risk(
        analysed.with_columns(_months=pl.col("time_days") / DAYS_PER_MONTH),
        time="_months", at=at_months, by=[GROUP], unit=unit, policy=policy,
    ).rename({"at": "at_months", "n_label": "label"}) if groups else pl.DataFrame()
    table = _table(data, curve, gate, unit, policy, unit_title, event_title, competing_title)
    gray_p = None
    if len(groups) >= 2:
        test = gray_test(analysed, time="time_days", status="status", group=GROUP)
        gray_p = test.p_value if test else None
    total = disclosure.protected_total(analysed, unit=unit, policy=policy)
    return CifSummary(groups, curve, at_risk, table, gray_p, gate.refused, total.label)


def _table(data, curve, gate, unit, policy, unit_title, event_title, competing_title):
    order = gate.allowed + [g for g in gate.refused if g not in gate.allowed]
    units = disclosure.protected_counts(data, [GROUP], unit=unit, policy=policy)
    patients = disclosure.protected_counts(data, [GROUP], unit="patient_id", policy=policy,
                                           name="p")
    events = disclosure.protected_counts(data.filter(pl.col("_event") == 1), [GROUP],
                                         unit=unit, policy=policy, name="e")
    deaths = disclosure.protected_counts(data.filter(pl.col("_competing") == 1), [GROUP],
                                         unit=unit, policy=policy, name="d")
    values = cif_values_at(curve, VALUE_MONTHS) if not curve.is_empty() else None
    frame = (
        pl.DataFrame({GROUP: order}, schema={GROUP: pl.String})
        .join(units.select(GROUP, "n_label"), on=GROUP, how="left")
        .join(patients.select(GROUP, "p_label"), on=GROUP, how="left")
        .join(events.select(GROUP, "e_label"), on=GROUP, how="left")
        .join(deaths.select(GROUP, "d_label"), on=GROUP, how="left")
        .with_columns(pl.col("n_label", "p_label", "e_label", "d_label").fill_null("0"))
    )
    columns = {}
    for months in VALUE_MONTHS:
        texts = {}
        if values is not None:
            at = values.filter(pl.col("at_months") == float(months))
            texts = {
                row[GROUP]: NO_EVENT_YET if row["cumulative_incidence"] == 0 else percent_ci(
                    row["cumulative_incidence"], row["ci_lower"], row["ci_upper"])
                for row in at.iter_rows(named=True)  # one row per group
            }
        columns[f"{months} months, % (95% CI)"] = [
            texts.get(g, "not shown" if g in gate.refused else MISSING) for g in order
        ]
    return frame.rename({
        GROUP: "Group", "n_label": unit_title, "p_label": "Patients", "e_label": event_title,
        "d_label": competing_title,
    }).with_columns(pl.Series(name, texts) for name, texts in columns.items())

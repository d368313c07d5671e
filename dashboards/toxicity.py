"""Toxicity of radiotherapy courses (ESTRO-ASTRO OMD consensus: report the maximum CTCAE
grade per course, acute and late, and grade ≥ 3 rates by attribution; docs/clinical-rules.md
section 6, `pipelines/clinical/toxicity.py` for the worst-grade rule).

- Worst grade per course from `marts.toxicity_summary` (acute: onset 0–90 days after the
  first fraction, parameter `acute_toxicity_days`; late: after).
- Grade ≥ 3 rates by attribution from the adverse events of `staging.toxicities` attached
  to the course under the same rule (onset on or after the first fraction, up to the
  cut-off), one rate per attribution; "any attribution" equals the mart's `has_grade3plus`.
- By organ treated: a course treating several organs counts once under each.
- Late toxicity as a cumulative incidence: time from the first fraction to the first late
  event of at least the chosen grade, death competing, censored at the last contact (or
  the cut-off); Aalen–Johansen, as for local failure.
- Rates carry Wilson score 95% intervals (Wilson 1927; Brown, Cai & DasGupta, Stat Sci
  2001;16:101–133), which behave at rates near 0 where the Wald interval does not.
"""

from __future__ import annotations

import datetime as dt
import math

import polars as pl

from dashboards import disclosure
from dashboards.formatting import MISSING, percent_ci
from dashboards.labels import label_column
from pipelines.clinical.parameters import DEFAULT_PARAMETERS
from pipelines.clinical.toxicity import RT_ATTRIBUTIONS

Z95 = 1.959963984540054
GRADES = (0, 1, 2, 3, 4, 5)
ANY = "Any attribution"
RT = "Radiotherapy (or both)"


def wilson_interval(events: int, n: int, z: float = Z95) -> tuple[float, float]:
    if n <= 0:
        return math.nan, math.nan
    p = events / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def course_starts(radiotherapy: pl.LazyFrame) -> pl.LazyFrame:
    return radiotherapy.group_by("patient_id", "course_id").agg(
        course_start=pl.col("start_date").min()
    )


def course_organs(local_treatments: pl.LazyFrame) -> pl.LazyFrame:
    """course_id, organ (words) of every radiotherapy course; 'Primary tumour' and
    'Regional nodes' for those targets."""
    return (
        local_treatments.filter(pl.col("modality") == "radiotherapy")
        .select(
            course_id="treatment_id",
            organ=pl.when(pl.col("target_kind") == "primary").then(pl.lit("Primary tumour"))
            .when(pl.col("target_kind") == "regional_nodes").then(pl.lit("Regional nodes"))
            .otherwise(label_column(pl.col("organ"), "organ")),
        )
        .unique()
    )


def course_events(toxicities: pl.LazyFrame, starts: pl.LazyFrame, cutoff: dt.date,
                  acute_days: int = DEFAULT_PARAMETERS.acute_toxicity_days) -> pl.LazyFrame:
    """Adverse events attached to a course (the mart's rule): course_id, day, window,
    grade, attribution (words)."""
    return (
        toxicities.filter(pl.col("course_id").is_not_null()
                          & (pl.col("onset_date") <= pl.lit(cutoff, dtype=pl.Date)))
        .join(starts, on=["patient_id", "course_id"])
        .with_columns(day=(pl.col("onset_date") - pl.col("course_start")).dt.total_days())
        .filter(pl.col("day") >= 0)
        .select(
            "patient_id", "course_id", "day", "grade", "onset_date",
            window=pl.when(pl.col("day") <= acute_days).then(pl.lit("Acute"))
            .otherwise(pl.lit("Late")),
            attribution_code="attribution",
            attribution=label_column(pl.col("attribution"), "attribution"),
        )
    )


def grade_table(summary: pl.DataFrame, policy: disclosure.Policy, *, rt_only: bool) -> pl.DataFrame:
    """Courses by worst grade, acute and late: Grade, Acute n (%), Late n (%)."""
    acute, late = ("max_grade_acute_rt", "max_grade_late_rt") if rt_only else (
        "max_grade_acute", "max_grade_late")
    long = summary.select("course_id", Acute=acute, Late=late).unpivot(
        index="course_id", variable_name="window", value_name="grade"
    )
    counts = disclosure.protected_counts(long, ["window", "grade"], unit="course_id",
                                         policy=policy)
    total = disclosure.protected_total(summary, unit="course_id", policy=policy)
    grid = pl.DataFrame({"grade": list(GRADES)}).join(
        pl.DataFrame({"window": ["Acute", "Late"]}), how="cross"
    ).cast({"grade": pl.Int64})
    cells = grid.join(counts.cast({"grade": pl.Int64}), on=["window", "grade"], how="left").with_columns(
        cell=pl.when(pl.col("n_label").is_null()).then(pl.lit("0"))
        .when(pl.col("n").is_null() | pl.lit(total.value is None or total.value == 0))
        .then(pl.col("n_label"))
        .otherwise(pl.format("{} ({}%)", pl.col("n_label"),
                             (100 * pl.col("n") / (total.value or 1)).round(0).cast(pl.Int64)))
    )
    wide = cells.pivot(on="window", index="grade", values="cell").sort("grade")
    return wide.select(
        Grade=pl.when(pl.col("grade") == 0).then(pl.lit("0 (none recorded)"))
        .otherwise(pl.col("grade").cast(pl.String)),
        **{"Acute, courses (%)": "Acute", "Late, courses (%)": "Late"},
    )


def rate_rows(flags: pl.DataFrame, policy: disclosure.Policy, *, by: str,
              title: str) -> pl.DataFrame:
    """`flags`: course_id, patient_id, `by` (text), event (bool) — one row per course and
    level. Rate of courses with the event per level, with the Wilson 95% CI."""
    totals = disclosure.protected_counts(flags, [by], unit="course_id", policy=policy)
    events = disclosure.protected_counts(flags.filter(pl.col("event")), [by],
                                         unit="course_id", policy=policy, name="e")
    gate = disclosure.gate_groups(flags, by, unit="course_id", policy=policy)
    joined = totals.join(events, on=by, how="left").with_columns(
        pl.col("e_label").fill_null("0"), pl.col("e").fill_null(
            pl.when(pl.col("e_small")).then(None).otherwise(0))
    )
    texts = []
    for row in joined.iter_rows(named=True):  # one row per level (a handful)
        if row[by] not in gate.allowed or row["n"] is None or row["e"] is None:
            texts.append("not shown (too few)" if row[by] in gate.refused or row["e"] is None
                         else MISSING)
            continue
        low, high = wilson_interval(row["e"], row["n"])
        texts.append(percent_ci(row["e"] / row["n"] if row["n"] else None, low, high))
    first = {ANY: 0, RT: 1}
    joined = joined.with_columns(pl.Series("text", texts, dtype=pl.String)).sort(
        pl.col(by).replace_strict(first, default=2, return_dtype=pl.Int64), pl.col(by))
    return joined.select(
        pl.col(by).alias(title), Courses="n_label",
        **{"Grade ≥ 3": "e_label", "Rate, % (95% CI)": "text"},
    )


def attribution_flags(summary: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """One row per course and attribution level (any, each attribution) with `event` =
    a grade ≥ 3 event of that attribution."""
    courses = summary.select("course_id", "patient_id")
    any_level = summary.select("course_id", "patient_id", attribution=pl.lit(ANY),
                               event=pl.col("has_grade3plus"))
    rt = courses.join(
        events.filter(pl.col("attribution_code").is_in(RT_ATTRIBUTIONS) & (pl.col("grade") >= 3))
        .select("course_id").unique().with_columns(event=pl.lit(True)),
        on="course_id", how="left",
    ).select("course_id", "patient_id", attribution=pl.lit(RT),
             event=pl.col("event").fill_null(False))
    levels = events.select("attribution").unique().drop_nulls()
    per_level = (
        courses.join(levels, how="cross")
        .join(
            events.filter(pl.col("grade") >= 3).select("course_id", "attribution").unique()
            .with_columns(event=pl.lit(True)),
            on=["course_id", "attribution"], how="left",
        )
        .with_columns(pl.col("event").fill_null(False))
    )
    return pl.concat([any_level, rt, per_level.select(any_level.columns)])


def late_cif_rows(summary: pl.DataFrame, starts: pl.DataFrame, events: pl.DataFrame,
                  patients: pl.DataFrame, cutoff: dt.date, *, min_grade: int,
                  rt_only: bool) -> pl.DataFrame:
    """One row per course: time_days from the first fraction to the first late event of
    grade ≥ `min_grade` (status 1), death first (2) or censoring at the last contact or
    the cut-off (0)."""
    late = events.filter((pl.col("window") == "Late") & (pl.col("grade") >= min_grade))
    if rt_only:
        late = late.filter(pl.col("attribution_code").is_in(RT_ATTRIBUTIONS))
    first = late.group_by("course_id").agg(event_day=pl.col("day").min())
    cut = pl.lit(cutoff, dtype=pl.Date)
    return (
        summary.select("course_id", "patient_id")
        .join(starts.select("course_id", "course_start"), on="course_id")
        .join(first, on="course_id", how="left")
        .join(patients.select("patient_id", "death_date", "last_contact_date"),
              on="patient_id", how="left")
        .with_columns(
            death_day=(pl.col("death_date") - pl.col("course_start")).dt.total_days(),
            end_day=(pl.min_horizontal(pl.col("last_contact_date").fill_null(cut), cut)
                     - pl.col("course_start")).dt.total_days(),
        )
        .with_columns(
            status=pl.when(pl.col("event_day").is_not_null()
                           & ((pl.col("death_day").is_null())
                              | (pl.col("event_day") <= pl.col("death_day"))))
            .then(pl.lit(1))
            .when(pl.col("death_day").is_not_null() & (pl.col("death_day") <= pl.col("end_day")))
            .then(pl.lit(2))
            .otherwise(pl.lit(0)),
        )
        .with_columns(
            time_days=pl.when(pl.col("status") == 1).then(pl.col("event_day"))
            .when(pl.col("status") == 2).then(pl.col("death_day"))
            .otherwise(pl.col("end_day")).cast(pl.Float64)
        )
        .filter(pl.col("time_days") >= 0)
        .select("course_id", "patient_id", "time_days", "status")
    )

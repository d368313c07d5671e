"""Disease assessments: the dates on which the metastatic state is judged, their counted
lesions and their state (oligo, poly, not_omd_diffuse).

Sources: ESTRO/EORTC 2020 (Guckenberger et al., Lancet Oncol 2020;21:e18-e28) for the
counting of lesions and organs; CURB (Tsai et al., Lancet 2024;403:171-182) for counting
only the progressing lesions under systemic therapy (oligoprogression);
docs/clinical-rules.md sections 2-3, which fix the conventions:
- *detection* / *progression*: new lesions and `lesion_progression` events no more than
  `grouping_days` after the first event of a group form one assessment dated at the first;
- *treatment decision*: the first start of radical local therapy of a lesion, with no
  detection or progression in the preceding `grouping_days` (day 42 inside), when the
  lesion's latest assessment was polymetastatic, or when an antineoplastic exposure overlaps
  the days since that assessment and it is more than `lct_window_days` earlier; a decision
  becomes the latest assessment of the lesions it counts (staggered SBRT joins it);
- counted lesions: the progressing ones (new and growing) when progressing under active
  systemic therapy (`progressing` basis), else every active lesion (`all_active`);
- state: any diffuse lesion in the burden -> not_omd_diffuse; 1..max_lesions counted lesions
  in at most max_organs organs -> oligo; more -> poly.
"""

from __future__ import annotations

import duckdb
import polars as pl

from pipelines.clinical.frames import materialise
from pipelines.clinical.lesions import lesion_status
from pipelines.clinical.organs import n_organs
from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters
from pipelines.clinical.systemic import drug_periods, with_systemic_therapy

# Greedy grouping is resolved by pointer doubling: after k rounds every chain of up to 2**k
# consecutive groups (events never more than `grouping_days` apart) is exact. 2**12 groups
# is more than 480 years of monthly events.
GROUP_CHAIN_DOUBLINGS = 12
_DAY_OFFSET = 1 << 21  # keeps day numbers (from 1970, +/- 5,700 years) positive
_PATIENT_STRIDE = 1 << 23

ASSESSMENT_COLUMNS = ("patient_id", "assessment_id", "assessment_date", "assessment_kind",
                      "assessment_state", "n_lesions", "n_organs", "n_stable_lesions",
                      "progression_count_basis", "on_systemic_therapy", "has_progression")
POLY_STATES = ("poly", "not_omd_diffuse")


def _sha256_16(values: pl.Series) -> pl.Series:
    # Polars' own hash is not stable across versions; ids must survive upgrades and batches.
    # SHA-256 by DuckDB: vectorised, the same digest as hashlib's (tests/clinical).
    with duckdb.connect() as con:
        con.register("key", values.to_frame("v").to_arrow())
        digest = con.sql("SELECT left(sha256(v), 16) AS h FROM key").to_arrow_table()
    return pl.from_arrow(digest)["h"].cast(pl.String)


def stable_id(prefix: str, patient: str, date: str) -> pl.Expr:
    """`<prefix>_<16 hex of SHA-256(patient_id|YYYY-MM-DD)>`: the same patient and date give
    the same id in every batch and every run."""
    key = pl.concat_str(pl.col(patient), pl.col(date).dt.strftime("%Y-%m-%d"), separator="|")
    return pl.lit(prefix + "_") + key.map_batches(_sha256_16, return_dtype=pl.String)


def group_dates(
    dates: pl.LazyFrame, window_days: int, date: str = "event_date"
) -> pl.LazyFrame:
    """Greedy grouping of each patient's dates: a group starts at its first date and takes
    every date no more than `window_days` after it; the next date starts the next group.
    Returns patient_id, `date`, group_date (the first date of its group), in no particular
    order.

    A run of dates each no more than `window_days` after the previous one is grouped on its
    own (a date more than `window_days` after the previous one always starts a group), and
    every date of a run within `window_days` of the run's first date is in its first group:
    only the runs longer than that (few) need the chain of groups worked out."""
    nodes = dates.select("patient_id", date).unique().sort("patient_id", date)
    day = pl.col(date).cast(pl.Int64)
    new_patient = (pl.col("patient_id") != pl.col("patient_id").shift()).fill_null(True)
    starts_run = (new_patient | ((day - day.shift()) > window_days)).fill_null(True)
    nodes, = materialise(nodes.with_columns(starts_run.cum_sum().alias("_run")).with_columns(
        pl.col(date).first().over("_run").alias("_run_first")))
    long_runs = nodes.filter(
        (day - pl.col("_run_first").cast(pl.Int64)) > window_days).select("_run").unique()
    short = nodes.join(long_runs, on="_run", how="anti").select(
        "patient_id", date, pl.col("_run_first").alias("group_date"))
    chained = _chained_groups(
        nodes.join(long_runs, on="_run", how="semi").select("patient_id", date)
        .sort("patient_id", date), window_days, date)
    return pl.concat([short, chained], how="vertical")


def _chained_groups(nodes: pl.LazyFrame, window_days: int, date: str) -> pl.LazyFrame:
    """`group_dates` of distinct (patient_id, `date`) rows sorted by both."""
    day = pl.col(date).cast(pl.Int64)
    patient_rank = (pl.col("patient_id") != pl.col("patient_id").shift()).fill_null(True)
    nodes = nodes.with_row_index("_i").with_columns(
        patient_rank.cast(pl.Int64).cum_sum().alias("_rank"),
        (day - day.shift()).over("patient_id").alias("_gap"),
    ).with_columns(
        (pl.col("_rank") * _PATIENT_STRIDE + day + _DAY_OFFSET).alias("_key"),
    )
    n_rows = pl.len().cast(pl.Int64)
    # Position of the first date more than window_days later (same patient), else null.
    target = pl.col("_key").search_sorted(pl.col("_key") + window_days + 1, side="left")
    target = target.cast(pl.Int64)
    same_patient = pl.col("_rank").gather(target.clip(upper_bound=n_rows - 1)) == pl.col("_rank")
    nodes = nodes.with_columns(
        pl.when((target < n_rows) & same_patient).then(target).alias("_next"),
        # A date more than window_days after the previous one always starts a group.
        (pl.col("_gap").is_null() | (pl.col("_gap") > window_days)).alias("_is_start"),
    )
    for _ in range(GROUP_CHAIN_DOUBLINGS):
        nodes = nodes.with_columns(
            pl.col("_is_start")
            | pl.col("_i").cast(pl.Int64).is_in(
                pl.col("_next").filter(pl.col("_is_start")).implode()
            )
        ).with_columns(pl.col("_next").gather(pl.col("_next")))
    return nodes.select(
        "patient_id",
        date,
        pl.when(pl.col("_is_start")).then(pl.col(date)).forward_fill().alias("group_date"),
    )


def imputed_date_bounds(date: str, imputed: str) -> tuple[pl.Expr, pl.Expr]:
    """Earliest and latest true date behind an imputed one: the 15th stands for its month,
    1 July for its year (contract imputation); a recorded date is its own bounds."""
    d = pl.col(date)
    is_imp = pl.col(imputed).fill_null(False)
    year_only = is_imp & (d.dt.month() == 7) & (d.dt.day() == 1)
    month_only = is_imp & (d.dt.day() == 15)
    low = (
        pl.when(year_only).then(d.dt.truncate("1y"))
        .when(month_only).then(d.dt.month_start())
        .otherwise(d)
    )
    high = (
        pl.when(year_only).then(d.dt.truncate("1y").dt.offset_by("1y").dt.offset_by("-1d"))
        .when(month_only).then(d.dt.month_end())
        .otherwise(d)
    )
    return low, high


def assessment_events(lesions: pl.LazyFrame, progressions: pl.LazyFrame) -> pl.LazyFrame:
    """Detections and progressions: patient_id, event_date, is_detection, is_progression,
    event_date_low, event_date_high (bounds of an imputed detection date)."""
    low, high = imputed_date_bounds("detected_date", "detected_date_imputed")
    detections = lesions.select(
        "patient_id",
        pl.col("detected_date").alias("event_date"),
        pl.lit(True).alias("is_detection"),
        pl.lit(False).alias("is_progression"),
        low.alias("event_date_low"),
        high.alias("event_date_high"),
    )
    growths = progressions.select(
        "patient_id",
        pl.col("progression_date").alias("event_date"),
        pl.lit(False).alias("is_detection"),
        pl.lit(True).alias("is_progression"),
        pl.col("progression_date").alias("event_date_low"),
        pl.col("progression_date").alias("event_date_high"),
    )
    return pl.concat([detections, growths], how="vertical")


def event_assessments(events: pl.LazyFrame, params: ClinicalParameters) -> pl.LazyFrame:
    """One row per detection/progression assessment: patient_id, assessment_date,
    group_end_date, assessment_kind, assessment_date_low/high (imputation bounds)."""
    groups = group_dates(events, params.grouping_days)
    kind = (
        pl.when(pl.col("_det") & pl.col("_prog")).then(pl.lit("detection_progression"))
        .when(pl.col("_det")).then(pl.lit("detection"))
        .otherwise(pl.lit("progression"))
    )
    return (
        events.join(groups, on=["patient_id", "event_date"], how="inner")
        .group_by("patient_id", pl.col("group_date").alias("assessment_date"))
        .agg(
            pl.col("event_date").max().alias("group_end_date"),
            pl.col("is_detection").any().alias("_det"),
            pl.col("is_progression").any().alias("_prog"),
            pl.col("event_date_low").min().alias("assessment_date_low"),
            pl.col("event_date_high").min().alias("assessment_date_high"),
        )
        .with_columns(kind.alias("assessment_kind"))
        .drop("_det", "_prog")
    )


def assessment_burden(
    assessments: pl.LazyFrame,
    lesions: pl.LazyFrame,
    progressions: pl.LazyFrame,
    therapies: pl.LazyFrame,
) -> pl.LazyFrame:
    """Every (assessment, lesion) pair of the assessment's burden, with the lesion's status."""
    pairs = assessments.select("patient_id", "assessment_date", "group_end_date").join(
        lesions, on="patient_id", how="inner"
    ).filter(pl.col("detected_date") <= pl.col("group_end_date"))
    return lesion_status(pairs, progressions, therapies).filter(pl.col("in_burden"))


def _state(n_lesions: pl.Expr, n_organs_: pl.Expr, params: ClinicalParameters) -> pl.Expr:
    within_organs = pl.lit(True) if params.max_organs is None else n_organs_ <= params.max_organs
    return (
        pl.when(pl.col("has_diffuse")).then(pl.lit("not_omd_diffuse"))
        .when((n_lesions >= 1) & (n_lesions <= params.max_lesions) & within_organs)
        .then(pl.lit("oligo"))
        .otherwise(pl.lit("poly"))
    )


def _basis(on_therapy: pl.Expr) -> pl.Expr:
    return (
        pl.when(on_therapy & pl.col("has_progression"))
        .then(pl.lit("progressing"))
        .otherwise(pl.lit("all_active"))
    )


def assessment_states(
    assessments: pl.LazyFrame,
    burden: pl.LazyFrame,
    systemic_therapies: pl.LazyFrame,
    params: ClinicalParameters,
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """State of each assessment and the counted flag of each burden lesion.

    Progressing under active systemic therapy -> only progressing lesions count (CURB-style
    oligoprogression); otherwise every active lesion counts.

    An unrecognised drug row (drugs.is_unrecognised_drug) *decides* the on-therapy input when
    counting it as antineoplastic changes `on_systemic_therapy`: `unknown_drug_decides`. Such
    an assessment is judged on the reading that makes it oligometastatic, if either does, so
    that its episode is kept (as `unclassifiable_unknown_drug`) rather than lost."""
    # The burden is read twice below (counts and is_counted): Polars would derive it twice.
    burden, = materialise(burden)
    assessments = with_systemic_therapy(assessments, systemic_therapies, params)
    assessments = with_systemic_therapy(assessments, systemic_therapies, params,
                                        alias="_on_if_unrecognised", include_unrecognised=True)
    key = ["patient_id", "assessment_date"]
    prog = pl.col("is_progressing")
    counts = burden.group_by(key).agg(
        prog.any().alias("has_progression"),
        pl.col("is_diffuse").any().alias("has_diffuse"),
        pl.len().cast(pl.Int64).alias("_n_all"),
        n_organs(pl.lit(True)).cast(pl.Int64).alias("_organs_all"),
        prog.sum().cast(pl.Int64).alias("_n_prog"),
        n_organs(prog).cast(pl.Int64).alias("_organs_prog"),
        (~prog).sum().cast(pl.Int64).alias("n_stable_lesions"),
    )

    def counted(basis: pl.Expr, all_: str, progressing: str) -> pl.Expr:
        return pl.when(basis == "progressing").then(pl.col(progressing)).otherwise(pl.col(all_))

    known, alt = _basis(pl.col("on_systemic_therapy")), _basis(pl.col("_on_if_unrecognised"))
    state_known = _state(counted(known, "_n_all", "_n_prog"),
                         counted(known, "_organs_all", "_organs_prog"), params)
    state_alt = _state(counted(alt, "_n_all", "_n_prog"),
                       counted(alt, "_organs_all", "_organs_prog"), params)
    decides = pl.col("on_systemic_therapy") != pl.col("_on_if_unrecognised")
    use_alt = decides & (state_known != "oligo") & (state_alt == "oligo")
    basis = pl.col("progression_count_basis")
    assessments = assessments.join(counts, on=key, how="left").with_columns(
        *(pl.col(c).fill_null(0) for c in ("_n_all", "_organs_all", "_n_prog", "_organs_prog",
                                           "n_stable_lesions")),
        pl.col("has_progression").fill_null(False),
        pl.col("has_diffuse").fill_null(False),
    ).with_columns(
        pl.when(use_alt).then(alt).otherwise(known).alias("progression_count_basis"),
        pl.when(use_alt).then(state_alt).otherwise(state_known).alias("assessment_state"),
        decides.alias("unknown_drug_decides"),
    ).with_columns(
        counted(basis, "_n_all", "_n_prog").alias("n_lesions"),
        counted(basis, "_organs_all", "_organs_prog").alias("n_organs"),
    ).drop("_n_all", "_organs_all", "_n_prog", "_organs_prog", "_on_if_unrecognised")
    burden = burden.join(
        assessments.select(*key, "progression_count_basis"), on=key, how="inner"
    ).with_columns(
        pl.when(pl.col("progression_count_basis") == "progressing")
        .then(pl.col("is_progressing"))
        .otherwise(True)
        .alias("is_counted")
    )
    return assessments, burden


def _decision_candidates(
    events: pl.LazyFrame, therapies: pl.LazyFrame, params: ClinicalParameters
) -> pl.LazyFrame:
    """First radical start of each lesion with no detection or progression in the preceding
    `grouping_days` (day 42 itself is inside): patient_id, lesion_id, therapy_start_date."""
    first_starts = therapies.group_by("patient_id", "lesion_id").agg(
        pl.col("therapy_start_date").min()
    )
    event_days = events.select("patient_id", pl.col("event_date").alias("_last_event")).unique()
    return (
        first_starts.sort("therapy_start_date")
        .join_asof(event_days.sort("_last_event"), left_on="therapy_start_date",
                   right_on="_last_event", by="patient_id", strategy="backward",
                   check_sortedness=False)
        .filter(
            pl.col("_last_event").is_null()
            | (pl.col("_last_event")
               < pl.col("therapy_start_date").dt.offset_by(f"-{params.grouping_days}d"))
        )
        .drop("_last_event")
    )


def _latest_of_lesions(burden: pl.LazyFrame, states: pl.LazyFrame,
                       lesion_filter: pl.Expr) -> pl.LazyFrame:
    """(patient_id, lesion_id, _latest_assessment, _latest_state) for the burden lesions
    selected by `lesion_filter`."""
    return burden.filter(lesion_filter).select(
        "patient_id", "lesion_id", pl.col("assessment_date").alias("_latest_assessment")
    ).join(
        states.select(
            "patient_id",
            pl.col("assessment_date").alias("_latest_assessment"),
            pl.col("assessment_state").alias("_latest_state"),
        ),
        on=["patient_id", "_latest_assessment"],
        how="inner",
    )


def _passing_decisions(
    candidates: pl.LazyFrame,
    latest: pl.LazyFrame,
    systemic_therapies: pl.LazyFrame,
    params: ClinicalParameters,
) -> pl.LazyFrame:
    """Candidate starts meeting (i) or (ii) against each lesion's latest assessment before
    the start: patient_id, assessment_date."""
    with_latest = candidates.sort("therapy_start_date").join_asof(
        latest.sort("_latest_assessment"), left_on="therapy_start_date",
        right_on="_latest_assessment", by=["patient_id", "lesion_id"], strategy="backward",
        allow_exact_matches=False, check_sortedness=False,
    ).filter(pl.col("_latest_assessment").is_not_null())
    with_latest = with_systemic_therapy(
        with_latest, systemic_therapies, params, at="therapy_start_date",
        since="_latest_assessment", alias="_systemic_since",
    )
    long_ago = pl.col("_latest_assessment") < pl.col("therapy_start_date").dt.offset_by(
        f"-{params.lct_window_days}d"
    )
    return with_latest.filter(
        pl.col("_latest_state").is_in(POLY_STATES) | (pl.col("_systemic_since") & long_ago)
    ).select("patient_id", pl.col("therapy_start_date").alias("assessment_date"))


def _as_decisions(dates: pl.LazyFrame) -> pl.LazyFrame:
    return dates.with_columns(
        pl.col("assessment_date").alias("group_end_date"),
        pl.lit("treatment_decision").alias("assessment_kind"),
        pl.col("assessment_date").alias("assessment_date_low"),
        pl.col("assessment_date").alias("assessment_date_high"),
    )


def treatment_decisions(
    events: pl.LazyFrame,
    event_burden: pl.LazyFrame,
    event_states: pl.LazyFrame,
    lesions: pl.LazyFrame,
    progressions: pl.LazyFrame,
    therapies: pl.LazyFrame,
    systemic_therapies: pl.LazyFrame,
    params: ClinicalParameters,
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Treatment-decision assessments with their state (`assessment_states`), and their
    burden lesions (with is_counted).

    A lesion's latest assessment is its latest detection/progression assessment in whose
    burden it was, or a later treatment decision that counted it (docs/clinical-rules.md
    section 3): a decision becomes the latest assessment of its lesions, so radical therapy
    of the remaining lesions on the following days (staggered SBRT) creates nothing new.
    Decisions depend on earlier ones, so they are settled in rounds, each accepting every
    patient's earliest passing start after its last accepted decision; a round is
    set-based over all patients, and there are as many rounds as decisions per patient."""
    candidates, event_latest = materialise(
        _decision_candidates(events, therapies, params),
        _latest_of_lesions(event_burden, event_states, pl.lit(True)),
    )
    accepted: list[tuple[pl.LazyFrame, pl.LazyFrame]] = []  # (states, burden) per round
    decision_latest: list[pl.LazyFrame] = []
    last = pl.LazyFrame(schema={"patient_id": pl.String, "_last_decision": pl.Date})
    while True:
        latest = pl.concat([event_latest, *decision_latest], how="vertical")
        passing = _passing_decisions(candidates, latest, systemic_therapies, params).join(
            last, on="patient_id", how="left"
        ).filter(
            pl.col("_last_decision").is_null()
            | (pl.col("assessment_date") > pl.col("_last_decision"))
        )
        new = passing.group_by("patient_id").agg(pl.col("assessment_date").min()).collect()
        if new.height == 0:
            break
        decisions = _as_decisions(new.lazy())
        burden = assessment_burden(decisions, lesions, progressions, therapies)
        states, burden = assessment_states(decisions, burden, systemic_therapies, params)
        burden, states = materialise(burden, states)
        decision_latest.append(_latest_of_lesions(burden, states, pl.col("is_counted")))
        accepted.append((states, burden))
        last = pl.concat([last.collect(), new.rename({"assessment_date": "_last_decision"})]
                         ).lazy().group_by("patient_id").agg(pl.col("_last_decision").max())
        last, = materialise(last)
    if not accepted:  # the empty result of the same derivation, for its columns
        decisions = _as_decisions(pl.LazyFrame(schema={"patient_id": pl.String,
                                                       "assessment_date": pl.Date}))
        burden = assessment_burden(decisions, lesions, progressions, therapies)
        return assessment_states(decisions, burden, systemic_therapies, params)
    return (pl.concat([states for states, _ in accepted], how="vertical"),
            pl.concat([burden for _, burden in accepted], how="vertical"))


def with_history(assessments: pl.LazyFrame) -> pl.LazyFrame:
    """Add has_prior_poly (an earlier poly or diffuse assessment) and has_prior_omd (an
    earlier oligo assessment), per patient in date order."""
    def earlier(flag: pl.Expr) -> pl.Expr:
        return flag.cast(pl.Int8).cum_max().shift(1).over(
            "patient_id", order_by="assessment_date"
        ).fill_null(0) == 1

    return assessments.with_columns(
        earlier(pl.col("assessment_state").is_in(POLY_STATES)).alias("has_prior_poly"),
        earlier(pl.col("assessment_state") == "oligo").alias("has_prior_omd"),
    )


def derive_assessments(
    lesions: pl.LazyFrame,
    progressions: pl.LazyFrame,
    therapies: pl.LazyFrame,
    systemic_therapies: pl.LazyFrame,
    params: ClinicalParameters = DEFAULT_PARAMETERS,
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """All assessments (with state and history) and their burden lesions (with is_counted).

    Intermediate tables are materialised at a few checkpoints: as one lazy query the
    derivation is a DAG that Polars plans as a tree, which grows exponentially."""
    # The drug rows are tested for every assessment and decision round: classify them once.
    systemic_therapies, = materialise(drug_periods(systemic_therapies))
    events = assessment_events(lesions, progressions)
    by_events, = materialise(event_assessments(events, params))
    event_burden = assessment_burden(by_events, lesions, progressions, therapies)
    event_states, event_burden = assessment_states(by_events, event_burden, systemic_therapies,
                                                   params)
    event_states, event_burden = materialise(event_states, event_burden)
    decision_states, decision_burden = treatment_decisions(
        events, event_burden, event_states, lesions, progressions, therapies,
        systemic_therapies, params)
    # A burden and a state depend on their own assessment only, and a decision never falls
    # on the date of a detection/progression assessment (no event on its day), so the
    # assessments' states are those of the two sets, as computed.
    states = pl.concat([event_states, decision_states], how="diagonal")
    burden = pl.concat([event_burden, decision_burden], how="diagonal")
    # A treatment decision on a lesion no longer active (e.g. resolved) has nothing to judge.
    states = states.filter(pl.col("n_lesions") >= 1)
    states = with_history(states).with_columns(
        stable_id("as", "patient_id", "assessment_date").alias("assessment_id")
    )
    return materialise(states, burden)

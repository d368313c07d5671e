"""Episode and lesion outcomes: OS, PFS, widespread progression, next therapy, local control.

Sources: docs/clinical-rules.md section 6; ESTRO-ASTRO 2020 (Lievens et al.,
Radiother Oncol 2020;148:157-166: minimum endpoints PFS, OS, local control, toxicity);
iRECIST (Seymour L et al., Lancet Oncol 2017;18:e143-e152: an unconfirmed progression, iUPD
not followed by iCPD, is not a progression); competing risks for local control (Aalen-
Johansen cumulative incidence: death without local failure competes).

Every time is in whole days from the origin, never negative. Administrative censoring at the
batch's `data_cutoff_date`: no death, exam, event, lesion or therapy dated after it is used.
The rules in plain words are in `docs/outcomes.md`.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from pipelines.clinical.cohort import first_episode_flags
from pipelines.clinical.followup import days_between, vital_status_at_cutoff
from pipelines.clinical.frames import materialise
from pipelines.clinical.lines import line_at
from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters
from pipelines.clinical.population import REGIONAL_NODE
from pipelines.contract.tables import ORGANS

EPISODE_OUTCOME_COLUMNS = (
    "episode_id", "patient_id", "origin", "origin_date", "is_first_episode", "os_days",
    "os_event", "pfs_days", "pfs_event", "wsp_days", "wsp_event", "ttnt_days", "ttnt_status",
)
LESION_OUTCOME_COLUMNS = (
    "patient_id", "lesion_id", "organ", "therapy_start_date", "bed10_gy",
    "is_lung_bed10_adequate", "lf_days", "lf_status",
)
WIDESPREAD_STATES = ("poly", "not_omd_diffuse")
PROGRESSION_EVENT_TYPES = ("lesion_progression", "regional_progression", "primary_progression")

# Exams that image a lesion's organ, for censoring local control: brain lesions need a brain
# MRI or CT (a body CT or FDG-PET/CT does not image the brain adequately); bone lesions are
# also seen on a bone scan; every other organ on any CT, FDG-PET/CT or MRI.
BRAIN_EXAMS = ("brain_mri", "brain_ct")
BODY_EXAMS = ("ct", "fdg_pet_ct", "mri")
ORGAN_EXAM_MODALITIES: dict[str, tuple[str, ...]] = {
    organ: BRAIN_EXAMS if organ == "brain"
    else (*BODY_EXAMS, "bone_scan") if organ == "bone"
    else BODY_EXAMS
    for organ in ORGANS
}

_CENSORED, _EVENT, _COMPETING = 0, 1, 2


def _cutoff(data_cutoff_date: dt.date) -> pl.Expr:
    return pl.lit(data_cutoff_date, dtype=pl.Date)


def _origins(
    omd_episodes: pl.LazyFrame, episode_lct: pl.LazyFrame, data_cutoff_date: dt.date
) -> pl.LazyFrame:
    """One row per episode and origin: `episode` always; `lct` where LCT started by the
    cut-off."""
    episodes = omd_episodes.select("episode_id", "patient_id", "episode_date").join(
        first_episode_flags(omd_episodes), on="episode_id", how="left"
    )
    by_episode = episodes.with_columns(
        pl.lit("episode").alias("origin"), pl.col("episode_date").alias("origin_date")
    )
    by_lct = (
        episodes.join(episode_lct.select("episode_id", "lct_start_date"), on="episode_id")
        .filter(pl.col("lct_start_date") <= _cutoff(data_cutoff_date))
        .with_columns(pl.lit("lct").alias("origin"), pl.col("lct_start_date").alias("origin_date"))
        .drop("lct_start_date")
    )
    return pl.concat([by_episode, by_lct], how="vertical")


def _last_imaging(imaging: pl.LazyFrame, data_cutoff_date: dt.date) -> pl.LazyFrame:
    return (
        imaging.filter(pl.col("exam_date") <= _cutoff(data_cutoff_date))
        .group_by("patient_id")
        .agg(pl.col("exam_date").max().alias("last_imaging_date"))
    )


def _first_progression(
    origins: pl.LazyFrame,
    staging: dict[str, pl.LazyFrame],
    episode_lesions: pl.LazyFrame,
    data_cutoff_date: dt.date,
    params: ClinicalParameters = DEFAULT_PARAMETERS,
) -> pl.LazyFrame:
    """Per episode and origin: the first progression after the origin, by the cut-off.

    A progression is a new lesion outside the episode's own detection group, or a confirmed
    lesion, regional or primary progression event (unconfirmed iUPD excluded). A regional
    node first seen within `grouping_days` after the episode date belongs to the episode's
    staging, whatever the origin (it is never counted, so it is in no detection group)."""
    cutoff = _cutoff(data_cutoff_date)
    keys = origins.select("episode_id", "patient_id", "origin", "origin_date", "episode_date")
    staging_node = (pl.col("_organ") == REGIONAL_NODE) & (
        pl.col("_date") <= pl.col("episode_date").dt.offset_by(f"{params.grouping_days}d")
    )
    own_group = episode_lesions.filter(pl.col("is_in_detection_group")).select(
        "episode_id", "lesion_id"
    )
    new_lesions = (
        keys.join(
            staging["metastases"].select("patient_id", "lesion_id",
                                         pl.col("detected_date").alias("_date"),
                                         pl.col("organ").alias("_organ")),
            on="patient_id",
        )
        .filter((pl.col("_date") > pl.col("origin_date")) & (pl.col("_date") <= cutoff)
                & ~staging_node)
        .join(own_group, on=["episode_id", "lesion_id"], how="anti")
        .select("episode_id", "origin", "_date")
    )
    events = (
        staging["disease_events"]
        .filter(
            pl.col("event_type").is_in(PROGRESSION_EVENT_TYPES)
            & pl.col("confirmed").fill_null(True)
            & (pl.col("event_date") <= cutoff)
        )
        .select("patient_id", pl.col("event_date").alias("_date"))
    )
    progression_events = (
        keys.join(events, on="patient_id")
        .filter(pl.col("_date") > pl.col("origin_date"))
        .select("episode_id", "origin", "_date")
    )
    return (
        pl.concat([new_lesions, progression_events])
        .group_by("episode_id", "origin")
        .agg(pl.col("_date").min().alias("_progression_date"))
    )


def _last_exam_before_death(
    origins: pl.LazyFrame, imaging: pl.LazyFrame, patients: pl.LazyFrame,
    data_cutoff_date: dt.date,
) -> pl.LazyFrame:
    """Per episode and origin of a patient who died by the cut-off: the last imaging exam on
    or before the death (null when none)."""
    deaths = vital_status_at_cutoff(patients, data_cutoff_date).filter(
        pl.col("death_date").is_not_null()
    ).select("patient_id", "death_date")
    exams = imaging.select("patient_id", "exam_date").join(deaths, on="patient_id").filter(
        pl.col("exam_date") <= pl.col("death_date")
    ).group_by("patient_id").agg(pl.col("exam_date").max().alias("_last_exam_before_death"))
    return origins.select("episode_id", "origin", "patient_id").join(
        exams, on="patient_id", how="inner"
    ).drop("patient_id")


def _first_widespread(
    origins: pl.LazyFrame, disease_assessments: pl.LazyFrame, data_cutoff_date: dt.date
) -> pl.LazyFrame:
    """Per episode and origin: the first later polymetastatic (or diffuse) assessment."""
    widespread = disease_assessments.filter(
        pl.col("assessment_state").is_in(WIDESPREAD_STATES)
        & (pl.col("assessment_date") <= _cutoff(data_cutoff_date))
    ).select("patient_id", "assessment_date")
    return (
        origins.select("episode_id", "patient_id", "origin", "origin_date")
        .join(widespread, on="patient_id")
        .filter(pl.col("assessment_date") > pl.col("origin_date"))
        .group_by("episode_id", "origin")
        .agg(pl.col("assessment_date").min().alias("_widespread_date"))
    )


def _next_line_start(
    origins: pl.LazyFrame,
    therapy_lines: pl.LazyFrame,
    data_cutoff_date: dt.date,
    params: ClinicalParameters,
) -> pl.LazyFrame:
    """Per episode and origin: the start of the first line after the one active at the
    origin (for a patient off therapy, the first line starting after the origin)."""
    lines = therapy_lines.filter(pl.col("line_start_date") <= _cutoff(data_cutoff_date))
    at_origin = line_at(
        origins.select("episode_id", "patient_id", "origin", "origin_date"),
        lines, "origin_date", params, name="_line_at_origin",
    )
    return (
        at_origin.join(lines.select("patient_id", "line_number", "line_start_date"),
                       on="patient_id")
        .filter(
            (pl.col("line_start_date") > pl.col("origin_date"))
            & (pl.col("line_number") > pl.col("_line_at_origin").fill_null(0))
        )
        .group_by("episode_id", "origin")
        .agg(pl.col("line_start_date").min().alias("_next_line_date"))
    )


def _is_analysable(origin: pl.Expr, data_cutoff_date: dt.date) -> pl.Expr:
    """An origin after the cut-off, or a death before the origin, is contradictory input:
    its outcomes stay null (left out of analyses) rather than guessed."""
    death = pl.col("death_date")
    return (origin <= _cutoff(data_cutoff_date)) & (death.is_null() | (death >= origin))


def _flag(condition: pl.Expr) -> pl.Expr:
    """1 = event, 0 = censored."""
    return condition.cast(pl.Int8)


def _status(event: pl.Expr, competing: pl.Expr) -> pl.Expr:
    """0 censored, 1 the event first (on a tie with death too), 2 death first."""
    return (
        pl.when(event.is_not_null() & (competing.is_null() | (event <= competing)))
        .then(_EVENT)
        .when(competing.is_not_null())
        .then(_COMPETING)
        .otherwise(_CENSORED)
        .cast(pl.Int8)
    )


def derive_episode_outcomes(
    staging: dict[str, pl.LazyFrame],
    omd_episodes: pl.LazyFrame,
    episode_lesions: pl.LazyFrame,
    disease_assessments: pl.LazyFrame,
    episode_lct: pl.LazyFrame,
    therapy_lines: pl.LazyFrame,
    data_cutoff_date: dt.date,
    params: ClinicalParameters = DEFAULT_PARAMETERS,
) -> pl.LazyFrame:
    """`episode_outcomes`: one row per episode and origin (`episode`; `lct` where LCT started).

    - OS: death from any cause; censored at min(last contact, cut-off).
    - PFS: first progression after the origin, or death no later than
      `pfs_death_window_days` after the last imaging exam before the death (the origin
      stands for it when no exam follows the origin); else censored at
      min(last imaging, last contact, cut-off), or at the origin when no exam follows it.
    - Widespread progression: first later polymetastatic/diffuse assessment, or death;
      censored at min(last imaging, last contact, cut-off) (the origin when no exam
      follows it).
    - Time to next systemic therapy: status 1 next line, 2 death first, 0 censored at
      min(last contact, cut-off).
    """
    # Computed once: six branches below read the origins.
    origins, = materialise(_origins(omd_episodes, episode_lct, data_cutoff_date))
    key = ["episode_id", "origin"]
    origin = pl.col("origin_date")
    death = pl.col("death_date")
    alive_until = pl.col("last_alive_date")
    last_imaging = pl.col("last_imaging_date")
    imaged_after_origin = last_imaging > origin
    frame = (
        origins.join(vital_status_at_cutoff(staging["patients"], data_cutoff_date),
                     on="patient_id", how="left")
        .join(_last_imaging(staging["imaging"], data_cutoff_date), on="patient_id", how="left")
        .join(_first_progression(origins, staging, episode_lesions, data_cutoff_date, params),
              on=key, how="left")
        .join(_last_exam_before_death(origins, staging["imaging"], staging["patients"],
                                      data_cutoff_date), on=key, how="left")
        .join(_first_widespread(origins, disease_assessments, data_cutoff_date),
              on=key, how="left")
        .join(_next_line_start(origins, therapy_lines, data_cutoff_date, params),
              on=key, how="left")
    )
    # The exam the death window runs from: the last one before the death, or the origin
    # when no exam follows the origin.
    death_reference = pl.max_horizontal(origin, pl.col("_last_exam_before_death"))
    pfs_death = pl.when(
        death <= death_reference + pl.duration(days=params.pfs_death_window_days)
    ).then(death)
    pfs_event_date = pl.min_horizontal(pl.col("_progression_date"), pfs_death)
    pfs_censor = pl.when(imaged_after_origin.fill_null(False)).then(
        pl.min_horizontal(last_imaging, alive_until)
    ).otherwise(origin)
    wsp_event_date = pl.min_horizontal(pl.col("_widespread_date"), death)
    wsp_censor = pl.when(imaged_after_origin.fill_null(False)).then(
        pl.min_horizontal(last_imaging, alive_until)
    ).otherwise(origin)
    ttnt_status = _status(pl.col("_next_line_date"), death)
    outcome_columns = EPISODE_OUTCOME_COLUMNS[EPISODE_OUTCOME_COLUMNS.index("os_days"):]
    return frame.with_columns(
        days_between(origin, pl.coalesce(death, alive_until)).alias("os_days"),
        _flag(death.is_not_null()).alias("os_event"),
        days_between(origin, pl.coalesce(pfs_event_date, pfs_censor)).alias("pfs_days"),
        _flag(pfs_event_date.is_not_null()).alias("pfs_event"),
        days_between(origin, pl.coalesce(wsp_event_date, wsp_censor)).alias("wsp_days"),
        _flag(wsp_event_date.is_not_null()).alias("wsp_event"),
        days_between(
            origin,
            pl.when(ttnt_status == _EVENT).then(pl.col("_next_line_date"))
            .when(ttnt_status == _COMPETING).then(death)
            .otherwise(alive_until),
        ).alias("ttnt_days"),
        ttnt_status.alias("ttnt_status"),
    ).with_columns(
        pl.when(_is_analysable(origin, data_cutoff_date)).then(pl.col(c)).alias(c)
        for c in outcome_columns
    ).select(EPISODE_OUTCOME_COLUMNS)


def _first_radical_therapy(
    local_treatments: pl.LazyFrame, data_cutoff_date: dt.date
) -> pl.LazyFrame:
    """Per lesion: the first radical local therapy by the cut-off (the highest course BED10
    when several start that day)."""
    return (
        local_treatments.filter(
            pl.col("is_radical")
            & (pl.col("target_kind") == "lesion")
            & (pl.col("start_date") <= _cutoff(data_cutoff_date))
        )
        .sort("lesion_id", "start_date", pl.col("course_bed10_gy").fill_null(-1.0),
              descending=[False, False, True])
        .group_by("lesion_id", maintain_order=True)
        .agg(
            pl.col("patient_id").first(),
            pl.col("organ").first(),
            pl.col("start_date").first().alias("therapy_start_date"),
            pl.col("course_bed10_gy").first().alias("bed10_gy"),
            pl.col("is_lung_bed10_adequate").first(),
        )
    )


def _last_organ_exam(
    treated: pl.LazyFrame, imaging: pl.LazyFrame, data_cutoff_date: dt.date
) -> pl.LazyFrame:
    """Per treated lesion: the last exam by the cut-off that images the lesion's organ."""
    organ_exams = pl.LazyFrame(
        [(organ, m) for organ, mods in ORGAN_EXAM_MODALITIES.items() for m in mods],
        schema={"organ": pl.String, "modality": pl.String},
        orient="row",
    )
    # The last exam of each patient and modality first: the lesion's last exam is the latest
    # of those of its organ's modalities (a join with far fewer rows than every exam).
    last_exams = (
        imaging.filter(pl.col("exam_date") <= _cutoff(data_cutoff_date))
        .group_by("patient_id", "modality")
        .agg(pl.col("exam_date").max())
    )
    return (
        treated.select("lesion_id", "patient_id", "organ")
        .join(organ_exams, on="organ")
        .join(last_exams, on=["patient_id", "modality"])
        .group_by("lesion_id")
        .agg(pl.col("exam_date").max().alias("_last_organ_exam"))
    )


def derive_lesion_outcomes(
    staging: dict[str, pl.LazyFrame],
    local_treatments: pl.LazyFrame,
    data_cutoff_date: dt.date,
    params: ClinicalParameters = DEFAULT_PARAMETERS,
) -> pl.LazyFrame:
    """`lesion_outcomes`: one row per radically treated lesion, origin = first day of its
    first radical therapy. `lf_status` 1 = confirmed `lesion_progression` of that lesion
    after the start, 2 = death first (competing), 0 = censored at the last exam imaging the
    lesion's organ (`ORGAN_EXAM_MODALITIES`), or at the start when no such exam follows it."""
    treated, = materialise(_first_radical_therapy(local_treatments, data_cutoff_date))  # read 3x
    failures = (
        staging["disease_events"]
        .filter(
            (pl.col("event_type") == "lesion_progression")
            & pl.col("confirmed").fill_null(True)
            & (pl.col("event_date") <= _cutoff(data_cutoff_date))
        )
        .join(treated.select("lesion_id", "therapy_start_date"), on="lesion_id")
        .filter(pl.col("event_date") > pl.col("therapy_start_date"))
        .group_by("lesion_id")
        .agg(pl.col("event_date").min().alias("_failure_date"))
    )
    start = pl.col("therapy_start_date")
    death = pl.col("death_date")
    status = _status(pl.col("_failure_date"), death)
    censor = pl.max_horizontal(start, pl.col("_last_organ_exam"))
    return (
        treated.join(vital_status_at_cutoff(staging["patients"], data_cutoff_date),
                     on="patient_id", how="left")
        .join(failures, on="lesion_id", how="left")
        .join(_last_organ_exam(treated, staging["imaging"], data_cutoff_date),
              on="lesion_id", how="left")
        .with_columns(
            days_between(
                start,
                pl.when(status == _EVENT).then(pl.col("_failure_date"))
                .when(status == _COMPETING).then(death)
                .otherwise(censor),
            ).alias("lf_days"),
            status.alias("lf_status"),
        )
        .with_columns(
            pl.when(_is_analysable(start, data_cutoff_date)).then(pl.col(c)).alias(c)
            for c in ("lf_days", "lf_status")
        )
        .select(LESION_OUTCOME_COLUMNS)
    )

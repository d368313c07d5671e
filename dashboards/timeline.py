"""One patient's course, and the swimmer plot of a filtered cohort (row-level data: analyst
and admin roles only).

A patient's rows are read with bound parameters through `pipelines.safe_sql` (one query per
table, `WHERE patient_id = ?`), never the whole table: the lanes are

- one lane per lesion (staging.metastases): detected → resolved (or the end of follow-up),
  its progression events (staging.disease_events) and its local treatments
  (marts.local_treatments: radiotherapy, surgery, thermal ablation);
- radiotherapy courses and procedures on the primary tumour and regional nodes;
- systemic therapy lines (marts.therapy_lines), drawn start → end;
- disease assessments with their OMD state (marts.disease_assessments) and the OMD episodes;
- death, or censoring at the last contact (staging.patients).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dashboards.labels import label_column
from pipelines import safe_sql

SWIMMER_CAP = 60  # patients drawn at most in one swimmer plot

QUERIES = {
    "patient": "SELECT patient_id, sex, birth_year, vital_status, death_date, "
               "last_contact_date FROM staging.patients WHERE patient_id = ?",
    "lesions": "SELECT lesion_id, organ, site_code, detected_date, resolved_date, is_diffuse "
               "FROM staging.metastases WHERE patient_id = ? ORDER BY detected_date, lesion_id",
    "progressions": "SELECT lesion_id, event_date, event_type, confirmed "
                    "FROM staging.disease_events WHERE patient_id = ? ORDER BY event_date",
    "treatments": "SELECT treatment_id, phase, target_kind, lesion_id, organ, modality, "
                  "start_date, total_dose_gy, fractions, bed10_gy, is_sbrt, is_radical "
                  "FROM marts.local_treatments WHERE patient_id = ? ORDER BY start_date",
    "lines": "SELECT line_number, line_start_date, line_end_date, drugs "
             "FROM marts.therapy_lines WHERE patient_id = ? ORDER BY line_number",
    "assessments": "SELECT assessment_date, assessment_kind, assessment_state, n_lesions, "
                   "n_organs, episode_id FROM marts.disease_assessments WHERE patient_id = ? "
                   "ORDER BY assessment_date",
    "episodes": "SELECT episode_id, episode_date, omd_state, episode_number "
                "FROM marts.omd_episodes WHERE patient_id = ? ORDER BY episode_number",
    "diagnosis": "SELECT min(diagnosis_date) AS diagnosis_date FROM marts.omd_episodes "
                 "WHERE patient_id = ?",
}


@dataclass(frozen=True)
class PatientCourse:
    patient_id: str
    frames: dict[str, pl.DataFrame]
    cutoff: dt.date | None

    @property
    def found(self) -> bool:
        return self.frames["patient"].height > 0

    @property
    def end_date(self) -> dt.date | None:
        """Death, else the last contact (or the cut-off)."""
        patient = self.frames["patient"]
        if patient.is_empty():
            return None
        row = patient.row(0, named=True)
        return row["death_date"] or row["last_contact_date"] or self.cutoff


def patient_course(database: Path, patient_id: str, cutoff: dt.date | None) -> PatientCourse:
    frames = {}
    with safe_sql.open_read_only(database) as con:
        for name, sql in QUERIES.items():  # eight small queries for one patient
            frames[name] = safe_sql.run_on_connection(con, sql, params=[patient_id]).frame
    return PatientCourse(patient_id, frames, cutoff)


def lesion_lanes(course: PatientCourse) -> pl.DataFrame:
    """lane, lesion_id, start, end (one bar per lesion), in detection order."""
    end = course.end_date
    lesions = course.frames["lesions"]
    return lesions.with_row_index("order").select(
        "lesion_id",
        lane=pl.format("Lesion {}: {}", pl.col("order") + 1,
                       label_column(pl.col("organ"), "organ")),
        start=pl.col("detected_date"),
        end=pl.col("resolved_date").fill_null(pl.lit(end, dtype=pl.Date)),
        resolved=pl.col("resolved_date"),
    )


def swimmer_rows(cohort: pl.DataFrame, outcomes: pl.DataFrame, cap: int = SWIMMER_CAP
                 ) -> tuple[pl.DataFrame, int]:
    """First episode per patient of the filtered cohort, longest follow-up first, capped:
    patient_id, months (to death or censoring), died, lct_months, progression_months,
    treatment (words). Returns (rows, patients before the cap)."""
    first = cohort.filter(pl.col("is_first_episode"))
    joined = first.join(
        outcomes.filter(pl.col("origin") == "episode").select(
            "episode_id", "os_days", "os_event", "pfs_days", "pfs_event"
        ),
        on="episode_id",
    ).select(
        "patient_id",
        months=pl.col("os_days") / 30.4375,
        died=pl.col("os_event").cast(pl.Boolean),
        lct_months=(pl.col("lct_start_date") - pl.col("episode_date")).dt.total_days() / 30.4375,
        progression_months=pl.when(pl.col("pfs_event").cast(pl.Boolean)
                                   & ((pl.col("pfs_days") < pl.col("os_days"))
                                      | ~pl.col("os_event").cast(pl.Boolean)))
        .then(pl.col("pfs_days") / 30.4375),
        treatment=label_column(pl.col("treatment_strategy"), "treatment_strategy"),
    ).drop_nulls("months")
    return joined.sort("months", "patient_id", descending=[True, False]).head(cap), joined.height


LESION_COLOUR = "#7fb0d6"
LINE_COLOUR = "#e9a03b"
SYSTEMIC_LANE = "Systemic therapy"
PRIMARY_LANE = "Primary tumour and nodes"
ASSESSMENT_LANE = "Assessments (OMD state)"
EPISODE_LANE = "OMD episodes"
FOLLOWUP_LANE = "Follow-up"


def lanes(course: PatientCourse) -> tuple[dict[str, pl.DataFrame], list[str]]:
    """The frames `dashboards.page_charts.timeline_figure` draws, and the lane order."""
    f = course.frames
    lesion_bars = lesion_lanes(course)
    lane_of = lesion_bars.select("lesion_id", "lane")
    bars = lesion_bars.select(
        "lane", "start", "end",
        text=pl.format("{} · detected {} · {}", pl.col("lane"), pl.col("start").dt.strftime("%Y-%m-%d"),
                       pl.when(pl.col("resolved").is_not_null())
                       .then(pl.format("resolved {}", pl.col("resolved").dt.strftime("%Y-%m-%d")))
                       .otherwise(pl.lit("not resolved"))),
        kind=pl.lit("Lesion (detected → resolved)"), colour=pl.lit(LESION_COLOUR),
    )
    end = course.end_date
    lines = f["lines"].select(
        lane=pl.lit(SYSTEMIC_LANE), start="line_start_date",
        end=pl.col("line_end_date").fill_null(pl.lit(end, dtype=pl.Date)),
        text=pl.format("Line {}: {}", pl.col("line_number"), pl.col("drugs").list.join(" + ")),
        kind=pl.lit("Systemic therapy line"), colour=pl.lit(LINE_COLOUR),
    )
    progression = f["progressions"].join(lane_of, on="lesion_id", how="left").select(
        lane=pl.col("lane").fill_null(pl.lit(PRIMARY_LANE)), date="event_date",
        text=pl.format("Progression of {}{}", pl.col("lane").fill_null(pl.lit("disease")),
                       pl.when(pl.col("confirmed")).then(pl.lit(" (confirmed)"))
                       .otherwise(pl.lit(""))),
    )
    treatments = f["treatments"].join(lane_of, on="lesion_id", how="left").select(
        lane=pl.col("lane").fill_null(pl.lit(PRIMARY_LANE)), date="start_date", modality="modality",
        text=pl.format(
            "{}{}: {}", label_column(pl.col("modality"), "modality"),
            pl.when(pl.col("is_sbrt").fill_null(False)).then(pl.lit(" (SBRT)")).otherwise(pl.lit("")),
            pl.when(pl.col("total_dose_gy").is_not_null())
            .then(pl.format("{} Gy in {} fractions, BED10 {} Gy", pl.col("total_dose_gy").round(1),
                            pl.col("fractions"), pl.col("bed10_gy").round(1)))
            .otherwise(pl.lit("procedure")),
        ),
    )
    assessments = f["assessments"].select(
        lane=pl.lit(ASSESSMENT_LANE), date="assessment_date", state="assessment_state",
        text=pl.format("{}: {} · {} lesions in {} organs",
                       label_column(pl.col("assessment_kind"), "assessment_kind"),
                       label_column(pl.col("assessment_state"), "assessment_state"),
                       pl.col("n_lesions"), pl.col("n_organs")),
    )
    episodes = f["episodes"].select(
        lane=pl.lit(EPISODE_LANE), date="episode_date",
        text=pl.format("Episode {}: {}", pl.col("episode_number"),
                       label_column(pl.col("omd_state"), "omd_state")),
    )
    patient = f["patient"]
    died = patient.height and patient["death_date"][0] is not None
    end_frame = pl.DataFrame({
        "lane": [FOLLOWUP_LANE], "date": [end],
        "text": ["Death" if died else "Alive at the last contact (censored)"],
        "name": ["Death" if died else "Last contact (censored)"],
        "symbol": ["x-thin-open" if died else "circle-open"],
        "colour": ["#111111" if died else "#555555"],
    }) if end is not None else pl.DataFrame()
    order = [EPISODE_LANE, ASSESSMENT_LANE, *lesion_bars["lane"].to_list(), PRIMARY_LANE,
             SYSTEMIC_LANE, FOLLOWUP_LANE]
    used = set(bars["lane"]) | set(lines["lane"]) | set(progression["lane"]) | set(
        treatments["lane"]) | set(assessments["lane"]) | set(episodes["lane"]) | {FOLLOWUP_LANE}
    return {
        "bars": pl.concat([bars, lines]), "progression": progression, "treatments": treatments,
        "assessments": assessments, "episodes": episodes, "end": end_frame,
    }, [lane for lane in order if lane in used]

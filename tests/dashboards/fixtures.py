"""A fixture warehouse for the dashboards: published files with exactly the documented mart
columns (docs/marts-interface.md), seeded random values, a few hundred patients by default.

    python -m tests.dashboards.fixtures --home /tmp/oligo-big --patients 100000

builds the same at scale (for the speed measurement; nothing is committed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from dashboards.filters import OMD_STATES, ORGAN_FLAGS
from pipelines.settings import Paths

DAY = dt.timedelta(days=1)
CENTRES = ("centre_a", "centre_b", "centre_c", "centre_d")
HISTOLOGY = ("adenocarcinoma", "squamous", "large_cell", "adenosquamous", "nsclc_nos")
ORGAN_LABELS = dict.fromkeys(ORGAN_FLAGS) | {"distant_lymph_node": "distant lymph node"}


@dataclass
class FixtureWarehouse:
    home: Path
    batch_id: str
    cutoff: dt.date
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)

    @property
    def paths(self) -> Paths:
        return Paths(self.home)


def _choice(rng: np.random.Generator, values, n: int, p=None) -> np.ndarray:
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=p)]


def build_frames(n_patients: int, seed: int, cutoff: dt.date) -> dict[str, pl.DataFrame]:
    """Every mart as a Polars frame; vectorised draws, consistent across tables."""
    rng = np.random.default_rng(seed)
    patient_ids = np.array([f"p{i:06d}" for i in range(n_patients)], dtype=object)
    diagnosis = np.datetime64("2016-01-01") + rng.integers(0, 3300, n_patients).astype(
        "timedelta64[D]"
    )
    n_episodes = 1 + (rng.random(n_patients) < 0.3).astype(int)
    owner = np.repeat(np.arange(n_patients), n_episodes)
    number = np.concatenate([np.arange(1, k + 1) for k in n_episodes]) if n_patients else []
    number = np.asarray(number, dtype=np.int64)
    n = owner.size
    gap_days = np.where(number == 1, rng.integers(0, 700, n), rng.integers(250, 900, n))
    episode_date = diagnosis[owner] + np.cumsum(gap_days).astype("timedelta64[D]") - (
        np.cumsum(gap_days) - gap_days
    )[np.r_[0, np.cumsum(n_episodes)[:-1]]].repeat(n_episodes).astype("timedelta64[D]")
    cutoff64 = np.datetime64(cutoff)
    episode_date = np.minimum(episode_date, cutoff64 - np.timedelta64(30, "D"))
    months = (episode_date - diagnosis[owner]).astype(int) / 30.4375
    synchronous = (number == 1) & (months <= 6)
    state_p = np.array([0, 0.3, 0.25, 0.15, 0.1, 0.05, 0.06, 0.05, 0.04])
    state_p = state_p / state_p.sum()
    state = np.where(
        synchronous, "synchronous_omd", _choice(rng, OMD_STATES, n, p=state_p)
    ).astype(object)
    unclassifiable = rng.random(n) < 0.02
    state[unclassifiable] = "unclassifiable_imputed_date"
    family = pl.Series(state.tolist()).str.extract(r"^(synchronous|metachronous|repeat|induced)")
    family = family.replace({"synchronous": "de_novo", "metachronous": "de_novo"})
    n_lesions = rng.integers(1, 6, n)
    organ_draw = rng.random((n, len(ORGAN_FLAGS))) < np.array(
        [0.3, 0.35, 0.12, 0.15, 0.25, 0.15, 0.05, 0.05]
    )
    organ_draw[np.arange(n), rng.integers(0, len(ORGAN_FLAGS), n)] = True
    n_organs = np.minimum(organ_draw.sum(axis=1), n_lesions)
    strategy = _choice(
        rng, ("lct_all_sites", "lct_partial", "systemic_only", "none"), n, p=[0.45, 0.15, 0.3, 0.1]
    )
    all_sites = strategy == "lct_all_sites"
    has_lct = np.isin(strategy, ("lct_all_sites", "lct_partial"))
    lct_delay = rng.integers(5, 170, n)
    lct_start = np.where(has_lct, episode_date + lct_delay.astype("timedelta64[D]"), np.datetime64("NaT"))
    centre = _choice(rng, CENTRES, n_patients, p=[0.4, 0.3, 0.2, 0.1])[owner]
    histology = _choice(rng, HISTOLOGY, n_patients, p=[0.6, 0.25, 0.05, 0.05, 0.05])[owner]
    driver = _choice(rng, ("egfr", "alk", "other_driver", "none", "not_tested"), n_patients,
                     p=[0.15, 0.05, 0.15, 0.45, 0.2])[owner]
    pdl1 = _choice(rng, ("<1%", "1-49%", ">=50%", "unknown"), n_patients, p=[0.3, 0.3, 0.25, 0.15])[owner]
    ecog = rng.integers(0, 3, n_patients).astype(float)
    ecog[rng.random(n_patients) < 0.08] = np.nan
    sex = _choice(rng, ("female", "male"), n_patients)[owner]
    age = (rng.normal(66, 9, n_patients).round().clip(30, 92)[owner] + (months / 12)).round()
    smoking = _choice(rng, ("never", "former", "current", "unknown"), n_patients, p=[0.2, 0.5, 0.25, 0.05])[owner]
    stage = _choice(rng, ("IVA", "IVB", "IIIB", "IIA"), n_patients, p=[0.5, 0.3, 0.1, 0.1])[owner]
    episode_ids = np.array([f"{patient_ids[o]}-e{k}" for o, k in zip(owner, number, strict=True)], dtype=object)
    is_first = number == 1
    ep_date = pl.Series(episode_date.astype("datetime64[D]")).cast(pl.Date)
    diag_date = pl.Series(diagnosis[owner].astype("datetime64[D]")).cast(pl.Date)

    cohort = pl.DataFrame(
        {
            "patient_id": patient_ids[owner].tolist(),
            "episode_id": episode_ids.tolist(),
            "episode_date": ep_date,
            "episode_number": number,
            "diagnosis_date": diag_date,
            "months_from_diagnosis": months,
            "primary_tumor_id": [f"{p}-t1" for p in patient_ids[owner]],
            "sex": sex.tolist(),
            "age_at_episode": age,
            "smoking_status": smoking.tolist(),
            "center_id": centre.tolist(),
            "histology_group": histology.tolist(),
            "egfr": np.where(driver == "egfr", "positive", np.where(driver == "not_tested", "not_tested", "negative")).tolist(),
            "alk": np.where(driver == "alk", "positive", np.where(driver == "not_tested", "not_tested", "negative")).tolist(),
            "driver_status": driver.tolist(),
            "pdl1_category": pdl1.tolist(),
            "ecog_at_diagnosis": pl.Series(ecog[owner], nan_to_null=True).cast(pl.Int64),
            "diagnosis_year": diag_date.dt.year().cast(pl.Int64),
            "stage_group": stage.tolist(),
            "omd_state": state.tolist(),
            "omd_family": family,
            "is_synchronous": pl.Series(np.where(unclassifiable, None, synchronous).tolist(), dtype=pl.Boolean),
            "n_lesions": n_lesions,
            "n_organs": n_organs,
            **{f"has_{organ}": organ_draw[:, i] for i, organ in enumerate(ORGAN_FLAGS)},
            "is_eortc_som_nsclc": pl.Series(
                np.where(synchronous, rng.random(n) < 0.6, None).tolist(), dtype=pl.Boolean
            ),
            "is_first_episode": is_first,
            "all_sites_treated": all_sites,
            "fraction_lesions_treated": np.where(all_sites, 1.0, np.where(has_lct, 0.5, 0.0)),
            "has_sbrt": has_lct & (rng.random(n) < 0.8),
            "has_surgery": has_lct & (rng.random(n) < 0.2),
            "has_thermal_ablation": has_lct & (rng.random(n) < 0.05),
            "lct_start_date": pl.Series(lct_start.astype("datetime64[D]")).cast(pl.Date),
            "is_primary_treated": rng.random(n) < 0.6,
            "is_regional_nodes_treated": rng.random(n) < 0.4,
            "has_immunotherapy_after": rng.random(n) < 0.5,
            "line_number_at_episode": rng.integers(0, 4, n),
            "treatment_strategy": strategy.tolist(),
            "parameter_set": ["default"] * n,
        }
    )

    # Outcomes: exponential times (LCT of all sites does better), administrative censoring.
    scale_os = np.where(all_sites, 1400, np.where(has_lct, 1000, 700))
    follow_max = (cutoff64 - episode_date).astype(int)
    death = rng.exponential(scale_os)
    loss = rng.exponential(3000, n)
    os_days = np.minimum.reduce([death, loss, follow_max]).round().astype(np.int64)
    os_event = (death <= np.minimum(loss, follow_max))
    prog = rng.exponential(scale_os / 2.2)
    pfs_days = np.minimum(prog, os_days).round().astype(np.int64)
    pfs_event = (prog <= os_days) | os_event
    wsp = rng.exponential(scale_os / 1.2)
    wsp_days = np.minimum(wsp, os_days).round().astype(np.int64)
    wsp_event = (wsp <= os_days) | os_event
    ttnt = rng.exponential(scale_os / 1.6)
    ttnt_days = np.minimum(ttnt, os_days).round().astype(np.int64)
    ttnt_status = np.where(ttnt <= os_days, 1, np.where(os_event, 2, 0))
    episode_origin = pl.DataFrame(
        {
            "episode_id": cohort["episode_id"],
            "patient_id": cohort["patient_id"],
            "origin": "episode",
            "origin_date": cohort["episode_date"],
            "is_first_episode": is_first,
            "os_days": os_days,
            "os_event": os_event,
            "pfs_days": pfs_days,
            "pfs_event": pfs_event,
            "wsp_days": wsp_days,
            "wsp_event": wsp_event,
            "ttnt_days": ttnt_days,
            "ttnt_status": ttnt_status.astype(np.int64),
        }
    )
    lct_origin = (
        episode_origin.with_columns(delay=pl.Series(lct_delay), has_lct=pl.Series(has_lct))
        .filter(pl.col("has_lct") & (pl.col("os_days") > pl.col("delay")))
        .with_columns(
            origin=pl.lit("lct"),
            origin_date=pl.col("origin_date") + pl.duration(days=pl.col("delay")),
            **{
                f"{m}_days": (pl.col(f"{m}_days") - pl.col("delay")).clip(0)
                for m in ("os", "pfs", "wsp", "ttnt")
            },
        )
        .drop("delay", "has_lct")
    )
    outcomes = pl.concat([episode_origin, lct_origin])

    first = cohort.filter("is_first_episode").join(
        episode_origin.select("episode_id", "os_days", "os_event"), on="episode_id"
    )
    followup = first.select(
        "patient_id",
        followup_days="os_days",
        followup_event=(~pl.col("os_event")).cast(pl.Int64),
    )

    n_all = int(n_patients * 1.6)
    attrition = pl.DataFrame(
        {
            "step_order": [1, 2, 3, 4],
            "step": [
                "patients in the registry",
                "NSCLC",
                "with a metastasis assessment",
                "with an OMD episode",
            ],
            "remaining": [n_all, int(n_patients * 1.3), int(n_patients * 1.1), n_patients],
        }
    ).with_columns(
        excluded=(pl.col("remaining").shift(1) - pl.col("remaining")).fill_null(0),
        reason=pl.col("step"),
    )

    organs_list = [
        [ORGAN_LABELS[o] or o for o, flag in zip(ORGAN_FLAGS, row, strict=True) if flag]
        for row in organ_draw
    ]
    omd_episodes = cohort.select(
        "patient_id", "episode_id", "episode_date", "omd_state", "omd_family", "n_lesions",
        "n_organs",
        n_stable_lesions=pl.lit(0, pl.Int64),
        organs=pl.Series(organs_list, dtype=pl.List(pl.String)),
        is_eortc_som_nsclc="is_eortc_som_nsclc",
        eortc_failed_criterion=pl.lit(None, pl.String),
        eortc_unverified_criteria=pl.lit([], pl.List(pl.String)),
        has_prior_poly=pl.col("omd_family") == "induced",
        has_prior_omd=pl.col("omd_family") == "repeat",
        on_systemic_therapy=pl.col("omd_state").str.contains("progression|persistence"),
        has_progression=pl.col("omd_state").str.contains("progression"),
        months_from_diagnosis="months_from_diagnosis",
        diagnosis_date="diagnosis_date",
        primary_tumor_id="primary_tumor_id",
        episode_number="episode_number",
        parameter_set="parameter_set",
    )
    assessments = cohort.select(
        "patient_id",
        assessment_id=pl.col("episode_id") + "-a1",
        assessment_date="episode_date",
        assessment_kind=pl.lit("detection"),
        assessment_state=pl.lit("oligo"),
        n_lesions="n_lesions",
        n_organs="n_organs",
        n_stable_lesions=pl.lit(0, pl.Int64),
        progression_count_basis=pl.lit("all_active"),
        on_systemic_therapy=pl.lit(False),
        has_progression=pl.lit(False),
        episode_id="episode_id",
    )
    treated = cohort.filter(pl.col("lct_start_date").is_not_null())
    local_treatments = treated.select(
        "patient_id",
        treatment_id=pl.col("episode_id") + "-c1",
        phase=pl.lit(1, pl.Int64),
        target=pl.lit("lesion 1"),
        target_kind=pl.lit("lesion"),
        lesion_id=pl.col("episode_id") + "-l1",
        organ=pl.lit("lung"),
        modality=pl.lit("radiotherapy"),
        start_date="lct_start_date",
        total_dose_gy=pl.lit(54.0),
        fractions=pl.lit(3, pl.Int64),
        dose_per_fraction_gy=pl.lit(18.0),
        bed10_gy=pl.lit(151.2),
        eqd2_gy=pl.lit(126.0),
        bed3_gy=pl.lit(378.0),
        course_bed10_gy=pl.lit(151.2),
        is_sbrt=pl.lit(True),
        is_sbrt_inferred=pl.lit(False),
        is_radical=pl.lit(True),
        is_lung_bed10_adequate=pl.lit(True),
    )
    therapy_lines = cohort.filter("is_first_episode").select(
        "patient_id",
        line_number=pl.lit(1, pl.Int64),
        line_start_date="diagnosis_date",
        line_end_date=pl.col("diagnosis_date") + pl.duration(days=120),
        drugs=pl.lit(["carboplatin", "pemetrexed"], pl.List(pl.String)),
        drug_classes=pl.lit(["platinum", "antimetabolite"], pl.List(pl.String)),
        has_platinum=pl.lit(True),
        has_anti_pd1_pdl1=pl.lit(False),
        has_egfr_alk_inhibitor=pl.lit(False),
        is_line_derived=pl.lit(True),
    )
    lesion_outcomes = local_treatments.select(
        "patient_id", "lesion_id", "organ",
        therapy_start_date="start_date",
        bed10_gy="bed10_gy",
        is_lung_bed10_adequate="is_lung_bed10_adequate",
        lf_days=pl.lit(365, pl.Int64),
        lf_status=pl.lit(0, pl.Int64),
    )
    toxicity = local_treatments.select(
        "patient_id",
        course_id="treatment_id",
        max_grade_acute=pl.lit(1, pl.Int64),
        max_grade_late=pl.lit(0, pl.Int64),
        max_grade_acute_rt=pl.lit(1, pl.Int64),
        max_grade_late_rt=pl.lit(0, pl.Int64),
        has_grade3plus=pl.lit(False),
        has_pneumonitis_grade2plus=pl.lit(False),
    )
    return {
        "omd_episodes": omd_episodes,
        "disease_assessments": assessments,
        "cohort_attrition": attrition,
        "local_treatments": local_treatments,
        "therapy_lines": therapy_lines,
        "episode_cohort": cohort,
        "episode_outcomes": outcomes,
        "lesion_outcomes": lesion_outcomes,
        "toxicity_summary": toxicity,
        "patient_followup": followup,
    }


def write_published(target: Path, frames: dict[str, pl.DataFrame], batch_id: str,
                    cutoff: dt.date) -> None:
    """One published file: schema `marts` with the frames and `meta.provenance`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    with duckdb.connect(str(target)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE SCHEMA meta")
        for name, frame in frames.items():
            con.register("incoming", frame.to_arrow())
            con.execute(f'CREATE TABLE marts."{name}" AS SELECT * FROM incoming')
            con.unregister("incoming")
        con.execute(
            "CREATE TABLE meta.provenance AS SELECT ? AS batch_id, ?::DATE AS data_cutoff_date, "
            "? AS contract_version, ? AS code_version, ? AS parameter_set, "
            "? AS parameters_json, ?::TIMESTAMP AS published_at",
            [batch_id, cutoff, "1", "0.1.0+fixture", "default", json.dumps({}),
             _published_at(cutoff)],
        )


def _published_at(cutoff: dt.date) -> dt.datetime:
    return dt.datetime(cutoff.year, cutoff.month, cutoff.day) + dt.timedelta(days=3)


def write_ops(target: Path, runs: list[dict], batches: list[tuple] = ()) -> None:
    """published/ops.duckdb with `ops.runs` (and empty companions) as the runner leaves it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written under another name: a file named ops.duckdb makes `ops.` ambiguous (catalog).
    scratch = target.with_name("ops_fixture_scratch.duckdb")
    scratch.unlink(missing_ok=True)
    with duckdb.connect(str(scratch)) as con:
        con.execute("CREATE SCHEMA ops")
        con.execute("CREATE SCHEMA dq")
        con.execute(
            "CREATE TABLE ops.runs (run_id VARCHAR, batch_id VARCHAR, started_at TIMESTAMP, "
            "finished_at TIMESTAMP, status VARCHAR, message VARCHAR)"
        )
        con.execute("CREATE TABLE ops.batches (batch_id VARCHAR, data_cutoff_date DATE, "
                    "published_at TIMESTAMP, status VARCHAR)")
        con.execute("CREATE TABLE dq.check_results (check_name VARCHAR, passed BOOLEAN)")
        for batch in batches:  # (batch_id, cut-off, published_at): frozen files are offered
            con.execute("INSERT INTO ops.batches VALUES (?, ?, ?, 'published')", list(batch))
        for run in runs:
            con.execute(
                "INSERT INTO ops.runs VALUES (?, ?, ?, ?, ?, ?)",
                [run["run_id"], run["batch_id"], run["started_at"], run["finished_at"],
                 run["status"], run["message"]],
            )
    os.replace(scratch, target)


def build_warehouse(
    home: Path,
    *,
    n_patients: int = 300,
    seed: int = 20261031,
    batch_id: str = "fixture-2026-06-30",
    cutoff: dt.date = dt.date(2026, 6, 30),
    frozen_older: bool = True,
    latest_run: tuple[str, str] = ("published", "published"),
) -> FixtureWarehouse:
    """current + frozen snapshot of `batch_id` (and an older, smaller batch), ops runs."""
    where = Paths(Path(home))
    frames = build_frames(n_patients, seed, cutoff)
    write_published(where.current, frames, batch_id, cutoff)
    write_published(where.batch_snapshot(batch_id), frames, batch_id, cutoff)
    start = dt.datetime(2026, 7, 3, 2, 0)
    runs = []
    batches = [(batch_id, cutoff, _published_at(cutoff))]
    if frozen_older:
        older_cutoff = dt.date(2025, 12, 31)
        older_id = "fixture-2025-12-31"
        write_published(
            where.batch_snapshot(older_id),
            build_frames(max(n_patients // 2, 1), seed + 1, older_cutoff),
            older_id,
            older_cutoff,
        )
        batches.append((older_id, older_cutoff, _published_at(older_cutoff)))
        runs.append(dict(run_id="r1", batch_id=older_id, started_at=start - 180 * DAY,
                         finished_at=start - 180 * DAY, status="published", message="published"))
    runs.append(dict(run_id="r2", batch_id=batch_id, started_at=start, finished_at=start,
                     status="published", message="published"))
    status, message = latest_run
    if status != "published":
        runs.append(dict(run_id="r3", batch_id="fixture-2026-09-30",
                         started_at=start + 90 * DAY, finished_at=start + 90 * DAY,
                         status=status, message=message))
    write_ops(where.ops, runs, batches)
    return FixtureWarehouse(home=Path(home), batch_id=batch_id, cutoff=cutoff, frames=frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("OLIGO_HOME", "data")))
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20261031)
    args = parser.parse_args()
    built = build_warehouse(args.home, n_patients=args.patients, seed=args.seed)
    print(f"fixture warehouse at {built.home}: {built.frames['episode_cohort'].height} episodes")


if __name__ == "__main__":
    main()

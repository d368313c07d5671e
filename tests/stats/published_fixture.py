"""A small published snapshot with the documented mart columns (docs/marts-interface.md),
for the command tests, built independently of the pipeline.

`build_published(home)` writes `published/current.duckdb`, the frozen
`published/batches/<BATCH_ID>.duckdb` and `published/ops.duckdb` under `home` (an
OLIGO_HOME). Seeded: treated episodes (`all_sites_treated`) have a hazard a third of the
untreated ones for OS and PFS, and lung lesions with BED10 >= 100 Gy fail locally less often.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

BATCH_ID = "fixture-2026-10-31"
CUTOFF = dt.date(2026, 10, 31)
N_PATIENTS = 80


def _episodes(rng: np.random.Generator) -> pl.DataFrame:
    patients = [f"pat{i:03d}" for i in range(N_PATIENTS)]
    second = rng.random(N_PATIENTS) < 0.25
    rows = []
    for i, patient in enumerate(patients):  # fixture construction, not warehouse logic
        start = dt.date(2020, 1, 1) + dt.timedelta(days=int(rng.integers(0, 900)))
        dates = [start] + ([start + dt.timedelta(days=400)] if second[i] else [])
        treated = i % 2 == 0
        for number, date in enumerate(dates, start=1):
            rows.append(
                {
                    "patient_id": patient,
                    "episode_id": f"{patient}-e{number}",
                    "episode_date": date,
                    "episode_number": number,
                    "is_first_episode": number == 1,
                    "omd_state": "synchronous_omd" if number == 1 else "repeat_oligorecurrence",
                    "omd_family": "de_novo" if number == 1 else "repeat",
                    "sex": "female" if i % 3 == 0 else "male",
                    "age_at_episode": 55 + i % 25,
                    "histology_group": "adenocarcinoma" if i % 4 else "squamous",
                    "n_lesions": 1 + i % 5,
                    "n_organs": 1 + i % 3,
                    "has_brain": i % 5 == 0,
                    "is_synchronous": number == 1 and i % 3 != 0,
                    "ecog_at_diagnosis": i % 3,
                    "driver_status": "egfr" if i % 7 == 0 else "none",
                    "all_sites_treated": treated,
                    "lct_start_date": date + dt.timedelta(days=int(10 + i % 50)) if treated else None,
                    "treatment_strategy": "lct_all_sites" if treated else "systemic_only",
                    "organs": ["lung", "bone"][: 1 + i % 2],
                    "parameter_set": "default",
                }
            )
    return pl.DataFrame(rows)


def _outcomes(episodes: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    n = episodes.height
    hazard = np.where(episodes["all_sites_treated"].to_numpy(), 1 / 900, 1 / 300)
    death = rng.exponential(1 / hazard)
    progression = rng.exponential(1 / (hazard * 2))
    censor = rng.uniform(200, 1500, n)
    os_days = np.minimum(death, censor)
    pfs_days = np.minimum(np.minimum(progression, death), censor)
    return pl.DataFrame(
        {
            "episode_id": episodes["episode_id"],
            "patient_id": episodes["patient_id"],
            "origin": ["episode"] * n,
            "origin_date": episodes["episode_date"],
            "is_first_episode": episodes["is_first_episode"],
            "os_days": np.floor(os_days).astype(np.int64) + 1,
            "os_event": (death <= censor).astype(np.int64),
            "pfs_days": np.floor(pfs_days).astype(np.int64) + 1,
            "pfs_event": (np.minimum(progression, death) <= censor).astype(np.int64),
            "wsp_days": np.floor(pfs_days).astype(np.int64) + 1,
            "wsp_event": (death <= censor).astype(np.int64),
            "ttnt_days": np.floor(pfs_days).astype(np.int64) + 1,
            # next therapy at progression; death before progression competes
            "ttnt_status": np.where(pfs_days >= censor, 0,
                                    np.where(progression < death, 1, 2)).astype(np.int64),
        }
    )


def _lesion_outcomes(rng: np.random.Generator) -> pl.DataFrame:
    n = 120
    adequate = np.arange(n) % 2 == 0
    failure = rng.exponential(np.where(adequate, 3000, 600))
    death = rng.exponential(1500, n)
    censor = rng.uniform(100, 1200, n)
    first = np.minimum(np.minimum(failure, death), censor)
    status = np.where(first == failure, 1, np.where(first == death, 2, 0))
    return pl.DataFrame(
        {
            "patient_id": [f"pat{i % N_PATIENTS:03d}" for i in range(n)],
            "lesion_id": [f"les{i:03d}" for i in range(n)],
            "organ": ["lung"] * n,
            "therapy_start_date": [dt.date(2021, 1, 1)] * n,
            "bed10_gy": np.where(adequate, 105.6, 72.0),
            "is_lung_bed10_adequate": adequate,
            "lf_days": np.floor(first).astype(np.int64) + 1,
            "lf_status": status.astype(np.int64),
        }
    )


def _write_snapshot(path: Path, tables: dict[str, pl.DataFrame]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE SCHEMA meta")
        for name, frame in tables.items():
            con.register("frame_view", frame)
            con.execute(f"CREATE TABLE marts.{name} AS SELECT * FROM frame_view")
            con.unregister("frame_view")
        con.execute(
            "COMMENT ON TABLE marts.episode_cohort IS 'One row per OMD episode. Grain: episode.'"
        )
        if "all_sites_treated" in tables["episode_cohort"].columns:
            con.execute(
                "COMMENT ON COLUMN marts.episode_cohort.all_sites_treated IS "
                "'every counted lesion received radical local therapy'"
            )
        con.execute(
            "CREATE TABLE meta.provenance AS SELECT ?::VARCHAR AS batch_id, "
            "?::DATE AS data_cutoff_date, 'v1' AS contract_version, 'test' AS code_version, "
            "'default' AS parameter_set, '{}' AS parameters_json, "
            "TIMESTAMP '2026-11-01 00:00:00' AS published_at",
            [BATCH_ID, CUTOFF],
        )


def build_published(home: Path, seed: int = 7,
                    tables: dict[str, pl.DataFrame] | None = None) -> dict[str, Path]:
    """The fixture's snapshot, or one holding the given `tables` (which must include
    `episode_cohort`) instead."""
    if tables is None:
        rng = np.random.default_rng(seed)
        episodes = _episodes(rng)
        tables = {
            "episode_cohort": episodes,
            "episode_outcomes": _outcomes(episodes, rng),
            "lesion_outcomes": _lesion_outcomes(rng),
            "patient_followup": pl.DataFrame(
                {"patient_id": ["pat000", "pat001"], "followup_days": [100, 200],
                 "followup_event": [1, 0]}
            ),
        }
    current = home / "published" / "current.duckdb"
    frozen = home / "published" / "batches" / f"{BATCH_ID}.duckdb"
    _write_snapshot(current, tables)
    _write_snapshot(frozen, tables)
    ops = home / "published" / "ops.duckdb"
    with duckdb.connect(str(ops)) as con:
        con.execute("CREATE SCHEMA ops.ops")
        con.execute("CREATE SCHEMA ops.dq")
        con.execute(
            "CREATE TABLE ops.ops.runs AS SELECT 'run1' AS run_id, ? AS batch_id, "
            "'published' AS status",
            [BATCH_ID],
        )
        con.execute("CREATE TABLE ops.dq.check_results AS SELECT 'c1' AS check_name, true AS passed")
        # The frozen file is offered to readers once ops records its publication.
        con.execute("CREATE TABLE ops.ops.batches AS SELECT ? AS batch_id, "
                    "TIMESTAMP '2026-11-01 00:00:00' AS published_at", [BATCH_ID])
    return {"current": current, "frozen": frozen, "ops": ops}

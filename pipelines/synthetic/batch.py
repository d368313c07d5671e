"""Generate one registry batch: DIR/<batch_id>/<table>.<ext> + manifest.json, and next to it
the truth folder `<batch_id>.truth/` (journeys.parquet, assessments.parquet, effects.json)
and, for a messy batch, `<batch_id>.defects.csv`.
"""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.contract.dialects import Dialect
from pipelines.contract.tables import CONTRACT_VERSION, TABLES
from pipelines.synthetic import review_cases as RC
from pipelines.synthetic import rows as R
from pipelines.synthetic import truth as T
from pipelines.synthetic import vocab as V
from pipelines.synthetic.calendar import NEVER, day_number
from pipelines.synthetic.defects import DEFECT_COLUMNS, inject_defects, inject_identifier
from pipelines.synthetic.draws import BLOCK_SIZE, Draws
from pipelines.synthetic.journeys import (
    ARMS,
    LOCAL_FAILURE_P,
    MONTH,
    OS_MEDIAN,
    PFS_MEDIAN,
    PNEUMONITIS_P,
    SCENARIOS,
    simulate,
)
from pipelines.synthetic.text import header, to_text
from pipelines.synthetic.truth import derive_truth
from pipelines.synthetic.writers import FIRST_ROW_NUMBER, WRITERS, RowGroupParquet

REGISTRY_NAME = "synthetic-oligo-registry"
DEFAULT_CHUNK_PATIENTS = 10_000


@dataclass(frozen=True)
class BatchSpec:
    patients: int
    seed: int
    out_dir: Path
    cutoff: dt.date
    batch_id: str | None = None
    dialect: Dialect | None = None
    file_format: str = "csv"
    messy: bool = False
    inject_identifier: bool = False
    chunk_patients: int = DEFAULT_CHUNK_PATIENTS


@dataclass(frozen=True)
class BatchResult:
    batch_dir: Path
    truth_dir: Path
    defects_file: Path | None
    rows: dict[str, int]


def _chunk_tables(spec: BatchSpec, first: int, n: int) -> tuple[dict[str, pl.DataFrame], dict, dict, pl.Series, object]:
    """Typed tables of the chunk, their partial-date flags, the truth arrays, ids, journeys."""
    cutoff = day_number(spec.cutoff)
    draws = Draws(spec.seed, first, n)
    chunk = simulate(draws, first, cutoff)
    review = RC.review_draws(spec.seed, first, n)
    RC.stagger_local_therapy(chunk, review)
    RC.late_regional_nodes(chunk, review)
    RC.after_cutoff_patients(chunk, review)
    pids = R.patient_ids(chunk.p["number"])
    im = R.imaging_slots(chunk, draws)
    tables: dict[str, pl.DataFrame] = {}
    partial: dict[str, pl.Series] = {}
    tables["patients"] = R.patients(chunk, pids)
    tables["primary_tumors"], partial["primary_tumors"] = R.primary_tumors(chunk, pids, chunk.lesions)
    tables["metastases"], part = R.metastases(chunk, pids, draws)
    partial["metastases"] = part["partial"]
    tables["imaging"] = R.imaging(chunk, pids, im)
    tables["disease_events"] = R.disease_events(chunk, pids, draws)
    tables["radiotherapy"], tables["local_procedures"], _ = R.local_therapy(chunk, pids, draws)
    tables["systemic_therapies"] = R.systemic_therapies(chunk, pids, draws)
    tables["toxicities"] = R.toxicities(chunk, pids, draws)
    tables["mdt_decisions"] = R.mdt_decisions(chunk, pids, draws)
    RC.add_rows_after_cutoff(tables, partial, chunk, pids)
    truth = derive_truth(chunk, (im["modality"], im["date"], im.exists))
    return tables, partial, truth, pids, chunk


def _text(tables: dict[str, pl.DataFrame], partial: dict, dialect: Dialect) -> dict[str, pl.DataFrame]:
    return {name: to_text(name, df, dialect, partial.get(name)) for name, df in tables.items()}


POPULATION_REASONS = ("nsclc", "unclassifiable_ambiguous_primary", "excluded_sclc", "excluded_lcnec_carcinoid")
# outside the NSCLC population the reason replaces the OMD state
OMD_OUT = (*T.OMD_STATES, *POPULATION_REASONS[1:])
FOLLOWUP_EVENTS = ("none", "new_oligo", "new_poly", "local_failure", "untreated_lesion_growth")


def _population_reason(chunk) -> np.ndarray:
    """Codes into POPULATION_REASONS."""
    group = V.HISTOLOGY_GROUP[chunk.p["histology"]]
    return np.select([chunk.p["two_primaries"], group == "small_cell", np.isin(group, ("lcnec", "carcinoid"))],
                     [1, 2, 3], 0)


def _truth_frames(chunk, truth: dict, pids: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    p = chunk.p
    reason = _population_reason(chunk)
    a = chunk.assessments
    day = R._dates
    decode = R.decode
    journeys = pl.DataFrame({
        "patient_id": pids, "scenario": decode(p["scenario"], SCENARIOS),
        "population_reason": decode(reason, POPULATION_REASONS),
        "histology_group": decode(p["histology"], V.HISTOLOGY_GROUP),
        "intended_arm": decode(p["arm"], ARMS),
        "diagnosis_date": day(p["dx"]), "diagnosis_date_partial": p["partial_dx"],
        "first_metastatic_date": day(p["t1"]), "index_episode_date": day(np.where(p["arm"] > 0, p["t_ep"], NEVER)),
        "followup_event_date": day(p["t2"]),
        "followup_event_type": decode(p["ev_type"] + 1, FOLLOWUP_EVENTS),
        "is_dead": p["dead"], "death_date": day(p["death"]), "is_lost_to_followup": p["lost"],
        "last_contact_date": day(p["end"]), "has_unconfirmed_progression": p["iupd"],
        "line1_regimen": decode(p["l1"], V.REGIMEN_NAMES),
        "line2_regimen": decode(p["l2"], V.REGIMEN_NAMES),
    })
    pi, j = np.nonzero(a.exists)
    omd = truth["omd_state"][pi, j]
    override = reason[pi]
    nsclc = override == 0
    omd = np.where((omd >= 0) & ~nsclc, len(T.OMD_STATES) + override - 1, omd)
    assessments = pl.DataFrame({
        "patient_id": pids.gather(pi), "assessment_number": j + 1,
        "assessment_date": day(a["date"][pi, j]), "assessment_kind": decode(a["kind"][pi, j], T.KINDS),
        "intended_assessment_state": decode(truth["state"][pi, j], T.STATES),
        "intended_omd_state": decode(omd, OMD_OUT),
        "intended_omd_family": decode(np.where(nsclc, truth["family"][pi, j], -1), T.FAMILIES),
        "n_lesions": truth["n_lesions"][pi, j], "n_organs": truth["n_organs"][pi, j],
        "n_stable_lesions": truth["n_stable"][pi, j], "on_systemic_therapy": truth["on_therapy"][pi, j],
        "has_progression": truth["has_progression"][pi, j],
        "intended_all_sites_treated": truth["all_sites_treated"][pi, j],
        "intended_is_eortc_som_nsclc": R._bool_or_null(truth["eortc"][pi, j]),
        "intended_eortc_failed_criterion": decode(truth["eortc_failed"][pi, j], T.EORTC_CRITERIA),
        "months_from_diagnosis": truth["months"][pi, j],
        "population_reason": decode(override, POPULATION_REASONS),
    })
    return journeys, assessments


def _write_chunk(writers: dict, text: dict[str, pl.DataFrame] | tuple, truth_files: tuple, truth: tuple) -> None:
    """The writer thread's share of a chunk: text (when not done yet), files, truth frames."""
    if isinstance(text, tuple):
        text = _text(*text)
    for name, df in text.items():
        writers[name].write(df)
    for file, frame in zip(truth_files, _truth_frames(*truth), strict=True):
        file.write(frame)


def generate_batch(spec: BatchSpec) -> BatchResult:
    """Write the batch, its manifest, its truth and (messy) its defect list."""
    from pipelines.contract.dialects import DEFAULT

    dialect = spec.dialect or DEFAULT
    spec = BatchSpec(**{**spec.__dict__, "dialect": dialect})
    batch_id = spec.batch_id or spec.cutoff.isoformat()
    batch_dir = spec.out_dir / batch_id
    batch_dir.mkdir(parents=True, exist_ok=True)
    truth_dir = spec.out_dir / f"{batch_id}.truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    ext = spec.file_format
    writers = {}
    for t in TABLES:
        cols = header(t.name, dialect)
        if spec.inject_identifier and t.name == "patients":
            cols = [*cols, "patient_name"]
        writers[t.name] = WRITERS[ext](batch_dir / f"{t.name}.{ext}", cols, dialect)
    chunk_patients = max(BLOCK_SIZE, -(-spec.chunk_patients // BLOCK_SIZE) * BLOCK_SIZE)
    defect_parts = []
    # the truth is appended chunk by chunk too (fixed row groups: same bytes at any chunk size)
    journeys_file = RowGroupParquet(truth_dir / "journeys.parquet")
    assessments_file = RowGroupParquet(truth_dir / "assessments.parquet")
    rows_before = dict.fromkeys(writers, 0)  # rows handed to each writer so far
    # one writer thread: chunk k is written (Polars releases the GIL) while chunk k + 1 is
    # simulated; a single worker keeps the writes in chunk order, and at most one chunk waits
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = None
        for first in range(0, spec.patients, chunk_patients):
            n = min(chunk_patients, spec.patients - first)
            tables, partial, truth, pids, chunk = _chunk_tables(spec, first, n)
            text = None  # a clean batch is turned into text by the writer thread
            if spec.messy or spec.inject_identifier:
                text = _text(tables, partial, dialect)
            if spec.messy:
                offsets = {name: rows_before[name] + FIRST_ROW_NUMBER[ext] for name in text}
                text, defects = inject_defects(text, chunk, Draws(spec.seed, first, n, stream=1), dialect,
                                               offsets, ext)
                defect_parts.append(defects)
            if spec.inject_identifier:
                text["patients"] = inject_identifier(text["patients"], Draws(spec.seed, first, n, stream=2))
            for name, df in tables.items():
                rows_before[name] += df.height
            if pending is not None:
                pending.result()
            pending = pool.submit(_write_chunk, writers, text if text is not None else (tables, partial, dialect),
                                  (journeys_file, assessments_file), (chunk, truth, pids))
        if pending is not None:
            pending.result()
    for w in writers.values():
        w.close()
    rows = {name: w.rows for name, w in writers.items()}
    manifest = {
        "contract_version": CONTRACT_VERSION, "registry": REGISTRY_NAME, "batch_id": batch_id,
        "data_cutoff_date": spec.cutoff.isoformat(),
        "files": {w.path.name: {"rows": w.rows, "sha256": w.sha256()} for w in writers.values()},
    }
    (batch_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    journeys_file.close()
    assessments_file.close()
    (truth_dir / "effects.json").write_text(json.dumps(known_effects(spec, batch_id), indent=2) + "\n")
    defects_file = None
    if spec.messy:
        defects_file = spec.out_dir / f"{batch_id}.defects.csv"
        d = pl.concat(defect_parts) if defect_parts else pl.DataFrame(schema=DEFECT_COLUMNS)
        d = d.sort("file", "row_number", "rule", "key")
        d.write_csv(defects_file)
    return BatchResult(batch_dir, truth_dir, defects_file, rows)


def known_effects(spec: BatchSpec, batch_id: str) -> dict:
    return {
        "batch_id": batch_id, "seed": spec.seed, "patients": spec.patients,
        "data_cutoff_date": spec.cutoff.isoformat(),
        "radical_treatment_of_all_sites": {
            "source": "Gomez DR et al., J Clin Oncol 2019;37:1558-1565 (order of magnitude)",
            "pfs_median_months": {"all_sites": round(PFS_MEDIAN["all_sites"] / MONTH, 1),
                                  "not_all_sites": round(PFS_MEDIAN["other"] / MONTH, 1)},
            "os_median_months": {"all_sites": round(OS_MEDIAN["all_sites"] / MONTH, 1),
                                 "not_all_sites": round(OS_MEDIAN["other"] / MONTH, 1)},
            "note": "exponential times from the index OMD episode; PFS clamped to >= 56 days and "
                    "after the last local therapy; observed medians are also shaped by censoring",
        },
        "lung_bed10_local_failure": {
            "probability_follow_up_event_is_local_failure": LOCAL_FAILURE_P,
            "note": "of the first treated lesion, when a follow-up progression happens",
        },
        "pneumonitis_after_thoracic_radiotherapy": {
            "probability": PNEUMONITIS_P,
            "note": "anti-PD-(L)1 drug running within 90 days of the thoracic course start",
        },
    }

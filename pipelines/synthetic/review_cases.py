"""Journeys that put into the data the cases an independent review found mishandled
(docs/synthetic-registry.md, "Review cases"), drawn from their own seeded stream so that
every other draw of a batch stays as it was:

- staggered local therapy: the residual lesions of a treatment decision (poly -> SBRT of the
  residual lesions; late SBRT of every site of a synchronous episode) treated over a few
  days rather than on one day; the decision is the first start and the later starts join it
  (docs/clinical-rules.md section 3);
- drugs known only by name: first lines with capmatinib or tepotinib (MET exon 14) and
  selpercatinib (RET) are written without an ATC code (`vocab.NAME_ONLY_DRUGS`; set in
  `rows.systemic_therapies`);
- a regional node found in the grouping window: a node first seen on a CT 1-40 days after a
  synchronous episode (it belongs to the staging of the episode, never to progression);
- rows dated after the cut-off: for some patients followed to the end, a new lesion and a
  drug start 1-60 days after the cut-off (nothing after the cut-off is used, so the
  truth ignores them).

The truth (`truth.py`) needs no change for any of them: it follows the rules, and these rows
leave every intended assessment as it was.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.synthetic import vocab as V
from pipelines.synthetic.calendar import NEVER
from pipelines.synthetic.draws import Draws, randint
from pipelines.synthetic.journeys import SC, Chunk

REVIEW_STREAM = 4  # the Draws stream of these cases (0: journeys, 1: defects, 2: identifiers)
STAGGER_SHARE = 0.4
STAGGER_MAX_STEP_DAYS = 5
LATE_NODE_SHARE = 0.25
AFTER_CUTOFF_SHARE = 0.015


def review_draws(seed: int, first_patient: int, n: int) -> Draws:
    return Draws(seed, first_patient, n, stream=REVIEW_STREAM)


def stagger_local_therapy(chunk: Chunk, draws: Draws) -> None:
    """Spread the same-day SBRT of a treatment decision over a few days (in place): the
    k-th residual lesion starts 1-5 days after the (k-1)-th."""
    les, a, p = chunk.lesions, chunk.assessments, chunk.p
    scenario = p["scenario"]
    decision = (scenario == SC["poly_persistence"]) | (scenario == SC["synchronous_late_lct"])
    td = a["date"][:, 1]
    treat = les["treat"]
    on_decision_day = les.exists & (treat == td[:, None]) & decision[:, None]
    staggered = (on_decision_day.sum(axis=1) >= 2) & (draws.u() < STAGGER_SHARE)
    steps = randint(draws.u(treat.shape[1]), 1, STAGGER_MAX_STEP_DAYS)
    rank = np.cumsum(on_decision_day, axis=1) - 1  # 0 for the first lesion treated that day
    offset = np.cumsum(np.where(on_decision_day & (rank > 0), steps, 0), axis=1)
    moved = on_decision_day & staggered[:, None]
    new_treat = np.where(moved, treat + offset, treat)
    # nothing after the end of follow-up (journeys: observation)
    les["treat"] = np.where(new_treat <= p["end"][:, None], new_treat, NEVER)
    p["staggered_lct"] = staggered


def late_regional_nodes(chunk: Chunk, draws: Draws) -> None:
    """Choose the synchronous patients whose regional node is first seen 1-40 days after
    the episode, on a CT of its own (`rows.imaging_slots` adds the exam,
    `rows.metastases` dates the node)."""
    p = chunk.p
    day = p["t1"] + randint(draws.u(), 1, 40)
    chosen = (p["scenario"] == SC["synchronous"]) & (p["t1"] < NEVER) \
        & (draws.u() < LATE_NODE_SHARE) & (day <= p["end"])
    p["late_node"] = chosen
    p["late_node_day"] = np.where(chosen, day, NEVER)


def after_cutoff_patients(chunk: Chunk, draws: Draws) -> None:
    """Choose the patients who get rows dated after the cut-off, and those dates."""
    p = chunk.p
    followed = ~p["dead"] & ~p["lost"] & ~p["two_primaries"]
    p["after_cutoff"] = followed & (draws.u() < AFTER_CUTOFF_SHARE)
    p["after_cutoff_day"] = chunk.cutoff + randint(draws.u(), 1, 60)


def add_rows_after_cutoff(tables: dict[str, pl.DataFrame], partial: dict[str, pl.Series],
                          chunk: Chunk, pids: pl.Series) -> None:
    """A new liver lesion and a drug started that day, after the cut-off, for the patients `after_cutoff_patients` chose (in place, with the tables'
    partial-date flags); each table stays in patient order (a patient's extra rows follow
    its own)."""
    p = chunk.p
    idx = np.flatnonzero(p["after_cutoff"])
    if idx.size == 0:
        return
    who = pids.gather(idx)
    day = pl.Series((p["after_cutoff_day"][idx]).astype(np.int32)).cast(pl.Date)
    extra = {
        # no exam row: an exam after the last contact is a contract warning of its own
        "metastases": pl.DataFrame({"lesion_id": who + "-M99", "patient_id": who,
                                    "tumor_id": who + "-T1", "organ": "liver",
                                    "detected_date": day}),
        "systemic_therapies": pl.DataFrame({"therapy_id": who + "-L99", "patient_id": who,
                                            "drug_name": "docetaxel",
                                            "atc_code": V.DRUG_ATC[V.D["docetaxel"]],
                                            "start_date": day}),
    }
    for name, rows in extra.items():
        df = tables[name]
        columns = df.columns
        rows = rows.cast({c: df.schema[c] for c in rows.columns})
        if name in partial:
            df = df.with_columns(partial[name].alias("_partial"))
            rows = rows.with_columns(pl.lit(False).alias("_partial"))
        merged = pl.concat([df, rows], how="diagonal").sort("patient_id", maintain_order=True)
        if name in partial:
            partial[name] = merged["_partial"]
        tables[name] = merged.select(columns)

"""The intended ESTRO/EORTC state of each planned assessment, derived from the journey arrays
with the rules of docs/clinical-rules.md sections 2-4, so the truth is what a correct classifier
must find in the rows written (not merely what the scenario aimed at).

Sources: Guckenberger M et al., ESTRO/EORTC 2020, Lancet Oncol 2020;21:e18-e28 (the tree);
Dingemans AC et al., EORTC-LCG 2019, J Thorac Oncol 2019;14:2109-2119 (the synchronous NSCLC
flag). Parameters are those of `ClinicalParameters` (the defaults of docs/clinical-rules.md).
"""

from __future__ import annotations

import numpy as np

from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters
from pipelines.synthetic import vocab as V
from pipelines.synthetic.calendar import add_months, month_end, month_start
from pipelines.synthetic.journeys import Chunk

KINDS = ("detection", "progression", "treatment_decision")
# detections of one group lie within 21 days of its first; 30 keeps well inside grouping_days
GROUP_SPAN_DAYS = 30

# the truth is held as small integer codes into these vocabularies (-1: none)
STATES = ("none", "oligo", "poly", "not_omd_diffuse")
FAMILIES = ("de_novo", "induced", "repeat")
SUFFIXES = ("oligorecurrence", "oligoprogression", "oligopersistence")
OMD_STATES = (
    "synchronous_omd", "unclassifiable_imputed_date", "unclassifiable_metachronous_persistence",
    "metachronous_oligorecurrence", "metachronous_oligoprogression",
    *(f"{f}_{s}" for f in FAMILIES[1:] for s in SUFFIXES),
)
SYNCHRONOUS, IMPUTED_DATE, METACHRONOUS_PERSISTENCE, METACHRONOUS = 0, 1, 2, 3
EORTC_CRITERIA = ("initial_staging", "lesion_organ_count", "diffuse_disease", "fdg_pet_ct", "brain_mri",
                  "all_sites_radically_treatable")


def on_systemic_therapy(chunk: Chunk, t: np.ndarray, p: ClinicalParameters) -> np.ndarray:
    """Antineoplastic drug started before t and ended no more than systemic_gap_days before."""
    d = chunk.drugs
    anti = d.exists & (d["drug"] >= 0) & V.DRUG_ANTINEOPLASTIC[np.maximum(d["drug"], 0)]
    return (anti & (d["start"] < t[:, None]) & (d["end"] >= t[:, None] - p.systemic_gap_days)).any(axis=1)


def _n_organs(mask: np.ndarray, key_bits: np.ndarray) -> np.ndarray:
    """Distinct organ-counting keys among the masked lesions (`key_bits`: one bit per key)."""
    acc = np.zeros(mask.shape[0], dtype=key_bits.dtype)
    for j in range(mask.shape[1]):
        acc |= np.where(mask[:, j], key_bits[:, j], 0)
    return np.bitwise_count(acc).astype(np.int64)


def derive_truth(chunk: Chunk, imaging, p: ClinicalParameters = DEFAULT_PARAMETERS) -> dict[str, np.ndarray]:
    """Arrays of shape (n, 3), one column per planned assessment; states as codes into STATES,
    OMD_STATES, FAMILIES, EORTC_CRITERIA; the EORTC flag as 1 / 0 / -1 (not synchronous).

    `imaging` (modality, date, exists) are the exam slots of `rows.imaging_slots`: every lesion
    and regional node is detected on one of them, so they are all the exams the rules count
    (imaging rows and detection modalities). Needs `chunk.p["mdt_not_treatable"]`, set by
    `rows.mdt_decisions`."""
    les, a = chunk.lesions, chunk.assessments
    n = chunk.n
    dx = chunk.p["dx"]
    out = {k: [] for k in ("state", "n_lesions", "n_organs", "n_stable", "on_therapy",
                           "has_progression", "omd_state", "family", "all_sites_treated",
                           "eortc", "eortc_failed", "months")}
    prior_poly = np.zeros(n, dtype=bool)
    prior_omd = np.zeros(n, dtype=bool)
    ex, det, res, treat = les.exists, les["det"], les["res"], les["treat"]
    progs = (les["prog"], les["prog2"])  # a lesion's first and second progression
    partial = chunk.p["partial_dx"]
    key_bits = np.left_shift(np.uint16(1), V.ORGAN_KEY[les["organ"]].astype(np.uint16))
    # the latest true diagnosis date behind a partial one: "found at initial staging" fails
    # only when even it is too early (an imputed date deciding it leaves it unverified)
    latest_dx = np.where(partial, month_end(dx), dx)
    sync_limit = add_months(dx, p.synchronous_months)
    sync_lo_limit = add_months(month_start(dx), p.synchronous_months)
    sync_hi_limit = add_months(month_end(dx), p.synchronous_months)
    im_mod, im_date, im_ex = imaging
    mdt_not_treatable, t_ep = chunk.p["mdt_not_treatable"], chunk.p["t_ep"]
    brain_ok = ("brain_mri", "brain_ct") if p.allow_brain_ct else ("brain_mri",)
    is_pet = im_ex & (im_mod == V.IMG["fdg_pet_ct"])
    is_brain = im_ex & np.isin(im_mod, [V.IMG[m] for m in brain_ok])
    for j in range(a.exists.shape[1]):
        ok = a.exists[:, j]
        t = np.where(ok, a["date"][:, j], 0)[:, None]
        g = t + GROUP_SPAN_DAYS
        progressed_since = np.zeros_like(ex)
        progressing = ex & (det >= t) & (det <= g)
        for prog in progs:
            progressed_since |= (prog > treat) & (prog <= t)
            progressing |= ex & (prog >= t) & (prog <= g)
        controlled = (treat < t) & ~progressed_since
        active = ex & (det <= g) & ~(res < t) & ~controlled
        on = on_systemic_therapy(chunk, t[:, 0], p)
        has_prog = progressing.any(axis=1)
        use_prog = on & has_prog
        counted = np.where(use_prog[:, None], progressing & active, active)
        count = counted.sum(axis=1)
        stable = np.where(use_prog, active.sum(axis=1) - count, 0)
        diffuse = (active & les["diffuse"]).any(axis=1)
        state = np.select([diffuse, count > p.max_lesions, count >= 1], [3, 2, 1], 0)
        organs = _n_organs(counted, key_bits)
        if p.max_organs is not None:
            state = np.where((state == 1) & (organs > p.max_organs), 2, state)
        state = np.where(ok, state, -1)
        # synchronous split on calendar months; a partial diagnosis date may make it depend on the day
        sync_at = t[:, 0] <= sync_limit
        depends = partial & ((t[:, 0] <= sync_lo_limit) != (t[:, 0] <= sync_hi_limit))
        family = np.select([prior_poly, prior_omd], [1, 2], 0)
        suffix = np.where(~on, 0, np.where(has_prog, 1, 2))
        omd = np.where(family == 0,
                       np.select([depends, sync_at], [IMPUTED_DATE, SYNCHRONOUS],
                                 np.where(suffix == 2, METACHRONOUS_PERSISTENCE, METACHRONOUS + suffix)),
                       METACHRONOUS + 2 + 3 * (family - 1) + suffix)
        is_oligo = state == 1
        omd = np.where(is_oligo, omd, -1)
        # radical local therapy of every counted lesion within [t - 30, t + lct_window_days]
        in_window = (treat >= t - p.lct_before_days) & (treat <= t + p.lct_window_days)
        all_treated = is_oligo & ~(counted & ~in_window).any(axis=1)
        # EORTC-LCG 2019 on synchronous episodes: first failing criterion
        lo, hi = t - p.staging_imaging_before_days, t + p.staging_imaging_after_days
        in_win = (im_date >= lo) & (im_date <= hi)
        has_pet = (in_win & is_pet).any(axis=1)
        has_brain = (in_win & is_brain).any(axis=1)
        # an MDT decision recorded for this episode that judged radical treatment of all
        # sites not feasible fails the definition (docs/clinical-rules.md section 4: unverifiable only unless
        # an MDT decision is recorded); the generator's decisions are about the episode t_ep
        not_treatable = mdt_not_treatable & (t[:, 0] == t_ep)
        failed = np.select(
            [t[:, 0] > latest_dx + p.staging_window_after_days,
             (count > p.eortc_max_lesions) | (organs > p.eortc_max_organs),
             diffuse, ~has_pet, ~has_brain, not_treatable],
            [0, 1, 2, 3, 4, 5], -1)
        is_sync = omd == SYNCHRONOUS
        out["eortc"].append(np.where(is_sync, (failed < 0).astype(np.int64), -1))
        out["eortc_failed"].append(np.where(is_sync, failed, -1))
        out["state"].append(state)
        out["n_lesions"].append(np.where(ok, count, 0))
        out["n_organs"].append(np.where(ok, organs, 0))
        out["n_stable"].append(stable)
        out["on_therapy"].append(on & ok)
        out["has_progression"].append(has_prog & ok)
        out["omd_state"].append(omd)
        classified = is_oligo & (omd != IMPUTED_DATE) & (omd != METACHRONOUS_PERSISTENCE)
        out["family"].append(np.where(classified, family, -1))
        out["all_sites_treated"].append(all_treated)
        out["months"].append(np.where(ok, (t[:, 0] - dx) / p.days_per_month, np.nan))
        prior_poly |= ok & ((state == 2) | (state == 3))
        prior_omd |= ok & is_oligo
    return {k: np.stack(v, axis=1) for k, v in out.items()}

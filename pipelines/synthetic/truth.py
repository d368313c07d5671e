"""The intended ESTRO/EORTC state of each planned assessment, derived from the journey arrays
with the rules of `clinical-rules.md` sections 2-4, so the truth is what a correct classifier
must find in the rows written (not merely what the scenario aimed at).

Sources: Guckenberger M et al., ESTRO/EORTC 2020, Lancet Oncol 2020;21:e18-e28 (the tree);
Dingemans AC et al., EORTC-LCG 2019, J Thorac Oncol 2019;14:2109-2119 (the synchronous NSCLC
flag). Parameters are those of `ClinicalParameters` (defaults of the spec).
"""

from __future__ import annotations

import numpy as np

from pipelines.clinical.parameters import DEFAULT_PARAMETERS, ClinicalParameters
from pipelines.synthetic import vocab as V
from pipelines.synthetic.calendar import add_months, month_end, month_start
from pipelines.synthetic.journeys import Chunk

KINDS = np.array(["detection", "progression", "treatment_decision"])
# detections of one group lie within 21 days of its first; 30 keeps well inside grouping_days
GROUP_SPAN_DAYS = 30


def on_systemic_therapy(chunk: Chunk, t: np.ndarray, p: ClinicalParameters) -> np.ndarray:
    """Antineoplastic drug started before t and ended no more than systemic_gap_days before."""
    d = chunk.drugs
    anti = d.exists & (d["drug"] >= 0) & V.DRUG_ANTINEOPLASTIC[np.maximum(d["drug"], 0)]
    return (anti & (d["start"] < t[:, None]) & (d["end"] >= t[:, None] - p.systemic_gap_days)).any(axis=1)


def _n_organs(mask: np.ndarray, organ: np.ndarray) -> np.ndarray:
    keys = V.ORGAN_KEY[organ]
    return sum(((keys == k) & mask).any(axis=1).astype(np.int64) for k in range(V.N_ORGAN_KEYS))


def derive_truth(chunk: Chunk, imaging, p: ClinicalParameters = DEFAULT_PARAMETERS) -> dict[str, np.ndarray]:
    """Arrays of shape (n, 3), one column per planned assessment."""
    les, a = chunk.lesions, chunk.assessments
    n = chunk.n
    dx = chunk.p["dx"]
    out = {k: [] for k in ("state", "n_lesions", "n_organs", "n_stable", "on_therapy",
                           "has_progression", "omd_state", "family", "all_sites_treated",
                           "eortc", "eortc_failed", "months")}
    prior_poly = np.zeros(n, dtype=bool)
    prior_omd = np.zeros(n, dtype=bool)
    ex, det, res, treat, prog = les.exists, les["det"], les["res"], les["treat"], les["prog"]
    for j in range(a.exists.shape[1]):
        ok = a.exists[:, j]
        t = np.where(ok, a["date"][:, j], 0)[:, None]
        g = t + GROUP_SPAN_DAYS
        controlled = (treat < t) & ~((prog > treat) & (prog <= t))
        active = ex & (det <= g) & ~(res < t) & ~controlled
        progressing = ex & (((det >= t) & (det <= g)) | ((prog >= t) & (prog <= g)))
        on = on_systemic_therapy(chunk, t[:, 0], p)
        has_prog = progressing.any(axis=1)
        use_prog = on & has_prog
        counted = np.where(use_prog[:, None], progressing & active, active)
        count = counted.sum(axis=1)
        stable = np.where(use_prog, active.sum(axis=1) - count, 0)
        diffuse = (active & les["diffuse"]).any(axis=1)
        state = np.select([diffuse, count > p.max_lesions, count >= 1], ["not_omd_diffuse", "poly", "oligo"], "none")
        organs = _n_organs(counted, les["organ"])
        if p.max_organs is not None:
            state = np.where((state == "oligo") & (organs > p.max_organs), "poly", state)
        state = np.where(ok, state, "")
        # synchronous split on calendar months; a partial diagnosis date may make it depend on the day
        sync_at = t[:, 0] <= add_months(dx, p.synchronous_months)
        partial = chunk.p["partial_dx"]
        sync_lo = t[:, 0] <= add_months(month_start(dx), p.synchronous_months)
        sync_hi = t[:, 0] <= add_months(month_end(dx), p.synchronous_months)
        depends = partial & (sync_lo != sync_hi)
        family = np.select([prior_poly, prior_omd], ["induced", "repeat"], "de_novo")
        suffix = np.where(~on, "oligorecurrence", np.where(has_prog, "oligoprogression", "oligopersistence"))
        omd = np.where(family == "de_novo",
                       np.select([depends, sync_at], ["unclassifiable_imputed_date", "synchronous_omd"],
                                 np.where(suffix == "oligopersistence", "unclassifiable_metachronous_persistence",
                                          np.char.add("metachronous_", suffix))),
                       np.char.add(np.char.add(family, "_"), suffix))
        is_oligo = state == "oligo"
        omd = np.where(is_oligo, omd, "")
        # radical local therapy of every counted lesion within [t - 30, t + lct_window_days]
        in_window = (treat >= t - p.lct_before_days) & (treat <= t + p.lct_window_days)
        all_treated = is_oligo & ~(counted & ~in_window).any(axis=1)
        # EORTC-LCG 2019 on synchronous episodes: first failing criterion
        imputed_dx = np.where(partial, month_start(dx) + 14, dx)
        lo, hi = t[:, 0] - p.staging_imaging_before_days, t[:, 0] + p.staging_imaging_after_days
        im_mod, im_date, im_ex = imaging
        in_win = im_ex & (im_date >= lo[:, None]) & (im_date <= hi[:, None])
        has_pet = (in_win & (im_mod == V.IMG["fdg_pet_ct"])).any(axis=1)
        brain_ok = ("brain_mri", "brain_ct") if p.allow_brain_ct else ("brain_mri",)
        has_brain = (in_win & np.isin(im_mod, [V.IMG[m] for m in brain_ok])).any(axis=1)
        failed = np.select(
            [t[:, 0] > imputed_dx + p.staging_window_after_days,
             (count > p.eortc_max_lesions) | (organs > p.eortc_max_organs),
             diffuse, ~has_pet, ~has_brain],
            ["initial_staging", "lesion_organ_count", "diffuse_disease", "fdg_pet_ct", "brain_mri"], "")
        is_sync = omd == "synchronous_omd"
        out["eortc"].append(np.where(is_sync, np.where(failed == "", "true", "false"), ""))
        out["eortc_failed"].append(np.where(is_sync, failed, ""))
        out["state"].append(state)
        out["n_lesions"].append(np.where(ok, count, 0))
        out["n_organs"].append(np.where(ok, organs, 0))
        out["n_stable"].append(stable)
        out["on_therapy"].append(on & ok)
        out["has_progression"].append(has_prog & ok)
        out["omd_state"].append(omd)
        out["family"].append(np.where(is_oligo & ~np.char.startswith(omd, "unclassifiable"), family, ""))
        out["all_sites_treated"].append(all_treated)
        out["months"].append(np.where(ok, (t[:, 0] - dx) / p.days_per_month, np.nan))
        prior_poly |= ok & np.isin(state, ("poly", "not_omd_diffuse"))
        prior_omd |= ok & is_oligo
    return {k: np.stack(v, axis=1) for k, v in out.items()}

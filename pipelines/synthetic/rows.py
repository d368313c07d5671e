"""Contract tables (typed Polars frames, contract column order) from the journey arrays.

Row order is patient order then slot order, so a chunk's rows depend only on its patients.
Ids are plain registry-style ids derived from the patient number and the slot
(`P0000001`, `P0000001-T1`, `P0000001-M03`, `P0000001-I12`, ...).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.contract.tables import TABLES_BY_NAME
from pipelines.synthetic import vocab as V
from pipelines.synthetic.calendar import NEVER
from pipelines.synthetic.draws import Draws, choice, randint
from pipelines.synthetic.journeys import F0, PNEUMONITIS_P, PROCEDURES, Chunk, Slots

ID_DIGITS = 7


def patient_ids(numbers: np.ndarray) -> pl.Series:
    return pl.select(pl.lit("P") + pl.lit(pl.Series(numbers)).cast(pl.String).str.zfill(ID_DIGITS)).to_series()


def _masked(values, missing: np.ndarray) -> pl.Series:
    s = pl.Series(values)
    return s.zip_with(pl.Series(~np.asarray(missing)), pl.Series([None] * len(s), dtype=s.dtype))


def _dates(days: np.ndarray) -> pl.Series:
    days = np.asarray(days)
    return _masked(np.where(days >= NEVER, 0, days).astype(np.int32), days >= NEVER).cast(pl.Date)


def _flat(s: Slots, pids: pl.Series, fields: dict[str, np.ndarray]) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """Rows of the existing slots: patient index, slot index and the chosen fields."""
    pi, si = np.nonzero(s.exists)
    data = {"patient_id": pids.gather(pi), "slot": pl.Series(si + 1)}
    for name, arr in fields.items():
        v = arr[pi, si]
        data[name] = _dates(v) if name.endswith("_date") and v.dtype.kind in "iu" else pl.Series(v)
    return pl.DataFrame(data), pi, si


def _key(df: pl.DataFrame, prefix: str, width: int = 2, col: str = "slot") -> pl.Expr:
    return pl.col("patient_id") + f"-{prefix}" + pl.col(col).cast(pl.String).str.zfill(width)


def _finish(name: str, df: pl.DataFrame) -> pl.DataFrame:
    t = TABLES_BY_NAME[name]
    return df.select([pl.col(c) if c in df.columns else pl.lit(None, pl.String).alias(c) for c in t.column_names])


def _codes(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=object)[idx]


def imaging_slots(chunk: Chunk, draws: Draws) -> Slots:
    """Staging, detection and follow-up exams: modality, date, purpose, response."""
    p, les = chunk.p, chunk.lesions
    n, dx, t1, end = chunk.n, p["dx"], p["t1"], p["end"]
    cols_date, cols_mod, cols_purpose, cols_resp = [], [], [], []

    def add(date, modality, purpose, response, keep):
        cols_date.append(np.where(keep & (date <= end), date, NEVER))
        cols_mod.append(np.broadcast_to(np.asarray(modality, dtype=object), (n,)))
        cols_purpose.append(np.broadcast_to(np.asarray(purpose, dtype=object), (n,)))
        resp = np.broadcast_to(np.asarray("" if response is None else response, dtype=object), (n,))
        cols_resp.append(np.where(resp == None, "", resp).astype(str))  # noqa: E711

    io = (p["l1"] >= 0) & V.REGIMEN_HAS_ANTI_PD1[np.maximum(p["l1"], 0)]
    # staging at diagnosis (CT always) and the EORTC-LCG exams around the index episode
    add(dx - randint(draws.u(), 0, 20), "ct", "staging", None, np.ones(n, bool))
    profile = choice(draws.u(), (0.62, 0.13, 0.10, 0.08, 0.07))  # complete, brain CT, PET early, no PET, no brain
    meta_or_none = p["meta"] | (t1 >= NEVER)
    anchor = np.where(meta_or_none | (t1 > dx + 45), dx, t1)
    pet_day = np.where(profile == 2, anchor - randint(draws.u(), 75, 120), anchor - randint(draws.u(), 0, 25))
    add(pet_day, "fdg_pet_ct", "staging", None, np.where(meta_or_none, draws.u() < 0.6, profile != 3))
    brain_day = anchor - randint(draws.u(), 0, 20)
    keep_brain = np.where(meta_or_none, draws.u() < 0.5, profile != 4)
    add(brain_day, "brain_mri", "staging", None, keep_brain & (profile != 1))
    add(brain_day, "brain_ct", "staging", None, keep_brain & (profile == 1))
    # one exam for each lesion detection (its detection modality)
    mod = V.ORGAN_MODALITY[les["organ"]]
    first_of_day = les.exists & (les["det"] < NEVER)
    for j in range(les.exists.shape[1]):
        add(les["det"][:, j], mod[:, j], "staging" if j < F0 else "response",
            None if j < F0 else np.where(io, "iCPD", "PD"), first_of_day[:, j])
    # progression events without a new lesion, and the treatment decisions: a CT that day
    a = chunk.assessments
    for j in (1, 2):
        add(a["date"][:, j], "ct", "response", np.where(a["kind"][:, j] == 1, np.where(io, "iCPD", "PD"), None),
            a.exists[:, j] & (a["kind"][:, j] >= 1))
    # follow-up every ~3 months from the first metastatic event (else from diagnosis), with gaps
    start = np.where(t1 < NEVER, t1, dx)
    gap_patient = draws.u() < 0.06
    jitter = randint(draws.u(24), -14, 14)
    skip = draws.u(24) < 0.12
    mod_u = draws.u(24)
    resp_u = draws.u(24)
    brain_fu = np.where(p["has_brain"], 0.3, 0.08)
    for j in range(24):
        date = start + 91 * (j + 1) + jitter[:, j]
        keep = ~skip[:, j] & ~(gap_patient & (j >= 2) & (j <= 5)) & (date < end)
        modality = np.where(mod_u[:, j] < brain_fu, "brain_mri", np.where(mod_u[:, j] > 0.9, "fdg_pet_ct", "ct"))
        r = choice(resp_u[:, j], (0.5, 0.3, 0.1, 0.1))  # SD PR CR none
        response = np.where(r == 3, None, np.where(io, np.array(["iSD", "iPR", "iCR", ""])[r], np.array(["SD", "PR", "CR", ""])[r]))
        add(date, modality, np.where(t1 < NEVER, "response", "surveillance"), response, keep)
    # an unconfirmed immunotherapy progression (iUPD not followed by iCPD)
    tu = p["t_last"] + randint(draws.u(), 70, 110)
    t_next = np.minimum(p["t2"], end)
    treated = les["treat"] < NEVER
    candidate = les.exists & ~treated & (les["det"] < p["t_last"][:, None]) & (les["res"] >= NEVER)
    iupd = io & candidate.any(axis=1) & (tu + 60 < t_next) & (draws.u() < 0.08) & (p["t1"] < NEVER)
    p["iupd"], p["tu"], p["iupd_slot"] = iupd, tu, np.argmax(candidate, axis=1)
    add(tu, "ct", "response", "iUPD", iupd)
    add(tu + randint(draws.u(), 28, 56), "ct", "response", "iSD", iupd)
    date = np.stack(cols_date, axis=1)
    return Slots(date < NEVER, {"date": date, "modality": np.stack(cols_mod, axis=1).astype(str),
                                "purpose": np.stack(cols_purpose, axis=1).astype(str),
                                "response": np.stack(cols_resp, axis=1)})


def patients(chunk: Chunk, pids: pl.Series) -> pl.DataFrame:
    p = chunk.p
    dead = p["dead"]
    vital = np.where(dead, "dead", np.where(p["vital_unknown"], "unknown", "alive"))
    return _finish("patients", pl.DataFrame({
        "patient_id": pids,
        "sex": _codes(("F", "M", "X", "U"), p["sex"]),
        "birth_year": p["birth_year"],
        "center_id": V.CENTRES[p["centre"]],
        "smoking_status": _codes(("never", "former", "current", "unknown"), p["smoking"]),
        "pack_years": _masked(p["pack_years"], ~p["pack_years_known"]),
        "vital_status": vital,
        "death_date": _dates(p["death"]),
        "last_contact_date": _dates(p["end"]),
    }))


STAGES = ("IA", "IIB", "IIIA", "IVA")


def primary_tumors(chunk: Chunk, pids: pl.Series, lesions: Slots) -> tuple[pl.DataFrame, pl.Series]:
    p = chunk.p
    n = chunk.n
    stage = p["stage"]
    lung_only = (lesions.exists & np.isin(V.ORGAN_NAME[lesions["organ"]], ("lung", "pleura"))).sum(axis=1)
    n_les = (lesions.exists & (lesions["det"] <= p["dx"][:, None] + 60)).sum(axis=1)
    m_cat = np.select([stage < 3, lung_only == n_les, n_les == 1], ["cM0", "cM1a", "cM1b"], "cM1c")
    stage_group = np.where(stage < 3, np.array(STAGES)[np.minimum(stage, 2)],
                           np.where(m_cat == "cM1c", "IVB", "IVA"))
    n_cat = np.array(["cN0", "cN1", "cN2", "cN3"])[np.select([stage == 0, stage == 1], [0, 1],
                                                            2 + (p["number"] % 2))]
    drv = p["driver"]
    tested = p["driver_tested"]

    def biomarker(k):
        return np.where(~tested, "not_tested", np.where(drv == k, "positive", "negative"))

    pdl1 = _masked(p["pdl1"], p["pdl1"] < 0)
    ecog = _masked(p["ecog"], ~p["ecog_known"])
    df1 = pl.DataFrame({
        "tumor_id": pids + "-T1", "patient_id": pids, "diagnosis_date": _dates(p["dx"]),
        "topography_code": V.TOPOGRAPHY[p["topography"]],
        "morphology_code": V.HISTOLOGY_CODE[p["histology"]],
        "laterality": _codes(("left", "right", "unknown"), p["laterality"]),
        "tnm_edition": _masked(np.full(n, 8), p["number"] % 5 == 0),
        "clinical_t": np.array(["cT1c", "cT2a", "cT2b", "cT3", "cT4"])[p["number"] % 5],
        "clinical_n": n_cat, "clinical_m": m_cat, "stage_group": stage_group,
        "ecog_at_diagnosis": ecog,
        "egfr": biomarker(0), "alk": biomarker(1), "ros1": biomarker(2), "kras_g12c": biomarker(3),
        "braf_v600e": biomarker(4), "met_ex14": biomarker(5), "ret": biomarker(6),
        "pdl1_tps_percent": pdl1, "_order": np.arange(n) * 2, "partial": p["partial_dx"],
    })
    two = p["two_primaries"]
    df2 = pl.DataFrame({
        "tumor_id": pids.filter(two) + "-T2", "patient_id": pids.filter(two),
        "diagnosis_date": _dates(p["dx2"][two]), "topography_code": np.full(two.sum(), "C34.1"),
        "morphology_code": np.full(two.sum(), "8140/3"),
        "laterality": np.full(two.sum(), "right"),
        "clinical_t": np.full(two.sum(), "cT1b"), "clinical_n": np.full(two.sum(), "cN0"),
        "clinical_m": np.full(two.sum(), "cM0"), "stage_group": np.full(two.sum(), "IA"),
        "_order": np.flatnonzero(two) * 2 + 1, "partial": np.zeros(two.sum(), bool),
    })
    df = pl.concat([df1, df2], how="diagonal_relaxed").sort("_order")
    return _finish("primary_tumors", df), df["partial"]


def metastases(chunk: Chunk, pids: pl.Series, draws: Draws) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Lesion rows (metastases and regional nodes) and the partial-date flags by row."""
    les, p = chunk.lesions, chunk.p
    n = chunk.n
    organ = les["organ"]
    lat_u = draws.u(les.exists.shape[1])
    contra = np.where(p["laterality"] == 0, "right", "left")[:, None]
    lat = np.where(V.ORGAN_NAME[organ] == "lung", contra,
                   np.where(np.isin(V.ORGAN_NAME[organ], ("adrenal", "pleura")),
                            np.where(lat_u < 0.5, "left", "right"),
                            np.where(lat_u < 0.3, "midline", "")))
    no_tumor = p["two_primaries"][:, None] | (draws.u(les.exists.shape[1]) < 0.1)
    biopsy = np.where(draws.u(les.exists.shape[1]) < 0.3, "true", np.where(lat_u < 0.1, "false", ""))
    df, pi, si = _flat(les, pids, {
        "organ_idx": organ, "detected_date": les["det"], "resolved_date": les["res"],
        "is_diffuse": les["diffuse"], "lat": lat, "no_tumor": no_tumor, "biopsy": biopsy,
        "partial": les["partial"],
    })
    df = df.with_columns(
        lesion_id=_key(df, "M"),
        tumor_id=pl.when(pl.col("no_tumor")).then(None).otherwise(pl.col("patient_id") + "-T1"),
        organ=pl.Series(V.ORGAN_NAME[df["organ_idx"].to_numpy()]),
        site_code=pl.Series(V.ORGAN_SITE[df["organ_idx"].to_numpy()]),
        laterality=pl.col("lat").replace("", None),
        detection_modality=pl.Series(V.ORGAN_MODALITY[df["organ_idx"].to_numpy()]),
        biopsy_confirmed=pl.col("biopsy").replace_strict({"true": True, "false": False}, default=None, return_dtype=pl.Boolean),
        is_diffuse=pl.when(pl.col("is_diffuse")).then(True).otherwise(None),
        _order=pl.Series(pi * 2).cast(pl.Int64), _slot=pl.Series(si),
    )
    # regional nodes at diagnosis (N2-N3, metastatic at diagnosis): accepted, never counted
    reg = (p["stage"] == 3) & (p["t1"] < NEVER) & (p["number"] % 2 == 1) & (draws.u() < 0.8)
    reg &= p["dx"] <= p["end"]
    reg_df = pl.DataFrame({
        "lesion_id": pids.filter(reg) + "-N1", "patient_id": pids.filter(reg),
        "tumor_id": pids.filter(reg) + "-T1", "organ": np.full(reg.sum(), "regional_lymph_node"),
        "site_code": np.full(reg.sum(), V.REGIONAL_NODE_SITE),
        "detected_date": _dates(p["dx"][reg] - 3), "detection_modality": np.full(reg.sum(), "fdg_pet_ct"),
        "partial": np.zeros(reg.sum(), bool), "_order": np.flatnonzero(reg) * 2 + 1, "_slot": np.full(reg.sum(), -1),
    })
    _ = n
    df = pl.concat([df, reg_df], how="diagonal_relaxed").sort("_order", "_slot")
    return _finish("metastases", df), df.select("partial")


def imaging(chunk: Chunk, pids: pl.Series, im: Slots) -> pl.DataFrame:
    df, _, _ = _flat(im, pids, {"exam_date": im["date"], "modality": im["modality"],
                                "purpose": im["purpose"], "response": im["response"]})
    df = df.with_columns(exam_id=_key(df, "I"), response=pl.col("response").replace("", None))
    return _finish("imaging", df)


def disease_events(chunk: Chunk, pids: pl.Series, draws: Draws) -> pl.DataFrame:
    les, p = chunk.lesions, chunk.p
    n = chunk.n
    prog = les["prog"]
    # one slot per lesion progression (confirmed), one unconfirmed, one regional progression
    L = les.exists.shape[1]
    date = np.concatenate([np.where(les.exists & (prog < NEVER), prog, NEVER),
                           np.where(p["iupd"], p["tu"], NEVER)[:, None],
                           np.full((n, 1), NEVER)], axis=1)
    reg = (p["scenario"] == 9) & (draws.u() < 0.08)
    reg_day = p["dx"] + randint(draws.u(), 200, 1200)
    date[:, -1] = np.where(reg & (reg_day <= p["end"]), reg_day, NEVER)
    lesion_slot = np.concatenate([np.broadcast_to(np.arange(L), (n, L)), p["iupd_slot"][:, None],
                                  np.full((n, 1), -1)], axis=1)
    etype = np.concatenate([np.full((n, L), "lesion_progression"), np.full((n, 1), "lesion_progression"),
                            np.full((n, 1), "regional_progression")], axis=1)
    confirmed = np.concatenate([np.where(draws.u(L) < 0.5, "true", ""), np.full((n, 1), "false"),
                                np.full((n, 1), "")], axis=1)
    s = Slots(date < NEVER, {})
    df, _, _ = _flat(s, pids, {"event_date": date, "lesion_slot": lesion_slot, "event_type": etype,
                               "confirmed": confirmed})
    df = df.with_columns(
        event_id=_key(df, "E"),
        lesion_id=pl.when(pl.col("lesion_slot") >= 0).then(
            pl.col("patient_id") + "-M" + (pl.col("lesion_slot") + 1).cast(pl.String).str.zfill(2)),
        basis=pl.lit("imaging"),
        confirmed=pl.col("confirmed").replace_strict({"true": True, "false": False}, default=None, return_dtype=pl.Boolean),
    )
    return _finish("disease_events", df)


def local_therapy(chunk: Chunk, pids: pl.Series, draws: Draws) -> tuple[pl.DataFrame, pl.DataFrame, np.ndarray]:
    """Radiotherapy rows and local procedures; also the (n,) mask of thoracic RT courses with
    their start day, for the pneumonitis effect."""
    les, p = chunk.lesions, chunk.p
    n = chunk.n
    L = les.exists.shape[1]
    treated = les.exists & (les["treat"] < NEVER)
    by_rt = treated & (les["procedure"] < 0)
    scheme = les["scheme"]
    tech_missing = draws.u(L) < 0.1
    intent_u = draws.u(L)
    iso = draws.u(L) < 0.05
    # lesion courses: one course per lesion (course R02.., phase 1)
    rt_rows = {
        "course": np.broadcast_to(np.arange(L) + 2, (n, L)), "target_slot": np.broadcast_to(np.arange(L), (n, L)),
        "phase": np.ones((n, L), dtype=np.int64), "start_date": les["treat"],
        "end_date": les["treat"] + (V.SCHEME_FRACTIONS[scheme] - 1) * 2,
        "total_dose_gy": V.SCHEME_DOSE[scheme], "fractions": V.SCHEME_FRACTIONS[scheme],
        "technique": np.where(tech_missing, "", V.SCHEME_TECHNIQUE[scheme]),
        "intent": np.where(intent_u < 0.2, "", np.where(intent_u < 0.6, "ablative", "consolidative")),
        "dose_reference": np.where(iso, "isocenter", ""), "exists": by_rt,
    }
    # the primary (and regional nodes): stage I-III treatment, or consolidation of all sites
    pm = p["prim_mode"]
    arm_all = (p["arm"] == 1) & p["sync"]
    lct_prim = arm_all | ((p["arm"] == 2) & p["sync"] & (draws.u() < 0.5))
    mode_sync = choice(draws.u(), (0.45, 0.25, 0.30))  # crt, surgery, sbrt
    prim_mode = np.where(lct_prim, np.array([2, 1, 0])[mode_sync], pm)
    prim_day = np.where(lct_prim, p["t1"] + randint(draws.u(), 40, 110), p["prim_t"])
    prim_day = np.where(prim_day <= p["end"], prim_day, NEVER)
    boost = draws.u() < 0.15
    nodes = (prim_mode == 2) & (p["number"] % 3 != 0)
    crt = prim_mode == 2
    sbrt = prim_mode == 0
    pr = {
        "course": np.ones((n, 3), dtype=np.int64), "target_slot": np.array([-1, -1, -2])[None, :].repeat(n, 0),
        "phase": np.array([1, 2, 1])[None, :].repeat(n, 0),
        "start_date": np.stack([prim_day, prim_day + 35, prim_day], axis=1),
        "end_date": np.stack([prim_day + np.where(sbrt, 6, np.where(boost, 34, 41)), prim_day + 41,
                              prim_day + 34], axis=1),
        "total_dose_gy": np.stack([np.where(sbrt, 54.0, np.where(boost, 50.0, 60.0)), np.full(n, 10.0),
                                   np.full(n, 50.0)], axis=1),
        "fractions": np.stack([np.where(sbrt, 3, np.where(boost, 25, 30)), np.full(n, 5), np.full(n, 25)], axis=1),
        "technique": np.stack([np.where(sbrt, "sbrt", "imrt"), np.full(n, "imrt"), np.full(n, "vmat")], axis=1),
        "intent": np.stack([np.where(sbrt, "ablative", "consolidative")] * 3, axis=1),
        "dose_reference": np.full((n, 3), ""),
        "exists": np.stack([(crt | sbrt) & (prim_day < NEVER), crt & boost & (prim_day < NEVER),
                            nodes & (prim_day < NEVER)], axis=1),
    }
    # palliative radiotherapy of one lesion of a polymetastatic patient: never radical
    pal = p["poly"] & les.exists[:, 0] & (draws.u() < 0.3)
    pal_scheme = choice(draws.u(), (0.5, 0.35, 0.15))
    pal_day = np.maximum(p["t1"], p["dx"]) + randint(draws.u(), 5, 60)
    pal &= pal_day <= p["end"]
    pdose = np.array([d for d, _ in V.PALLIATIVE])[pal_scheme]
    pfx = np.array([f for _, f in V.PALLIATIVE])[pal_scheme]
    pa = {
        "course": np.full((n, 1), L + 2), "target_slot": np.zeros((n, 1), dtype=np.int64),
        "phase": np.ones((n, 1), dtype=np.int64), "start_date": pal_day[:, None],
        "end_date": (pal_day + np.maximum(pfx - 1, 0) * 7 // 5)[:, None], "total_dose_gy": pdose[:, None],
        "fractions": pfx[:, None], "technique": np.full((n, 1), "3dcrt"), "intent": np.full((n, 1), "palliative"),
        "dose_reference": np.full((n, 1), ""), "exists": pal[:, None],
    }
    allr = {k: np.concatenate([np.asarray(pr[k]), np.asarray(rt_rows[k]), np.asarray(pa[k])], axis=1) for k in pr}
    allr["end_date"] = np.minimum(allr["end_date"], p["end"][:, None])
    s = Slots(allr.pop("exists") & (allr["start_date"] <= p["end"][:, None]), {})
    rt, _, _ = _flat(s, pids, allr)
    rt = rt.with_columns(
        course_id=_key(rt, "R", col="course"),
        target=pl.when(pl.col("target_slot") == -1).then(pl.lit("primary"))
        .when(pl.col("target_slot") == -2).then(pl.lit("regional_nodes"))
        .otherwise(pl.col("patient_id") + "-M" + (pl.col("target_slot") + 1).cast(pl.String).str.zfill(2)),
        technique=pl.col("technique").replace("", None), intent=pl.col("intent").replace("", None),
        dose_reference=pl.col("dose_reference").replace("", None),
    )
    # procedures: primary surgery and lesion surgery / thermal ablation
    by_proc = treated & (les["procedure"] >= 0)
    prim_surg = (prim_mode == 1) & (prim_day < NEVER)
    proc = {
        "num": np.concatenate([np.zeros((n, 1), dtype=np.int64), np.broadcast_to(np.arange(L) + 1, (n, L))], axis=1),
        "target_slot": np.concatenate([np.full((n, 1), -1), np.broadcast_to(np.arange(L), (n, L))], axis=1),
        "procedure_date": np.concatenate([prim_day[:, None], les["treat"]], axis=1),
        "modality": np.concatenate([np.full((n, 1), "surgery"),
                                    np.asarray(PROCEDURES)[np.maximum(les["procedure"], 0)]], axis=1),
        "intent": np.concatenate([np.full((n, 1), ""), np.where(draws.u(L) < 0.5, "ablative", "")], axis=1),
    }
    s2 = Slots(np.concatenate([prim_surg[:, None], by_proc], axis=1), {})
    lp, _, _ = _flat(s2, pids, proc)
    lp = lp.with_columns(
        procedure_id=_key(lp, "S", col="num"),
        target=pl.when(pl.col("target_slot") == -1).then(pl.lit("primary"))
        .otherwise(pl.col("patient_id") + "-M" + (pl.col("target_slot") + 1).cast(pl.String).str.zfill(2)),
        intent=pl.col("intent").replace("", None),
    )
    # thoracic radiotherapy course for the pneumonitis effect: first lung-lesion course, else primary
    thoracic_lesion = by_rt & V.ORGAN_THORACIC[les["organ"]]
    has_tl = thoracic_lesion.any(axis=1)
    first_tl = np.argmax(thoracic_lesion, axis=1)
    th_course = np.where(has_tl, first_tl + 2, np.where((crt | sbrt) & (prim_day < NEVER), 1, -1))
    th_day = np.where(has_tl, les["treat"][np.arange(n), first_tl], prim_day)
    chunk.p["thoracic_course"], chunk.p["thoracic_day"] = th_course, th_day
    first_rt = np.argmax(by_rt, axis=1)
    chunk.p["lesion_course"] = np.where(by_rt.any(axis=1), first_rt + 2, -1)
    chunk.p["lesion_course_day"] = les["treat"][np.arange(n), first_rt]
    chunk.p["lesion_course_organ"] = V.ORGAN_NAME[les["organ"][np.arange(n), first_rt]]
    chunk.p["crt"] = crt & (prim_day < NEVER)
    chunk.p["prim_day"] = prim_day
    return _finish("radiotherapy", rt), _finish("local_procedures", lp), th_course


def systemic_therapies(chunk: Chunk, pids: pl.Series, draws: Draws) -> pl.DataFrame:
    d, p = chunk.drugs, chunk.p
    n, k = d.exists.shape
    drug = np.maximum(d["drug"], 0)
    old = (draws.u(k) < 0.25) & (V.DRUG_ATC_OLD[drug] != "")
    atc = np.where(old, V.DRUG_ATC_OLD[drug], V.DRUG_ATC[drug])
    atc = np.where(draws.u(k) < 0.05, "", atc)
    line_known = draws.u() < 0.7
    line = np.where(line_known[:, None] & V.DRUG_ANTINEOPLASTIC[drug], d["line"], 0)
    end = d["end"]
    dead_end = p["dead"][:, None] & (end == p["death"][:, None])
    stop_u = draws.u(k)
    reason = np.select(
        [end >= NEVER, dead_end, d["ended_by_progression"], stop_u < 0.1, stop_u < 0.15, stop_u < 0.2],
        ["", "death", "progression", "toxicity", "patient_choice", ""], "completed")
    df, _, _ = _flat(d, pids, {"drug_idx": drug, "atc_code": atc, "start_date": d["start"],
                               "end_date": end, "line_number": line, "stop_reason": reason})
    df = df.with_columns(
        therapy_id=_key(df, "L"),
        drug_name=pl.Series(V.DRUG_NAME[df["drug_idx"].to_numpy()]),
        atc_code=pl.col("atc_code").replace("", None),
        line_number=pl.when(pl.col("line_number") > 0).then(pl.col("line_number")),
        stop_reason=pl.col("stop_reason").replace("", None),
    )
    return _finish("systemic_therapies", df)


def toxicities(chunk: Chunk, pids: pl.Series, draws: Draws) -> pl.DataFrame:
    """Pneumonitis after thoracic RT (more with an anti-PD-(L)1 drug), one RT toxicity, one
    toxicity of each systemic line. Grade 5 only in patients who died."""
    p, d = chunk.p, chunk.drugs
    n = chunk.n
    drug = np.maximum(d["drug"], 0)
    anti_pd1 = d.exists & (d["drug"] >= 0) & V.DRUG_ANTI_PD1[drug]
    th_day = p["thoracic_day"]
    io_near = (anti_pd1 & (d["start"] <= th_day[:, None] + 90) & (d["end"] >= th_day[:, None] - 90)).any(axis=1)
    p_pneu = np.where(io_near, PNEUMONITIS_P["anti_pd1"], PNEUMONITIS_P["no_anti_pd1"])
    pneu = (p["thoracic_course"] >= 0) & (draws.u() < p_pneu)
    pneu_day = th_day + randint(draws.u(), 40, 180)
    grade_u = draws.u(4)
    grade = 1 + choice(grade_u, (0.45, 0.35, 0.15, 0.04, 0.01))
    dead = p["dead"]
    rt_tox = (p["lesion_course"] >= 0) & (draws.u() < 0.25)
    rt_day = p["lesion_course_day"] + randint(draws.u(), 5, 120)
    l1_tox = (d.exists[:, 0]) & (draws.u() < 0.3)
    l1_day = d["start"][:, 0] + randint(draws.u(), 14, 120)
    crt_tox = p["crt"] & (draws.u() < 0.35)
    crt_day = p["prim_day"] + randint(draws.u(), 10, 40)
    days = np.stack([pneu_day, rt_day, l1_day, crt_day], axis=1)
    ex = np.stack([pneu, rt_tox, l1_tox, crt_tox], axis=1)
    # grade 5 means the toxicity killed the patient: onset shortly before the death date
    g5 = (grade == 5) & dead[:, None] & ex
    days = np.where(g5, np.maximum(p["death"][:, None] - randint(grade_u, 0, 10), days - 200), days)
    grade = np.where((grade == 5) & ~g5, 4, grade)
    ex &= days <= p["end"][:, None]
    role1 = np.maximum(d["role"][:, 0], 0)
    term = np.stack([np.full(n, "Pneumonitis"),
                     np.vectorize(V.RT_TOXICITY_BY_ORGAN.get, otypes=[object])(p["lesion_course_organ"]),
                     np.asarray([V.SYSTEMIC_TOXICITY[r] for r in V.ROLES], dtype=object)[role1],
                     np.full(n, "Esophagitis")], axis=1)
    course = np.stack([p["thoracic_course"], p["lesion_course"], np.full(n, -1), np.ones(n, dtype=np.int64)], axis=1)
    attribution = np.stack([np.where(io_near & (draws.u() < 0.5), "both", "radiotherapy"),
                            np.full(n, "radiotherapy"), np.full(n, "systemic"), np.full(n, "radiotherapy")], axis=1)
    df, _, _ = _flat(Slots(ex, {}), pids, {"onset_date": days, "ctcae_term": term, "grade": grade,
                                          "course": course, "attribution": attribution})
    df = df.with_columns(
        toxicity_id=_key(df, "X"),
        course_id=pl.when(pl.col("course") >= 0).then(_key(df, "R", col="course")),
        ctcae_version=pl.when(pl.col("slot") % 2 == 0).then(pl.lit("5.0")),
    )
    return _finish("toxicities", df)


def mdt_decisions(chunk: Chunk, pids: pl.Series, draws: Draws) -> pl.DataFrame:
    p = chunk.p
    arm = p["arm"]
    has = (arm > 0) & (draws.u() < 0.5)
    day = p["t_ep"] + randint(draws.u(), 3, 14)
    has &= day <= p["end"]
    treatable = np.where(arm == 1, "true", np.where((arm == 3) & (draws.u() < 0.6), "false", ""))
    decision = np.where(arm == 1, np.where(p["l1"] >= 0, "combined", "radical_local_therapy"),
                        np.where(arm == 2, "combined", "systemic_therapy"))
    df = pl.DataFrame({"patient_id": pids, "decision_date": _dates(day), "t": treatable,
                       "decision": decision}).filter(pl.Series(has))
    df = df.with_columns(
        decision_id=pl.col("patient_id") + "-D1",
        all_sites_radically_treatable=pl.col("t").replace_strict({"true": True, "false": False}, default=None, return_dtype=pl.Boolean),
    )
    return _finish("mdt_decisions", df)

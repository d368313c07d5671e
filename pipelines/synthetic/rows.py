"""Contract tables (typed Polars frames, contract column order) from the journey arrays.

Row order is patient order then slot order, so a chunk's rows depend only on its patients.
Ids are plain registry-style ids derived from the patient number and the slot
(`P0000001`, `P0000001-T1`, `P0000001-M03`, `P0000001-I12`, ...).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

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
    return pl.select(pl.when(pl.lit(pl.Series(~np.asarray(missing)))).then(pl.lit(pl.Series(values)))).to_series()


def _dates(days: np.ndarray) -> pl.Series:
    days = np.asarray(days)
    return _masked(np.where(days >= NEVER, 0, days).astype(np.int32), days >= NEVER).cast(pl.Date)


class Coded(NamedTuple):
    """Small integer codes into `values` (-1: empty), decoded once the rows are known."""
    idx: np.ndarray
    values: tuple


@functools.cache
def _vocabulary(values: tuple) -> pl.Series:
    return pl.Series([*values, None], dtype=pl.String)


def decode(idx: np.ndarray, values) -> pl.Series:
    """Codes -> text in one gather from the vocabulary (-1 -> null)."""
    voc = _vocabulary(tuple(values))
    idx = np.asarray(idx)
    return voc.gather(np.where(idx < 0, len(values), idx).astype(np.uint32))


def _bool_or_null(code: np.ndarray) -> pl.Series:
    """1 -> true, 0 -> false, -1 -> null."""
    code = np.asarray(code)
    return _masked(code == 1, code < 0)


def _flat(s: Slots, pids: pl.Series, fields: dict) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """Rows of the existing slots only: patient index, slot index and the chosen fields
    (numbers and dates gathered, codes decoded after the gather)."""
    flat = np.flatnonzero(s.exists)
    pi, si = np.divmod(flat, s.exists.shape[1])
    data = {"patient_id": pids.gather(pi), "slot": pl.Series(si + 1)}
    for name, arr in fields.items():
        if isinstance(arr, Coded):
            data[name] = decode(_take(arr.idx, flat, pi, si), arr.values)
            continue
        v = _take(arr, flat, pi, si)
        data[name] = _dates(v) if name.endswith("_date") and v.dtype.kind in "iu" else pl.Series(v)
    return pl.DataFrame(data), pi, si


def _flat_parts(parts: list[tuple[np.ndarray, dict]], pids: pl.Series) -> pl.DataFrame:
    """Rows of the existing slots of several slot groups that sit side by side (a patient's
    rows: group after group, slot after slot), gathered group by group: the side-by-side
    arrays are never built. Also `_pi`, the patient index of each row."""
    pis, orders, values = [], [], {}
    offset = 0
    for exists, fields in parts:
        flat = np.flatnonzero(exists)
        pi, si = np.divmod(flat, exists.shape[1])
        pis.append(pi)
        orders.append(pi * 10_000 + offset + si)
        offset += exists.shape[1]
        for name, arr in fields.items():
            raw = arr.idx if isinstance(arr, Coded) else arr
            values.setdefault(name, []).append(_take(raw, flat, pi, si))
    order = np.argsort(np.concatenate(orders), kind="stable")
    pi = np.concatenate(pis)[order]
    data = {"patient_id": pids.gather(pi), "_pi": pl.Series(pi)}
    for name, arr in parts[0][1].items():
        v = np.concatenate(values[name])[order]
        if isinstance(arr, Coded):
            data[name] = decode(v, arr.values)
        else:
            data[name] = _dates(v) if name.endswith("_date") and v.dtype.kind in "iu" else pl.Series(v)
    return pl.DataFrame(data)


def _take(arr: np.ndarray, flat: np.ndarray, pi: np.ndarray, si: np.ndarray) -> np.ndarray:
    """arr[pi, si], cheap for arrays broadcast along one axis."""
    arr = np.asarray(arr)
    if arr.strides[0] == 0:
        return arr[0][si]
    if arr.strides[1] == 0:
        return arr[:, 0][pi]
    return arr.reshape(-1)[flat] if arr.flags.c_contiguous else arr[pi, si]


MAX_SLOT = 999


@functools.cache
def _suffixes(prefix: str, width: int) -> pl.Series:
    return pl.Series([f"-{prefix}{i:0{width}d}" for i in range(MAX_SLOT + 1)])


def _key(df: pl.DataFrame, prefix: str, width: int = 2, col: str = "slot", offset: int = 0) -> pl.Expr:
    """patient id + "-" + prefix + the zero-padded slot number (a gather from a suffix table;
    rows with a negative number are masked by the caller)."""
    return pl.col("patient_id") + pl.lit(_suffixes(prefix, width)).gather((pl.col(col) + offset).clip(0, MAX_SLOT))


def _finish(name: str, df: pl.DataFrame) -> pl.DataFrame:
    t = TABLES_BY_NAME[name]
    return df.select([pl.col(c) if c in df.columns else pl.lit(None, pl.String).alias(c) for c in t.column_names])


def imaging_slots(chunk: Chunk, draws: Draws) -> Slots:
    """Staging, detection and follow-up exams: date, and modality, purpose and response as
    codes into V.IMAGING_MODALITIES, V.EXAM_PURPOSES, V.RESPONSES (-1: no response)."""
    p, les = chunk.p, chunk.lesions
    n, dx, t1, end = chunk.n, p["dx"], p["t1"], p["end"]
    cols_date, cols_mod, cols_purpose, cols_resp = [], [], [], []
    img, resp = V.IMG, V.RESP
    staging, response_, surveillance = 0, 1, 2

    def add(date, modality, purpose, response, keep):
        cols_date.append(np.where(keep & (date <= end), date, NEVER))
        cols_mod.append(np.broadcast_to(np.asarray(modality, dtype=np.int8), (n,)))
        cols_purpose.append(np.broadcast_to(np.asarray(purpose, dtype=np.int8), (n,)))
        cols_resp.append(np.broadcast_to(np.asarray(-1 if response is None else response, dtype=np.int8), (n,)))

    io = (p["l1"] >= 0) & V.REGIMEN_HAS_ANTI_PD1[np.maximum(p["l1"], 0)]
    progression = np.where(io, resp["iCPD"], resp["PD"])
    # staging at diagnosis (CT always) and the EORTC-LCG exams around the index episode
    ct_day = dx - randint(draws.u(), 0, 20)
    add(ct_day, img["ct"], staging, None, np.ones(n, bool))
    profile = choice(draws.u(), (0.62, 0.13, 0.10, 0.08, 0.07))  # complete, brain CT, PET early, no PET, no brain
    meta_or_none = p["meta"] | (t1 >= NEVER)
    anchor = np.where(meta_or_none | (t1 > dx + 45), dx, t1)
    pet_day = np.where(profile == 2, anchor - randint(draws.u(), 75, 120), anchor - randint(draws.u(), 0, 25))
    keep_pet = np.where(meta_or_none, draws.u() < 0.6, profile != 3)
    add(pet_day, img["fdg_pet_ct"], staging, None, keep_pet)
    # regional nodes are seen on a staging exam that exists: this PET-CT when it was done at
    # staging (not the early one), else the staging CT (a node must not bring a PET-CT of its own)
    node_by_pet = keep_pet & (profile != 2) & (pet_day <= end)
    p["node_day"] = np.where(node_by_pet, pet_day, ct_day)
    p["node_modality"] = np.where(node_by_pet, img["fdg_pet_ct"], img["ct"])
    # a node first seen in the grouping window after the episode, on a CT of its own
    # (review_cases.late_regional_nodes); the exam slot is added last so no id moves
    late_node = p.get("late_node", np.zeros(n, dtype=bool))
    p["node_day"] = np.where(late_node, p.get("late_node_day", NEVER), p["node_day"])
    p["node_modality"] = np.where(late_node, img["ct"], p["node_modality"])
    brain_day = anchor - randint(draws.u(), 0, 20)
    keep_brain = np.where(meta_or_none, draws.u() < 0.5, profile != 4)
    add(brain_day, img["brain_mri"], staging, None, keep_brain & (profile != 1))
    add(brain_day, img["brain_ct"], staging, None, keep_brain & (profile == 1))
    # one exam for each lesion detection (its detection modality)
    mod = V.ORGAN_MODALITY_CODE[les["organ"]]
    first_of_day = les.exists & (les["det"] < NEVER)
    for j in range(les.exists.shape[1]):
        add(les["det"][:, j], mod[:, j], staging if j < F0 else response_,
            None if j < F0 else progression, first_of_day[:, j])
    # progression events without a new lesion, and the treatment decisions: a CT that day
    a = chunk.assessments
    for j in (1, 2):
        add(a["date"][:, j], img["ct"], response_, np.where(a["kind"][:, j] == 1, progression, -1),
            a.exists[:, j] & (a["kind"][:, j] >= 1))
    # follow-up every ~3 months from the first metastatic event (else from diagnosis), with gaps
    start = np.where(t1 < NEVER, t1, dx)
    gap_patient = draws.u() < 0.06
    jitter = randint(draws.u(24), -14, 14)
    skip = draws.u(24) < 0.12
    mod_u = draws.u(24)
    resp_u = draws.u(24)
    brain_fu = np.where(p["has_brain"], 0.3, 0.08)
    purpose = np.where(t1 < NEVER, response_, surveillance)
    for j in range(24):
        date = start + 91 * (j + 1) + jitter[:, j]
        keep = ~skip[:, j] & ~(gap_patient & (j >= 2) & (j <= 5)) & (date < end)
        modality = np.where(mod_u[:, j] < brain_fu, img["brain_mri"],
                            np.where(mod_u[:, j] > 0.9, img["fdg_pet_ct"], img["ct"]))
        r = choice(resp_u[:, j], (0.5, 0.3, 0.1, 0.1))  # SD PR CR none
        add(date, modality, purpose, np.where(r == 3, -1, np.where(io, r + 4, r)), keep)
    # an unconfirmed immunotherapy progression (iUPD not followed by iCPD)
    tu = p["t_last"] + randint(draws.u(), 70, 110)
    t_next = np.minimum(p["t2"], end)
    treated = les["treat"] < NEVER
    candidate = les.exists & ~treated & (les["det"] < p["t_last"][:, None]) & (les["res"] >= NEVER)
    iupd = io & candidate.any(axis=1) & (tu + 60 < t_next) & (draws.u() < 0.08) & (p["t1"] < NEVER)
    p["iupd"], p["tu"], p["iupd_slot"] = iupd, tu, np.argmax(candidate, axis=1)
    add(tu, img["ct"], response_, resp["iUPD"], iupd)
    add(tu + randint(draws.u(), 28, 56), img["ct"], response_, resp["iSD"], iupd)
    add(p["node_day"], img["ct"], response_, None, late_node)
    date = np.stack(cols_date, axis=1)
    return Slots(date < NEVER, {"date": date, "modality": np.stack(cols_mod, axis=1),
                                "purpose": np.stack(cols_purpose, axis=1),
                                "response": np.stack(cols_resp, axis=1)})


def patients(chunk: Chunk, pids: pl.Series) -> pl.DataFrame:
    p = chunk.p
    vital = np.where(p["dead"], 0, np.where(p["vital_unknown"], 1, 2))
    return _finish("patients", pl.DataFrame({
        "patient_id": pids,
        "sex": decode(p["sex"], ("F", "M", "X", "U")),
        "birth_year": p["birth_year"],
        "center_id": decode(p["centre"], V.CENTRES),
        "smoking_status": decode(p["smoking"], ("never", "former", "current", "unknown")),
        "pack_years": _masked(p["pack_years"], ~p["pack_years_known"]),
        "vital_status": decode(vital, ("dead", "unknown", "alive")),
        "death_date": _dates(p["death"]),
        "last_contact_date": _dates(p["end"]),
    }))


STAGES = ("IA", "IIB", "IIIA", "IVA", "IVB")
M_CATEGORIES = ("cM0", "cM1a", "cM1b", "cM1c")
BIOMARKER = ("positive", "negative", "not_tested")


def primary_tumors(chunk: Chunk, pids: pl.Series, lesions: Slots) -> tuple[pl.DataFrame, pl.Series]:
    p = chunk.p
    n = chunk.n
    stage = p["stage"]
    lung_only = (lesions.exists & V.ORGAN_LUNG_OR_PLEURA[lesions["organ"]]).sum(axis=1)
    n_les = (lesions.exists & (lesions["det"] <= p["dx"][:, None] + 60)).sum(axis=1)
    m_cat = np.select([stage < 3, lung_only == n_les, n_les == 1], [0, 1, 2], 3)
    stage_group = np.where(stage < 3, np.minimum(stage, 2), np.where(m_cat == 3, 4, 3))
    n_cat = np.select([stage == 0, stage == 1], [0, 1], 2 + (p["number"] % 2))
    drv = p["driver"]
    tested = p["driver_tested"]

    def biomarker(k):
        return decode(np.where(~tested, 2, np.where(drv == k, 0, 1)), BIOMARKER)

    pdl1 = _masked(p["pdl1"], p["pdl1"] < 0)
    ecog = _masked(p["ecog"], ~p["ecog_known"])
    df1 = pl.DataFrame({
        "tumor_id": pids + "-T1", "patient_id": pids, "diagnosis_date": _dates(p["dx"]),
        "topography_code": decode(p["topography"], V.TOPOGRAPHY),
        "morphology_code": decode(p["histology"], V.HISTOLOGY_CODE),
        "laterality": decode(p["laterality"], ("left", "right", "unknown")),
        "tnm_edition": _masked(np.full(n, 8), p["number"] % 5 == 0),
        "clinical_t": decode(p["number"] % 5, ("cT1c", "cT2a", "cT2b", "cT3", "cT4")),
        "clinical_n": decode(n_cat, ("cN0", "cN1", "cN2", "cN3")),
        "clinical_m": decode(m_cat, M_CATEGORIES), "stage_group": decode(stage_group, STAGES),
        "ecog_at_diagnosis": ecog,
        "egfr": biomarker(0), "alk": biomarker(1), "ros1": biomarker(2), "kras_g12c": biomarker(3),
        "braf_v600e": biomarker(4), "met_ex14": biomarker(5), "ret": biomarker(6),
        "pdl1_tps_percent": pdl1, "_order": np.arange(n) * 2, "partial": p["partial_dx"],
    })
    two = p["two_primaries"]
    if not two.any():
        return _finish("primary_tumors", df1), df1["partial"]
    k = int(two.sum())
    df2 = pl.DataFrame({
        "tumor_id": pids.filter(two) + "-T2", "patient_id": pids.filter(two),
        "diagnosis_date": _dates(p["dx2"][two]), "topography_code": pl.repeat("C34.1", k, eager=True),
        "morphology_code": pl.repeat("8140/3", k, eager=True),
        "laterality": pl.repeat("right", k, eager=True),
        "clinical_t": pl.repeat("cT1b", k, eager=True), "clinical_n": pl.repeat("cN0", k, eager=True),
        "clinical_m": pl.repeat("cM0", k, eager=True), "stage_group": pl.repeat("IA", k, eager=True),
        "_order": np.flatnonzero(two) * 2 + 1, "partial": np.zeros(k, bool),
    })
    df = pl.concat([df1, df2], how="diagonal_relaxed").sort("_order")
    return _finish("primary_tumors", df), df["partial"]


# lesion rows: the metastatic lesion slots, then one regional-node slot (organ code N_ORGANS)
ORGAN_OUT = (*V.ORGAN_NAME, "regional_lymph_node")
SITE_OUT = (*V.ORGAN_SITE, V.REGIONAL_NODE_SITE)


def metastases(chunk: Chunk, pids: pl.Series, draws: Draws) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Lesion rows (metastases and regional nodes) and the partial-date flags by row."""
    les, p = chunk.lesions, chunk.p
    n, L = les.exists.shape
    organ = les["organ"]
    lat_u = draws.u(L)
    contra = np.where(p["laterality"] == 0, 1, 0)[:, None]  # right, left
    lat = np.where(V.ORGAN_IS_LUNG[organ], contra,
                   np.where(V.ORGAN_LATERAL[organ], np.where(lat_u < 0.5, 0, 1),
                            np.where(lat_u < 0.3, 2, -1)))
    no_tumor = p["two_primaries"][:, None] | (draws.u(L) < 0.1)
    biopsy = np.where(draws.u(L) < 0.3, 1, np.where(lat_u < 0.1, 0, -1))
    # regional nodes at diagnosis (N2-N3, metastatic at diagnosis): accepted, never counted
    reg = (p["stage"] == 3) & (p["t1"] < NEVER) & (p["number"] % 2 == 1) & (draws.u() < 0.8)
    reg &= p["dx"] <= p["end"]
    reg |= p.get("late_node", np.zeros(n, dtype=bool))
    # each node has the date and modality of its staging exam (rows.imaging_slots): it never
    # shows an exam the imaging table does not hold (the EORTC-LCG check reads both)

    def with_node(lesion_values, node_value):
        return np.concatenate([lesion_values, np.broadcast_to(np.asarray(node_value, lesion_values.dtype), (n, 1))], axis=1)

    organ_out = with_node(organ, len(V.ORGAN_NAME))
    df, pi, si = _flat(Slots(with_node(les.exists, False) | np.pad(reg[:, None], ((0, 0), (L, 0))), {}), pids, {
        "organ": Coded(organ_out, ORGAN_OUT), "site_code": Coded(organ_out, SITE_OUT),
        "detection_modality": Coded(with_node(V.ORGAN_MODALITY_CODE[organ], p["node_modality"][:, None]),
                                    V.IMAGING_MODALITIES),
        "detected_date": with_node(les["det"], p["node_day"][:, None]),
        "resolved_date": with_node(les["res"], NEVER),
        "is_diffuse": with_node(les["diffuse"], False), "laterality": Coded(with_node(lat, -1), V.LATERALITIES),
        "no_tumor": with_node(no_tumor, False), "biopsy": with_node(biopsy, -1),
        "partial": with_node(les["partial"], False),
    })
    node = pl.col("slot") == L + 1
    df = df.with_columns(
        lesion_id=pl.when(node).then(pl.col("patient_id") + "-N1").otherwise(_key(df, "M")),
        tumor_id=pl.when(pl.col("no_tumor")).then(None).otherwise(pl.col("patient_id") + "-T1"),
        biopsy_confirmed=_bool_or_null(df["biopsy"].to_numpy()),
        is_diffuse=pl.when(pl.col("is_diffuse")).then(True).otherwise(None),
    )
    return _finish("metastases", df), df.select("partial")


def imaging(chunk: Chunk, pids: pl.Series, im: Slots) -> pl.DataFrame:
    df, _, _ = _flat(im, pids, {"exam_date": im["date"],
                                "modality": Coded(im["modality"], V.IMAGING_MODALITIES),
                                "purpose": Coded(im["purpose"], V.EXAM_PURPOSES),
                                "response": Coded(im["response"], V.RESPONSES)})
    return _finish("imaging", df.with_columns(exam_id=_key(df, "I")))


def disease_events(chunk: Chunk, pids: pl.Series, draws: Draws) -> pl.DataFrame:
    les, p = chunk.lesions, chunk.p
    n = chunk.n
    prog, prog2 = les["prog"], les["prog2"]
    # one slot per lesion progression (confirmed), one unconfirmed, one regional progression,
    # then one per lesion's second progression (after the others: earlier event ids stay)
    L = les.exists.shape[1]
    date = np.concatenate([np.where(les.exists & (prog < NEVER), prog, NEVER),
                           np.where(p["iupd"], p["tu"], NEVER)[:, None],
                           np.full((n, 1), NEVER),
                           np.where(les.exists & (prog2 < NEVER), prog2, NEVER)], axis=1)
    reg = (p["scenario"] == 9) & (draws.u() < 0.08)
    reg_day = p["dx"] + randint(draws.u(), 200, 1200)
    date[:, L + 1] = np.where(reg & (reg_day <= p["end"]), reg_day, NEVER)
    lesion_slot = np.concatenate([np.broadcast_to(np.arange(L), (n, L)), p["iupd_slot"][:, None],
                                  np.full((n, 1), -1), np.broadcast_to(np.arange(L), (n, L))], axis=1)
    etype = np.zeros((n, 2 * L + 2), dtype=np.int8)
    etype[:, L + 1] = 1
    lesion_confirmed = np.where(draws.u(L) < 0.5, 1, -1)
    confirmed = np.concatenate([lesion_confirmed, np.full((n, 1), 0), np.full((n, 1), -1),
                                lesion_confirmed], axis=1)
    df, _, _ = _flat(Slots(date < NEVER, {}), pids, {
        "event_date": date, "lesion_slot": lesion_slot,
        "event_type": Coded(etype, ("lesion_progression", "regional_progression")), "confirmed": confirmed})
    df = df.with_columns(
        event_id=_key(df, "E"),
        lesion_id=pl.when(pl.col("lesion_slot") >= 0).then(
            _key(df, "M", col="lesion_slot", offset=1)),
        basis=pl.lit("imaging"),
        confirmed=_bool_or_null(df["confirmed"].to_numpy()),
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
    tech = {t: i for i, t in enumerate(V.TECHNIQUES)}
    ablative, consolidative, palliative = 0, 1, 2
    # lesion courses: one course per lesion (course R02.., phase 1)
    rt_rows = {
        "course": np.broadcast_to(np.arange(L) + 2, (n, L)), "target_slot": np.broadcast_to(np.arange(L), (n, L)),
        "phase": np.ones((n, L), dtype=np.int64), "start_date": les["treat"],
        "end_date": les["treat"] + (V.SCHEME_FRACTIONS[scheme] - 1) * 2,
        "total_dose_gy": V.SCHEME_DOSE[scheme], "fractions": V.SCHEME_FRACTIONS[scheme],
        "technique": np.where(tech_missing, -1, V.SCHEME_TECHNIQUE_CODE[scheme]),
        "intent": np.where(intent_u < 0.2, -1, np.where(intent_u < 0.6, ablative, consolidative)),
        "dose_reference": np.where(iso, 0, -1), "exists": by_rt,
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
        "technique": np.stack([np.where(sbrt, tech["sbrt"], tech["imrt"]), np.full(n, tech["imrt"]),
                               np.full(n, tech["vmat"])], axis=1),
        "intent": np.stack([np.where(sbrt, ablative, consolidative)] * 3, axis=1),
        "dose_reference": np.full((n, 3), -1),
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
        "fractions": pfx[:, None], "technique": np.full((n, 1), tech["3dcrt"]),
        "intent": np.full((n, 1), palliative), "dose_reference": np.full((n, 1), -1), "exists": pal[:, None],
    }
    vocabularies = {"technique": V.TECHNIQUES, "intent": V.RT_INTENTS, "dose_reference": ("isocenter",)}
    parts = []
    for part in (pr, rt_rows, pa):
        exists = part.pop("exists") & (np.asarray(part["start_date"]) <= p["end"][:, None])
        parts.append((exists, {k: Coded(v, vocabularies[k]) if k in vocabularies else v for k, v in part.items()}))
    rt = _flat_parts(parts, pids)
    rt = rt.with_columns(pl.min_horizontal("end_date", pl.Series(_dates(p["end"])).gather(rt["_pi"])))
    rt = rt.with_columns(
        course_id=_key(rt, "R", col="course"),
        target=pl.when(pl.col("target_slot") == -1).then(pl.lit("primary"))
        .when(pl.col("target_slot") == -2).then(pl.lit("regional_nodes"))
        .otherwise(_key(rt, "M", col="target_slot", offset=1)),
    )
    # procedures: primary surgery and lesion surgery / thermal ablation
    by_proc = treated & (les["procedure"] >= 0)
    prim_surg = (prim_mode == 1) & (prim_day < NEVER)
    proc = {
        "num": np.concatenate([np.zeros((n, 1), dtype=np.int64), np.broadcast_to(np.arange(L) + 1, (n, L))], axis=1),
        "target_slot": np.concatenate([np.full((n, 1), -1), np.broadcast_to(np.arange(L), (n, L))], axis=1),
        "procedure_date": np.concatenate([prim_day[:, None], les["treat"]], axis=1),
        "modality": Coded(np.concatenate([np.full((n, 1), PROCEDURES.index("surgery")),
                                          np.maximum(les["procedure"], 0)], axis=1), PROCEDURES),
        "intent": Coded(np.concatenate([np.full((n, 1), -1), np.where(draws.u(L) < 0.5, 0, -1)], axis=1),
                        ("ablative",)),
    }
    s2 = Slots(np.concatenate([prim_surg[:, None], by_proc], axis=1), {})
    lp, _, _ = _flat(s2, pids, proc)
    lp = lp.with_columns(
        procedure_id=_key(lp, "S", col="num"),
        target=pl.when(pl.col("target_slot") == -1).then(pl.lit("primary"))
        .otherwise(_key(lp, "M", col="target_slot", offset=1)),
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
    chunk.p["lesion_course_organ"] = les["organ"][np.arange(n), first_rt]
    chunk.p["crt"] = crt & (prim_day < NEVER)
    chunk.p["prim_day"] = prim_day
    return _finish("radiotherapy", rt), _finish("local_procedures", lp), th_course


STOP_REASONS_OUT = ("death", "progression", "toxicity", "patient_choice", "completed")


def systemic_therapies(chunk: Chunk, pids: pl.Series, draws: Draws) -> pl.DataFrame:
    d, p = chunk.drugs, chunk.p
    n, k = d.exists.shape
    drug = np.maximum(d["drug"], 0)
    n_drugs = len(V.DRUG_ATC)
    old = (draws.u(k) < 0.25) & (V.DRUG_ATC_OLD[drug] != "")
    atc = np.where(old, n_drugs + drug, drug)  # codes into current + pre-2022 ATC
    atc = np.where(draws.u(k) < 0.05, -1, atc)
    atc = np.where(np.isin(drug, V.NAME_ONLY_DRUGS), -1, atc)  # known by name only
    line_known = draws.u() < 0.7
    line = np.where(line_known[:, None] & V.DRUG_ANTINEOPLASTIC[drug], d["line"], 0)
    end = d["end"]
    dead_end = p["dead"][:, None] & (end == p["death"][:, None])
    stop_u = draws.u(k)
    reason = np.select(
        [end >= NEVER, dead_end, d["ended_by_progression"], stop_u < 0.1, stop_u < 0.15, stop_u < 0.2],
        [-1, 0, 1, 2, 3, -1], 4)
    df, _, _ = _flat(d, pids, {"drug_name": Coded(drug, V.DRUG_NAME),
                               "atc_code": Coded(atc, (*V.DRUG_ATC, *V.DRUG_ATC_OLD)),
                               "start_date": d["start"], "end_date": end, "line_number": line,
                               "stop_reason": Coded(reason, STOP_REASONS_OUT)})
    df = df.with_columns(
        therapy_id=_key(df, "L"),
        line_number=pl.when(pl.col("line_number") > 0).then(pl.col("line_number")),
    )
    return _finish("systemic_therapies", df)


ATTRIBUTIONS = ("both", "radiotherapy", "systemic")


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
    terms = V.TOXICITY_TERMS
    term = np.stack([np.full(n, terms.index("Pneumonitis")), V.ORGAN_RT_TOXICITY_CODE[p["lesion_course_organ"]],
                     V.ROLE_TOXICITY_CODE[role1], np.full(n, terms.index("Esophagitis"))], axis=1)
    course = np.stack([p["thoracic_course"], p["lesion_course"], np.full(n, -1), np.ones(n, dtype=np.int64)], axis=1)
    attribution = np.stack([np.where(io_near & (draws.u() < 0.5), 0, 1),
                            np.full(n, 1), np.full(n, 2), np.full(n, 1)], axis=1)
    df, _, _ = _flat(Slots(ex, {}), pids, {"onset_date": days, "ctcae_term": Coded(term, terms), "grade": grade,
                                          "course": course, "attribution": Coded(attribution, ATTRIBUTIONS)})
    df = df.with_columns(
        toxicity_id=_key(df, "X"),
        course_id=pl.when(pl.col("course") >= 0).then(_key(df, "R", col="course")),
        ctcae_version=pl.when(pl.col("slot") % 2 == 0).then(pl.lit("5.0")),
    )
    return _finish("toxicities", df)


DECISIONS = ("combined", "radical_local_therapy", "systemic_therapy")


def mdt_decisions(chunk: Chunk, pids: pl.Series, draws: Draws) -> pl.DataFrame:
    p = chunk.p
    arm = p["arm"]
    has = (arm > 0) & (draws.u() < 0.5)
    day = p["t_ep"] + randint(draws.u(), 3, 14)
    has &= day <= p["end"]
    treatable = np.where(arm == 1, 1, np.where((arm == 3) & (draws.u() < 0.6), 0, -1))
    decision = np.where(arm == 1, np.where(p["l1"] >= 0, 0, 1), np.where(arm == 2, 0, 2))
    # the truth's EORTC-LCG flag: a recorded "not feasible" about the episode t_ep fails it
    p["mdt_not_treatable"] = has & (treatable == 0)
    df = pl.DataFrame({"patient_id": pids, "decision_date": _dates(day),
                       "all_sites_radically_treatable": _bool_or_null(treatable),
                       "decision": decode(decision, DECISIONS)}).filter(pl.Series(has))
    return _finish("mdt_decisions", df.with_columns(decision_id=pl.col("patient_id") + "-D1"))

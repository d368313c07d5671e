"""Patient journeys as fixed-size slot arrays, simulated for a chunk of patients at once.

Every patient has the same number of steps (slots): lesions, imaging exams, disease events,
radiotherapy rows, procedures, drug periods, toxicities, MDT decisions. A slot either exists
or not; nothing loops over patients. Journeys follow one of a few scenarios chosen so that,
together, every ESTRO/EORTC 2020 state of docs/clinical-rules.md section 3 occurs (Guckenberger
M et al., Lancet Oncol 2020;21:e18-e28), with the timing constraints that make the intended
state the one the rules derive (grouping window 42 days, synchronous = 6 calendar months,
active systemic therapy = antineoplastic started before and ended <= 30 days before, the
treatment-decision conditions). `pipelines.synthetic.truth` then derives the intended
states from these same arrays.

Known effects (docs/synthetic-registry.md): radical treatment of all sites lowers the hazards
of progression and death (Gomez DR et al., J Clin Oncol 2019;37:1558-1565: median PFS 14.2
vs 4.4 months, OS 41.2 vs 17.0 months); lung BED10 >= 100 Gy lowers local failure; an
anti-PD-(L)1 drug raises pneumonitis after thoracic radiotherapy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipelines.synthetic import vocab as V
from pipelines.synthetic.calendar import NEVER, add_months, day_of_month, month_start, year
from pipelines.synthetic.draws import Draws, choice, exponential_days, randint

SCENARIOS = (
    "synchronous", "synchronous_late_lct", "poly_persistence", "poly_curb", "poly_recurrence",
    "poly_only", "diffuse", "metachronous_recurrence", "metachronous_progression",
    "no_metastasis",
)
SCENARIO_SHARE = (0.30, 0.04, 0.07, 0.07, 0.05, 0.10, 0.04, 0.13, 0.06, 0.14)
SC = {s: i for i, s in enumerate(SCENARIOS)}
ARMS = ("none", "all_sites", "partial", "systemic")

# lesion slots: index group, a second detection group (recurrence after poly), follow-up group
N_IDX, N_B, N_F = 12, 3, 9
L = N_IDX + N_B + N_F
IDX = slice(0, N_IDX)
B0, F0 = N_IDX, N_IDX + N_B

# effect sizes (months -> days at 30.4375); the docs restate them
MONTH = 30.4375
PFS_MEDIAN = {"all_sites": 14 * MONTH, "other": 4 * MONTH, "poly": 5 * MONTH}
OS_MEDIAN = {"all_sites": 41 * MONTH, "other": 17 * MONTH, "poly": 12 * MONTH,
             "diffuse": 8 * MONTH, "no_metastasis": 80 * MONTH}
LOCAL_FAILURE_P = {"lung_bed_lt_100": 0.5, "lung_bed_ge_100": 0.1, "other_organ": 0.2}
PNEUMONITIS_P = {"no_anti_pd1": 0.10, "anti_pd1": 0.25}
SYSTEMIC_GAP_DAYS = 30


@dataclass
class Slots:
    """Arrays of shape (n, k): one column per step of the journey."""
    exists: np.ndarray
    cols: dict[str, np.ndarray] = field(default_factory=dict)

    def __getitem__(self, name):
        return self.cols[name]

    def __setitem__(self, name, value):
        self.cols[name] = value


@dataclass
class Chunk:
    first_patient: int
    n: int
    cutoff: int
    p: dict[str, np.ndarray]  # per-patient arrays
    lesions: Slots
    drugs: Slots
    assessments: Slots  # planned assessments (kind, date); states come from truth.py
    s: dict[str, Slots] = field(default_factory=dict)  # the other row kinds


def _nz(x):
    return np.where(x >= NEVER, NEVER, x)


def simulate(draws: Draws, first_patient: int, cutoff: int) -> Chunk:
    n = draws.n
    p: dict[str, np.ndarray] = {}
    ar = np.arange(n)
    p["number"] = first_patient + ar + 1

    # --- who ---------------------------------------------------------------------------
    p["sex"] = choice(draws.u(), (0.38, 0.60, 0.005, 0.015))  # F M X U
    age = 40 + np.round(45 * (draws.u() + draws.u()) / 2).astype(np.int64)
    dx = cutoff - randint(draws.u(), 60, 6 * 365)
    partial_dx = (draws.u() < 0.03) & (day_of_month(dx) >= 15)  # written YYYY-MM
    p["dx"] = dx
    p["partial_dx"] = partial_dx
    p["birth_year"] = year(dx) - age
    p["centre"] = choice(draws.u(), V.CENTRE_SHARE)
    hist = choice(draws.u(), V.HISTOLOGY_SHARE)
    p["histology"] = hist
    adeno = V.HISTOLOGY_ADENO[hist]
    smoking = choice(draws.u(), (0.12, 0.45, 0.38, 0.05))  # never former current unknown
    smoking = np.where(adeno & (draws.u() < 0.15), 0, smoking)
    p["smoking"] = smoking
    p["pack_years"] = np.where(smoking == 0, 0.0,
                               np.round(5 + 70 * draws.u() ** 1.5, 1))
    p["pack_years_known"] = (smoking != 3) & (draws.u() < 0.85)
    p["topography"] = choice(draws.u(), V.TOPOGRAPHY_SHARE)
    p["laterality"] = choice(draws.u(), (0.42, 0.55, 0.03))
    # drivers: one per tumour at most (mutually exclusive in practice)
    tested = np.where(adeno, draws.u() < 0.9, draws.u() < 0.4)
    driver = choice(draws.u(), (0.14, 0.04, 0.015, 0.13, 0.02, 0.03, 0.015, 0.61))
    driver = np.where(adeno, driver, np.where(driver <= 1, 7, driver))  # few EGFR/ALK in squamous
    p["driver_tested"] = tested
    p["driver"] = np.where(tested, driver, 7)  # egfr alk ros1 kras braf met ret none
    pdl1_cat = choice(draws.u(), (0.12, 0.3, 0.3, 0.28))  # unknown <1 1-49 >=50
    u = draws.u()
    p["pdl1"] = np.select([pdl1_cat == 1, pdl1_cat == 2, pdl1_cat == 3],
                          [0.0, np.floor(1 + 48.99 * u), np.floor(50 + 50.99 * u).clip(50, 100)], -1.0)
    p["ecog"] = choice(draws.u(), (0.35, 0.45, 0.15, 0.04, 0.01))
    p["ecog_known"] = draws.u() < 0.9
    nsclc = V.HISTOLOGY_NSCLC[hist]
    p["nsclc"] = nsclc
    p["two_primaries"] = draws.u() < 0.006
    p["dx2"] = dx - randint(draws.u(), 500, 2500)

    # --- scenario and index episode -------------------------------------------------------
    sc = choice(draws.u(), SCENARIO_SHARE)
    p["scenario"] = sc
    is_ = {name: sc == i for name, i in SC.items()}
    poly = is_["poly_persistence"] | is_["poly_curb"] | is_["poly_recurrence"] | is_["poly_only"]
    sync = is_["synchronous"] | is_["synchronous_late_lct"]
    meta = is_["metachronous_recurrence"] | is_["metachronous_progression"]
    early = np.where(is_["synchronous"] & (draws.u() < 0.15),
                     randint(draws.u(), 45, 150), randint(draws.u(), -10, 20))
    t1 = dx + early
    partial_det = (sync | poly) & (early <= 20) & (draws.u() < 0.015)
    t1 = np.where(partial_det, month_start(t1) + 14, t1)  # the 15th: imputation is exact
    p["partial_det"] = partial_det

    # primary treatment and stage for stage I-III patients
    stage = choice(draws.u(), (0.4, 0.25, 0.35))  # I II III
    nonmet = meta | is_["no_metastasis"]
    stage = np.where(is_["metachronous_progression"], 2, stage)
    p["stage"] = np.where(nonmet, stage, 3)  # 3 = stage IV
    prim_t = dx + randint(draws.u(), 20, 50)
    egfr = p["driver"] == 0
    adj_osim = is_["metachronous_progression"] & egfr & (draws.u() < 0.8)
    # stage I: SBRT or surgery; II: surgery; III: chemoradiation (or surgery for adjuvant osimertinib)
    prim_mode = np.select([stage == 0, stage == 1, adj_osim], [choice(draws.u(), (0.5, 0.5)), 1, 1], 2)
    prim_mode = np.where(nonmet, prim_mode, -1)  # 0 sbrt 1 surgery 2 crt
    adj_regimen = np.select(
        [adj_osim, is_["metachronous_progression"], nonmet & (prim_mode == 2) & (draws.u() < 0.7),
         nonmet & (prim_mode == 1) & (stage >= 1)],
        [V.RG["osimertinib_adjuvant"], V.RG["durvalumab"], V.RG["durvalumab"], V.RG["cis_vinorelbine"]],
        -1)
    adj_start = prim_t + randint(draws.u(), 30, 60)
    adj_len = np.select([adj_regimen == V.RG["osimertinib_adjuvant"], adj_regimen == V.RG["durvalumab"]],
                        [1095, 365], 84)
    adj_end = adj_start + adj_len
    t_meta = np.where(
        is_["metachronous_progression"],
        adj_start + randint(draws.u(), 140, 330),
        np.maximum(dx + randint(draws.u(), 200, 1500), np.where(adj_regimen >= 0, adj_end + 75, 0)))
    # a few partial diagnosis dates where the synchronous/metachronous split depends on the day
    boundary = is_["metachronous_recurrence"] & partial_dx & (adj_regimen != V.RG["durvalumab"]) \
        & (draws.u() < 0.5)
    t_meta = np.where(boundary, add_months(month_start(dx), 6) + 5, t_meta)
    t1 = np.where(meta, t_meta, t1)
    t1 = np.where(is_["no_metastasis"], NEVER, t1)
    p["t1"] = t1

    # --- index lesions ---------------------------------------------------------------------
    k0 = np.select(
        [sync, poly, is_["diffuse"], meta],
        [1 + choice(draws.u(), (0.35, 0.25, 0.18, 0.12, 0.10)), randint(draws.u(), 6, 12),
         randint(draws.u(), 1, 3), 1 + choice(draws.u(), (0.45, 0.3, 0.15, 0.1))], 0)
    organ = choice(draws.u(L), V.ORGAN_SHARE)
    organ[:, 0] = np.where(is_["diffuse"], V.ORGAN_IDX["pleura"], organ[:, 0])
    slot = np.broadcast_to(np.arange(L), (n, L))
    exists = np.zeros((n, L), dtype=bool)
    exists[:, IDX] = slot[:, IDX] < k0[:, None]
    offset = np.where(draws.u(L) < 0.6, 0, randint(draws.u(L), 1, 21))
    offset[:, 0] = 0
    det = np.full((n, L), NEVER, dtype=np.int64)
    det[:, IDX] = np.where(exists[:, IDX], t1[:, None] + offset[:, IDX], NEVER)
    diffuse = np.zeros((n, L), dtype=bool)
    diffuse[:, 0] = is_["diffuse"]
    res = np.full((n, L), NEVER, dtype=np.int64)
    treat = np.full((n, L), NEVER, dtype=np.int64)  # radical local therapy start
    prog = np.full((n, L), NEVER, dtype=np.int64)  # confirmed lesion_progression

    # --- arms of the index OMD episode (radical treatment of all sites, partial, systemic) ---
    p_all = np.select([sync & (p["ecog"] <= 1), sync, meta], [0.45, 0.2, 0.6], 0.5)
    arm_u = draws.u()
    arm = np.where(arm_u < p_all, 1, np.where(arm_u < p_all + 0.15, 2, 3))
    arm = np.where(is_["synchronous_late_lct"], 3, arm)
    arm = np.where(sync | meta | is_["poly_recurrence"], arm, 0)
    lct_offset = randint(draws.u(L), 20, 110)

    # --- systemic line 1 ----------------------------------------------------------------
    sclc_like = ~nsclc
    pd = p["pdl1"]
    r_u = draws.u()
    squam = V.HISTOLOGY_SQUAMOUS[hist]
    l1 = np.select(
        [sclc_like, egfr, p["driver"] == 1, p["driver"] == 4, p["driver"] == 5, p["driver"] == 6,
         pd >= 50, squam],
        [V.RG["carbo_etoposide_atezo"],
         np.where(r_u < 0.75, V.RG["osimertinib"], np.array([V.RG["gefitinib"], V.RG["erlotinib"], V.RG["afatinib"]])[randint(draws.u(), 0, 2)]),
         np.array([V.RG["alectinib"], V.RG["lorlatinib"], V.RG["brigatinib"], V.RG["crizotinib"]])[choice(r_u, (0.5, 0.25, 0.15, 0.1))],
         V.RG["dabrafenib_trametinib"],
         np.where(r_u < 0.5, V.RG["capmatinib"], V.RG["tepotinib"]),  # MET exon 14
         V.RG["selpercatinib"],  # RET
         np.array([V.RG["pembrolizumab"], V.RG["atezolizumab"], V.RG["cemiplimab"], V.RG["carbo_pem_pembro"]])[choice(r_u, (0.6, 0.15, 0.1, 0.15))],
         np.array([V.RG["carbo_pacli_pembro"], V.RG["nivo_ipi"], V.RG["carbo_gem"]])[choice(r_u, (0.7, 0.1, 0.2))]],
        np.array([V.RG["carbo_pem_pembro"], V.RG["carbo_pacli_bev"], V.RG["nivo_ipi"], V.RG["carbo_gem"]])[choice(r_u, (0.75, 0.1, 0.05, 0.1))])
    gets_l1 = np.select([sync | poly | is_["diffuse"], is_["metachronous_recurrence"],
                         is_["metachronous_progression"]],
                        [draws.u() < 0.95, draws.u() < np.where(arm == 1, 0.5, 0.9), draws.u() < 0.8],
                        False)
    s1 = t1 + randint(draws.u(), 10, 28)
    s1 = np.where(is_["metachronous_progression"], t1 + randint(draws.u(), 14, 40), s1)
    role = V.REGIMEN_ROLE[l1]  # (n, 3)
    dur_u = draws.u(3)
    dur = np.select(
        [role == V.R["induction"], role == V.R["maintenance"], role == V.R["io"], role == V.R["tki"]],
        [randint(dur_u, 63, 84), 60 + exponential_days(dur_u, 180),
         np.minimum(42 + exponential_days(dur_u, 300), 730), 30 + exponential_days(dur_u, 540)],
        84)
    e1 = s1[:, None] + dur
    longest = np.argmax(np.where(V.REGIMEN_DRUG[l1] >= 0, e1, -1), axis=1)

    def extend_longest(mask, until):
        cur = e1[ar, longest]
        e1[ar, longest] = np.where(mask, np.maximum(cur, until), cur)

    # --- scenario-specific second assessment ---------------------------------------------
    t_b = np.full(n, NEVER, dtype=np.int64)  # date of that assessment
    kind_b = np.full(n, -1)  # 0 detection, 1 progression, 2 treatment decision
    # poly -> oligopersistence: most lesions resolve, residual ones get SBRT (treatment decision)
    td = t1 + randint(draws.u(), 185, 270)
    residual = randint(draws.u(), 1, 3)
    pers = is_["poly_persistence"]
    res_day = t1 + randint(draws.u(), 90, 150)
    res[:, IDX] = np.where(pers[:, None] & exists[:, IDX] & (slot[:, IDX] >= residual[:, None]),
                           res_day[:, None], res[:, IDX])
    treat[:, IDX] = np.where(pers[:, None] & exists[:, IDX] & (slot[:, IDX] < residual[:, None]),
                             td[:, None], treat[:, IDX])
    extend_longest(pers, td + 120)
    t_b = np.where(pers, td, t_b)
    kind_b = np.where(pers, 2, kind_b)
    # synchronous, systemic only, late SBRT of every site while still on therapy
    late = is_["synchronous_late_lct"]
    treat[:, IDX] = np.where(late[:, None] & exists[:, IDX], td[:, None], treat[:, IDX])
    extend_longest(late, td + 120)
    gets_l1 = gets_l1 | late | pers
    t_b = np.where(late, td, t_b)
    kind_b = np.where(late, 2, kind_b)
    # CURB: a few lesions progress among stable ones under therapy, then get SBRT
    curb = is_["poly_curb"]
    tp = t1 + randint(draws.u(), 150, 500)
    n_prog = np.minimum(randint(draws.u(), 1, 3), k0)
    curb_l = curb[:, None] & exists & (slot < n_prog[:, None])
    prog = np.where(curb_l, tp[:, None], prog)
    treat = np.where(curb_l, tp[:, None] + randint(draws.u(), 14, 35)[:, None], treat)
    extend_longest(curb, tp + 150)
    gets_l1 = gets_l1 | curb
    t_b = np.where(curb, tp, t_b)
    kind_b = np.where(curb, 1, kind_b)
    # poly -> complete response, therapy stopped, then a few new lesions off therapy
    recur = is_["poly_recurrence"]
    stop = t1 + randint(draws.u(), 170, 400)
    e1 = np.where(recur[:, None], np.minimum(e1, stop[:, None]), e1)
    gets_l1 = gets_l1 | recur
    res[:, IDX] = np.where(recur[:, None] & exists[:, IDX],
                           t1[:, None] + randint(draws.u(), 100, 160)[:, None], res[:, IDX])
    tr = stop + randint(draws.u(), 60, 400)
    kb = randint(draws.u(), 1, 3)
    b_ex = recur[:, None] & (np.arange(N_B)[None, :] < kb[:, None])
    exists[:, B0:F0] = b_ex
    det[:, B0:F0] = np.where(b_ex, tr[:, None] + np.where(np.arange(N_B) == 0, 0, offset[:, B0:F0]), NEVER)
    t_b = np.where(recur, tr, t_b)
    kind_b = np.where(recur, 0, kind_b)

    # --- radical local therapy of the index OMD episode (sync, meta) or of the recurrence ---
    ep_group = np.zeros((n, L), dtype=bool)
    ep_group[:, IDX] = (sync | meta)[:, None] & exists[:, IDX]
    ep_group[:, B0:F0] = b_ex
    t_ep = np.where(recur, tr, t1)
    n_group = ep_group.sum(axis=1)
    rank = np.cumsum(ep_group, axis=1)
    treated = ep_group & ((arm == 1)[:, None] | ((arm == 2)[:, None] & (rank < n_group[:, None])))
    # never before the diagnosis date (a lesion may be found a few days before it)
    treat = np.where(treated & ~late[:, None], np.maximum(t_ep, dx)[:, None] + lct_offset, treat)

    # --- death, loss to follow-up, end of observation ------------------------------------------
    all_sites = arm == 1
    os_med = np.select(
        [is_["no_metastasis"], is_["diffuse"], is_["poly_only"], all_sites, sync | meta | recur],
        [OS_MEDIAN["no_metastasis"], OS_MEDIAN["diffuse"], OS_MEDIAN["poly"], OS_MEDIAN["all_sites"],
         OS_MEDIAN["other"]], 20 * MONTH)
    origin = np.where(is_["no_metastasis"], dx, t1)
    death = np.maximum(origin + np.maximum(exponential_days(draws.u(), os_med), 30), dx + 30)
    death = np.where(recur, np.maximum(death, tr + 30 + randint(draws.u(), 0, 200)), death)
    lag = randint(draws.u(), 0, 45)
    admin_end = cutoff - lag
    lost = np.where(draws.u() < 0.07, dx + ((admin_end - dx) * (0.2 + 0.75 * draws.u())).astype(np.int64), NEVER)
    dead = (death <= cutoff) & (death < lost)
    is_lost = ~dead & (lost < admin_end)
    end = np.select([dead, is_lost], [death, lost], admin_end)
    p["dead"] = dead
    p["death"] = np.where(dead, death, NEVER)
    p["lost"] = is_lost
    p["vital_unknown"] = is_lost & (draws.u() < 0.2)
    p["end"] = end
    p["arm"] = arm

    # --- follow-up event (the next progression after the last planned assessment) ---------------
    t_last = np.select([late | pers, curb, recur], [td, tp, tr], t1)
    pfs_med = np.select([all_sites, sync | meta | recur, curb | pers], [PFS_MEDIAN["all_sites"], PFS_MEDIAN["other"], 8 * MONTH], PFS_MEDIAN["poly"])
    last_lct = np.max(np.where(treat < NEVER, treat, -NEVER), axis=1)
    t2 = np.maximum(t_last + np.maximum(exponential_days(draws.u(), pfs_med), 56), last_lct + 14)
    t2 = np.where(is_["no_metastasis"], NEVER, t2)
    happens2 = t2 <= end
    # what the follow-up event is
    is_treated = (treat < NEVER) & exists
    first_treated = np.argmax(is_treated, axis=1)
    lf_lung = V.ORGAN_IS_LUNG[organ[ar, first_treated]]
    lf_u = draws.u()
    type_u = draws.u()
    # scheme of each treated lesion (needed for the local-failure effect)
    scheme = _draw_schemes(draws.u(L), organ)
    lf_bed = V.SCHEME_BED10[scheme[ar, first_treated]]
    proc_u = draws.u(L)
    procedure = _procedure_kind(proc_u, organ)  # -1 radiotherapy, else procedure modality index
    lf_bed = np.where(procedure[ar, first_treated] >= 0, 200.0, lf_bed)
    p_lf = np.select([lf_lung & (lf_bed < 100), lf_lung],
                     [LOCAL_FAILURE_P["lung_bed_lt_100"], LOCAL_FAILURE_P["lung_bed_ge_100"]],
                     LOCAL_FAILURE_P["other_organ"])
    active2 = exists & (det <= t2[:, None]) & (res >= t2[:, None]) & ~is_treated
    has_active = active2.any(axis=1)
    ev_type = np.select(
        [type_u < 0.3, is_treated.any(axis=1) & (lf_u < p_lf),
         has_active & (type_u < 0.55)],
        [1, 2, 3], 0)  # 0 new oligo, 1 new poly, 2 local failure, 3 untreated lesion grows
    ev_type = np.where(happens2, ev_type, -1)
    k_new = np.select([ev_type == 0, ev_type == 1], [randint(draws.u(), 1, 2), randint(draws.u(), 6, 9)], 0)
    f_ex = (np.arange(N_F)[None, :] < k_new[:, None])
    exists[:, F0:] = f_ex
    det[:, F0:] = np.where(f_ex, t2[:, None] + np.where(np.arange(N_F) == 0, 0, offset[:, F0:]), NEVER)
    lf_slot = first_treated
    # a local failure of a lesion that already progressed (a CURB lesion, then SBRT) is its
    # second progression: it goes to a slot of its own so the first one is still written
    second = (ev_type == 2) & (prog[ar, lf_slot] < NEVER)
    prog2 = np.full((n, L), NEVER, dtype=np.int64)  # a lesion's second lesion_progression
    prog2[ar, lf_slot] = np.where(second, t2, NEVER)
    prog[ar, lf_slot] = np.where((ev_type == 2) & ~second, t2, prog[ar, lf_slot])
    grow_slot = np.argmax(active2, axis=1)  # untreated, so never a lesion that progressed
    prog[ar, grow_slot] = np.where(ev_type == 3, t2, prog[ar, grow_slot])
    # radical treatment of the new lesions after an oligo follow-up event ("repeat after SBRT")
    treat_f = (ev_type == 0) & (draws.u() < 0.6)
    treat[:, F0:] = np.where(f_ex & treat_f[:, None], t2[:, None] + randint(draws.u(), 14, 35)[:, None], treat[:, F0:])
    p["t2"] = np.where(happens2, t2, NEVER)
    p["ev_type"] = ev_type

    # --- systemic line 1 end, line 2 ---------------------------------------------------------
    drug1 = V.REGIMEN_DRUG[l1]
    active_at_t2 = (s1[:, None] < t2[:, None]) & (e1 >= t2[:, None] - SYSTEMIC_GAP_DAYS) & (drug1 >= 0)
    continue_l1 = treat_f
    stop_at = t2 + randint(draws.u(), 0, 21)
    ended_by_prog = happens2[:, None] & active_at_t2 & (e1 > stop_at[:, None]) & ~continue_l1[:, None]
    e1 = np.where(ended_by_prog, stop_at[:, None], e1)
    gets_l2 = happens2 & gets_l1 & ((ev_type == 1) | (~treat_f & (draws.u() < 0.6)))
    s2 = t2 + randint(draws.u(), 14, 40)
    l2 = np.select([p["driver"] == 3, egfr, p["driver"] == 1],
                   [V.RG["sotorasib"], V.RG["carbo_pem"], V.RG["lorlatinib_line2"]], V.RG["docetaxel"])
    dur2 = 21 + exponential_days(draws.u(3), 100)
    e2 = s2[:, None] + dur2

    # assemble drug slots: line 1 (3), line 2 (3), adjuvant (2), supportive (2)
    ND = 10
    d_drug = np.full((n, ND), -1, dtype=np.int64)
    d_start = np.full((n, ND), NEVER, dtype=np.int64)
    d_end = np.full((n, ND), NEVER, dtype=np.int64)
    d_line = np.zeros((n, ND), dtype=np.int64)
    d_role = np.full((n, ND), -1, dtype=np.int64)
    d_drug[:, 0:3] = np.where(gets_l1[:, None], drug1, -1)
    d_start[:, 0:3] = s1[:, None]
    d_end[:, 0:3] = e1
    d_role[:, 0:3] = role
    d_line[:, 0:3] = np.where(is_["metachronous_progression"][:, None] | (adj_regimen >= 0)[:, None], 2, 1)
    d_drug[:, 3:6] = np.where(gets_l2[:, None], V.REGIMEN_DRUG[l2], -1)
    d_start[:, 3:6] = s2[:, None]
    d_end[:, 3:6] = np.where(V.REGIMEN_ROLE[l2] == V.R["induction"], s2[:, None] + 84, e2)
    d_role[:, 3:6] = V.REGIMEN_ROLE[l2]
    d_line[:, 3:6] = d_line[:, 0:1] + 1
    adj_drug = V.REGIMEN_DRUG[np.maximum(adj_regimen, 0)][:, :2]
    d_drug[:, 6:8] = np.where((adj_regimen >= 0)[:, None], adj_drug, -1)
    d_start[:, 6:8] = adj_start[:, None]
    adj_e = np.broadcast_to(adj_end[:, None], (n, 2)).copy()
    # adjuvant therapy running at a metachronous progression stops there
    adj_e = np.where(is_["metachronous_progression"][:, None],
                     np.minimum(adj_e, t1[:, None] + randint(draws.u(), 0, 21)[:, None]), adj_e)
    d_end[:, 6:8] = adj_e
    d_role[:, 6:8] = V.REGIMEN_ROLE[np.maximum(adj_regimen, 0)][:, :2]
    d_line[:, 6:8] = 1
    has_bone = (exists & V.ORGAN_IS_BONE[organ]).any(axis=1)
    has_brain = (exists & V.ORGAN_IS_BRAIN[organ]).any(axis=1)
    bone_agent = has_bone & (draws.u() < 0.5)
    d_drug[:, 8] = np.where(bone_agent, np.where(draws.u() < 0.7, V.D["denosumab"], V.D["zoledronic acid"]), -1)
    d_start[:, 8] = t1 + randint(draws.u(), 20, 60)
    d_drug[:, 9] = np.where(has_brain & (draws.u() < 0.6), V.D["dexamethasone"], -1)
    d_start[:, 9] = t1 + randint(draws.u(), 0, 5)
    d_end[:, 9] = d_start[:, 9] + randint(draws.u(), 7, 28)
    # keep every assessment away from the 30-day boundary of "active systemic therapy"
    for t in (t1, t_b, t2):
        near = (d_end >= t[:, None] - 40) & (d_end <= t[:, None] - 20) & (d_start < t[:, None] - 60)
        d_end = np.where(near, t[:, None] - 45, d_end)
    drug_exists = (d_drug >= 0) & (d_start <= end[:, None])
    d_end_obs = np.where(d_end > end[:, None], np.where(dead[:, None], death[:, None], NEVER), d_end)
    drugs = Slots(drug_exists, {"drug": d_drug, "start": d_start, "end": d_end_obs, "line": d_line,
                                "role": d_role, "planned_end": d_end})
    ended_by_progression = np.zeros((n, ND), dtype=bool)
    ended_by_progression[:, 0:3] = ended_by_prog
    drugs["ended_by_progression"] = ended_by_progression

    # --- observation: nothing after the end of follow-up ------------------------------------
    exists &= det <= end[:, None]
    res = np.where(res <= end[:, None], res, NEVER)
    treat = np.where(treat <= end[:, None], treat, NEVER)
    prog = np.where(prog <= end[:, None], prog, NEVER)
    prog2 = np.where(prog2 <= end[:, None], prog2, NEVER)
    lesions = Slots(exists, {
        "organ": organ, "det": det, "diffuse": diffuse, "res": res, "treat": treat,
        "prog": prog, "prog2": prog2, "scheme": scheme, "procedure": procedure,
        "partial": np.zeros((n, L), dtype=bool),
    })
    lesions["partial"][:, 0] = partial_det & exists[:, 0]

    # planned assessments: index detection, scenario-specific, follow-up
    a_date = np.stack([t1, t_b, np.where(happens2, t2, NEVER)], axis=1)
    a_kind = np.stack([np.zeros(n, dtype=np.int64), kind_b,
                       np.where(ev_type >= 2, 1, 0)], axis=1)
    assessments = Slots((a_date <= end[:, None]) & (a_date < NEVER), {"date": a_date, "kind": a_kind})

    p.update({"l1": np.where(gets_l1, l1, -1), "l2": np.where(gets_l2, l2, -1), "adj_regimen": adj_regimen,
              "prim_mode": prim_mode, "prim_t": prim_t, "t_ep": t_ep, "t_last": t_last,
              "has_brain": has_brain, "poly": poly, "sync": sync, "meta": meta,
              "treat_after_t2": treat_f & happens2, "boundary_dx": boundary})
    chunk = Chunk(first_patient, n, cutoff, p, lesions, drugs, assessments)
    return chunk


def _draw_schemes(u: np.ndarray, organ: np.ndarray) -> np.ndarray:
    """SBRT/SRS scheme of each lesion slot, by organ."""
    out = np.zeros(organ.shape, dtype=np.int64)
    for organ_name, (idx, probs) in V.ORGAN_SCHEMES.items():
        mask = (organ_name == V.ORGAN_NAME)[organ]
        out[mask] = np.asarray(idx)[choice(u[mask], probs)]
    return out


PROCEDURES = ("surgery", "radiofrequency_ablation", "microwave_ablation", "cryoablation")


def _procedure_kind(u: np.ndarray, organ: np.ndarray) -> np.ndarray:
    """Index in PROCEDURES when the lesion is treated by a procedure rather than SBRT, else -1."""
    out = np.full(organ.shape, -1, dtype=np.int64)
    for organ_name, (prob, modality) in V.ORGAN_PROCEDURE.items():
        out[(organ_name == V.ORGAN_NAME)[organ] & (u < prob)] = PROCEDURES.index(modality)
    return out

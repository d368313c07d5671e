"""Codes and clinical vocabularies the generator draws from, as small tables.

Drug codes: WHO ATC after the 2021-2022 L01 restructure, with the previous code where one
existed (consistent with `pipelines/clinical/codesets/drugs_v1.csv`). Histology: ICD-O-3.
Toxicity terms: CTCAE v5.0. Radiotherapy schemes: the usual SBRT/SRS and palliative schedules.
"""

from __future__ import annotations

import numpy as np

# --- histology (ICD-O-3 morphology), with the share of patients --------------------------
# group label, morphology code, share, is NSCLC
HISTOLOGY = (
    ("adenocarcinoma", "8140/3", 0.52, True),
    ("adenocarcinoma", "8250/3", 0.04, True),
    ("adenocarcinoma", "8480/3", 0.02, True),
    ("adenocarcinoma", "8551/3", 0.02, True),
    ("squamous", "8070/3", 0.22, True),
    ("squamous", "8071/3", 0.03, True),
    ("large_cell", "8012/3", 0.02, True),
    ("adenosquamous", "8560/3", 0.015, True),
    ("sarcomatoid", "8033/3", 0.01, True),
    ("nsclc_nos", "8046/3", 0.04, True),
    ("small_cell", "8041/3", 0.035, False),
    ("lcnec", "8013/3", 0.005, False),
    ("carcinoid", "8240/3", 0.01, False),
    ("carcinoid", "8249/3", 0.005, False),
)
HISTOLOGY_GROUP = np.array([h[0] for h in HISTOLOGY])
HISTOLOGY_CODE = np.array([h[1] for h in HISTOLOGY])
HISTOLOGY_SHARE = np.array([h[2] for h in HISTOLOGY])
HISTOLOGY_NSCLC = np.array([h[3] for h in HISTOLOGY])
HISTOLOGY_ADENO = HISTOLOGY_GROUP == "adenocarcinoma"
HISTOLOGY_SQUAMOUS = HISTOLOGY_GROUP == "squamous"
HISTOLOGY_SCLC = HISTOLOGY_GROUP == "small_cell"

TOPOGRAPHY = np.array(["C34.1", "C34.3", "C34.2", "C34.0", "C34.9", "C341", "C343"])
TOPOGRAPHY_SHARE = np.array([0.38, 0.28, 0.05, 0.04, 0.05, 0.12, 0.08])

# --- organs of metastatic lesions ----------------------------------------------------------
# organ, ICD-10 site code, organ-counting key (docs/clinical-rules.md section 2: bone, adrenals,
# lungs, distant nodes each one organ; `other` one organ per 4-character site code), share,
# detection modality, is thoracic (for pneumonitis)
ORGANS = (
    ("brain", "C79.3", 0, 0.17, "brain_mri", False),
    ("bone", "C79.5", 1, 0.20, "fdg_pet_ct", False),
    ("bone", "C79.51", 1, 0.04, "bone_scan", False),
    ("lung", "C78.0", 2, 0.16, "ct", True),
    ("liver", "C78.7", 3, 0.09, "ct", False),
    ("adrenal", "C79.7", 4, 0.09, "fdg_pet_ct", False),
    ("distant_lymph_node", "C77.0", 5, 0.05, "fdg_pet_ct", False),
    ("distant_lymph_node", "C77.2", 5, 0.03, "ct", False),
    ("pleura", "C78.2", 6, 0.03, "ct", True),
    ("other", "C79.2", 7, 0.03, "ct", False),
    ("other", "C78.6", 8, 0.03, "ct", False),
    ("other", "C79.8", 9, 0.02, "fdg_pet_ct", False),
)
ORGAN_NAME = np.array([o[0] for o in ORGANS])
ORGAN_SITE = np.array([o[1] for o in ORGANS])
ORGAN_KEY = np.array([o[2] for o in ORGANS])
ORGAN_SHARE = np.array([o[3] for o in ORGANS])
ORGAN_MODALITY = np.array([o[4] for o in ORGANS])
ORGAN_THORACIC = np.array([o[5] for o in ORGANS])
N_ORGAN_KEYS = 10
# extra organ rows that are not drawn for lesion slots
REGIONAL_NODE_SITE = "C77.1"
DIFFUSE_PLEURA_SITE = "C78.2"
ORGAN_IDX = {name: int(np.flatnonzero(name == ORGAN_NAME)[0]) for name in set(ORGAN_NAME)}

# --- radiotherapy schemes for a lesion: total Gy, fractions, technique ---------------------
# lung: BED10 151.2, 105.6, 105.0, 100.0 and one under-dosed 40/5 (BED10 72): the known
# effect "lung BED10 >= 100 Gy lowers local failure" needs both sides.
SCHEMES = (
    ("lung_54_3", 54.0, 3, "sbrt"),
    ("lung_48_4", 48.0, 4, "sbrt"),
    ("lung_60_8", 60.0, 8, "sbrt"),
    ("sbrt_50_5", 50.0, 5, "sbrt"),
    ("lung_40_5", 40.0, 5, "sbrt"),
    ("srs_24_1", 24.0, 1, "srs"),
    ("srs_18_1", 18.0, 1, "srs"),
    ("bone_30_5", 30.0, 5, "sbrt"),
    ("bone_35_5", 35.0, 5, "sbrt"),
    ("sbrt_45_3", 45.0, 3, "sbrt"),
)
SCHEME_DOSE = np.array([s[1] for s in SCHEMES])
SCHEME_FRACTIONS = np.array([s[2] for s in SCHEMES])
SCHEME_TECHNIQUE = np.array([s[3] for s in SCHEMES])
SCHEME_BED10 = SCHEME_DOSE * (1 + SCHEME_DOSE / SCHEME_FRACTIONS / 10)
# per organ name: (scheme indices, probabilities)
ORGAN_SCHEMES = {
    "lung": ((0, 1, 2, 3, 4), (0.35, 0.2, 0.15, 0.12, 0.18)),
    "brain": ((5, 6), (0.8, 0.2)),
    "bone": ((7, 8), (0.6, 0.4)),
    "liver": ((3, 9), (0.6, 0.4)),
    "adrenal": ((3, 2), (0.6, 0.4)),
    "distant_lymph_node": ((3, 9), (0.7, 0.3)),
    "pleura": ((3,), (1.0,)),
    "other": ((9, 3), (0.5, 0.5)),
}
# palliative schemes (technique 3dcrt, intent palliative): 8 Gy/1, 30 Gy/10, 20 Gy/5
PALLIATIVE = ((8.0, 1), (30.0, 10), (20.0, 5))
# probability that a treated lesion gets surgery or thermal ablation instead of SBRT/SRS
ORGAN_PROCEDURE = {
    "brain": (0.15, "surgery"),
    "adrenal": (0.15, "surgery"),
    "lung": (0.12, "microwave_ablation"),
    "liver": (0.3, "radiofrequency_ablation"),
}

# --- drugs ----------------------------------------------------------------------------------
# INN, current ATC, ATC before 2021-2022 (or ""), antineoplastic, anti-PD-(L)1
DRUGS = (
    ("pembrolizumab", "L01FF02", "L01XC18", True, True),
    ("nivolumab", "L01FF01", "L01XC17", True, True),
    ("atezolizumab", "L01FF05", "L01XC32", True, True),
    ("durvalumab", "L01FF03", "L01XC28", True, True),
    ("cemiplimab", "L01FF06", "L01XC33", True, True),
    ("ipilimumab", "L01FX04", "L01XC11", True, False),
    ("osimertinib", "L01EB04", "L01XE35", True, False),
    ("gefitinib", "L01EB01", "L01XE02", True, False),
    ("erlotinib", "L01EB02", "L01XE03", True, False),
    ("afatinib", "L01EB03", "L01XE13", True, False),
    ("crizotinib", "L01ED01", "L01XE16", True, False),
    ("alectinib", "L01ED03", "L01XE36", True, False),
    ("brigatinib", "L01ED04", "L01XE43", True, False),
    ("lorlatinib", "L01ED05", "L01XE44", True, False),
    ("dabrafenib", "L01EC02", "L01XE23", True, False),
    ("trametinib", "L01EE01", "L01XE25", True, False),
    ("bevacizumab", "L01FG01", "L01XC07", True, False),
    ("sotorasib", "L01XX73", "", True, False),
    ("cisplatin", "L01XA01", "", True, False),
    ("carboplatin", "L01XA02", "", True, False),
    ("pemetrexed", "L01BA04", "", True, False),
    ("gemcitabine", "L01BC05", "", True, False),
    ("docetaxel", "L01CD02", "", True, False),
    ("paclitaxel", "L01CD01", "", True, False),
    ("vinorelbine", "L01CA04", "", True, False),
    ("etoposide", "L01CB01", "", True, False),
    ("denosumab", "M05BX04", "", False, False),
    ("zoledronic acid", "M05BA08", "", False, False),
    ("dexamethasone", "H02AB02", "", False, False),
    # targeted drugs of the 2026 code set, written by name only (review_cases.py)
    ("capmatinib", "L01EP01", "L01EX17", True, False),
    ("tepotinib", "L01EP02", "L01EX21", True, False),
    ("selpercatinib", "L01EX22", "", True, False),
)
DRUG_NAME = np.array([d[0] for d in DRUGS])
DRUG_ATC = np.array([d[1] for d in DRUGS])
DRUG_ATC_OLD = np.array([d[2] for d in DRUGS])
DRUG_ANTINEOPLASTIC = np.array([d[3] for d in DRUGS])
DRUG_ANTI_PD1 = np.array([d[4] for d in DRUGS])
D = {d[0]: i for i, d in enumerate(DRUGS)}
# drugs the generator writes without an ATC code: recognised by name only
NAME_ONLY_DRUGS = np.array([D["capmatinib"], D["tepotinib"], D["selpercatinib"]])

# --- regimens: up to three drugs, each with a role that sets its duration ------------------
# roles: induction (3-4 cycles), maintenance (until progression, median ~6 months),
# io (until progression, at most 2 years), tki (until progression, median ~18 months),
# consolidation (durvalumab 1 year), adjuvant (4 cycles), line2 (median ~3.5 months)
ROLES = ("induction", "maintenance", "io", "tki", "consolidation", "adjuvant", "line2")
R = {r: i for i, r in enumerate(ROLES)}
REGIMENS = {
    "carbo_pem_pembro": (("carboplatin", "induction"), ("pemetrexed", "maintenance"),
                         ("pembrolizumab", "io")),
    "carbo_pacli_pembro": (("carboplatin", "induction"), ("paclitaxel", "induction"),
                           ("pembrolizumab", "io")),
    "pembrolizumab": (("pembrolizumab", "io"),),
    "atezolizumab": (("atezolizumab", "io"),),
    "cemiplimab": (("cemiplimab", "io"),),
    "nivo_ipi": (("nivolumab", "io"), ("ipilimumab", "io")),
    "carbo_pacli_bev": (("carboplatin", "induction"), ("paclitaxel", "induction"),
                        ("bevacizumab", "maintenance")),
    "carbo_gem": (("carboplatin", "induction"), ("gemcitabine", "induction")),
    "osimertinib": (("osimertinib", "tki"),),
    "gefitinib": (("gefitinib", "tki"),),
    "erlotinib": (("erlotinib", "tki"),),
    "afatinib": (("afatinib", "tki"),),
    "alectinib": (("alectinib", "tki"),),
    "lorlatinib": (("lorlatinib", "tki"),),
    "brigatinib": (("brigatinib", "tki"),),
    "crizotinib": (("crizotinib", "tki"),),
    "dabrafenib_trametinib": (("dabrafenib", "tki"), ("trametinib", "tki")),
    "carbo_etoposide_atezo": (("carboplatin", "induction"), ("etoposide", "induction"),
                              ("atezolizumab", "io")),
    "docetaxel": (("docetaxel", "line2"),),
    "sotorasib": (("sotorasib", "line2"),),
    "carbo_pem": (("carboplatin", "induction"), ("pemetrexed", "line2")),
    "lorlatinib_line2": (("lorlatinib", "line2"),),
    "cis_vinorelbine": (("cisplatin", "adjuvant"), ("vinorelbine", "adjuvant")),
    "durvalumab": (("durvalumab", "consolidation"),),
    "osimertinib_adjuvant": (("osimertinib", "consolidation"),),
    "capmatinib": (("capmatinib", "tki"),),
    "tepotinib": (("tepotinib", "tki"),),
    "selpercatinib": (("selpercatinib", "tki"),),
}
REGIMEN_NAMES = tuple(REGIMENS)
RG = {name: i for i, name in enumerate(REGIMEN_NAMES)}
REGIMEN_DRUG = np.full((len(REGIMENS), 3), -1, dtype=np.int64)
REGIMEN_ROLE = np.full((len(REGIMENS), 3), -1, dtype=np.int64)
for _i, _drugs in enumerate(REGIMENS.values()):
    for _j, (_drug, _role) in enumerate(_drugs):
        REGIMEN_DRUG[_i, _j] = D[_drug]
        REGIMEN_ROLE[_i, _j] = R[_role]
REGIMEN_HAS_ANTI_PD1 = np.array(
    [any(DRUG_ANTI_PD1[D[d]] for d, _ in drugs) for drugs in REGIMENS.values()]
)

STOP_REASONS = ("completed", "progression", "toxicity", "patient_choice", "death", "other")

# --- toxicities (CTCAE v5.0 terms) ------------------------------------------------------------
RT_TOXICITY_BY_ORGAN = {
    "brain": "Central nervous system necrosis",
    "bone": "Pain",
    "lung": "Cough",
    "liver": "Nausea",
    "adrenal": "Fatigue",
    "distant_lymph_node": "Fatigue",
    "pleura": "Chest wall pain",
    "other": "Dermatitis radiation",
}
SYSTEMIC_TOXICITY = {
    "io": "Colitis",
    "tki": "Rash acneiform",
    "induction": "Neutrophil count decreased",
    "maintenance": "Anemia",
    "consolidation": "Hypothyroidism",
    "adjuvant": "Nausea",
    "line2": "Fatigue",
}

# --- people and places ------------------------------------------------------------------------
CENTRES = np.array(["CTR01", "CTR02", "CTR03", "CTR04", "CTR05", "CTR06", "CTR07", "CTR08"])
CENTRE_SHARE = np.array([0.22, 0.18, 0.15, 0.12, 0.1, 0.09, 0.08, 0.06])
# plausible person names, only for --inject-identifier (the batch must be refused)
FIRST_NAMES = np.array(["Marie", "Jean", "Anne", "Pierre", "Hélène", "Louis", "Claire",
                        "François", "Sophie", "Michel", "Élise", "Paul"])
LAST_NAMES = np.array(["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit",
                       "Durand", "Leroy", "Moreau", "Lefèvre", "Girard"])

# --- output vocabularies: codes stay small integers until the rows are written ----------------
IMAGING_MODALITIES = ("ct", "fdg_pet_ct", "brain_mri", "brain_ct", "bone_scan")
IMG = {m: i for i, m in enumerate(IMAGING_MODALITIES)}
ORGAN_MODALITY_CODE = np.array([IMG[m] for m in ORGAN_MODALITY])
EXAM_PURPOSES = ("staging", "response", "surveillance")
# the immunotherapy variant of SD, PR, CR, PD is 4 further on (iRECIST)
RESPONSES = ("SD", "PR", "CR", "PD", "iSD", "iPR", "iCR", "iCPD", "iUPD")
RESP = {r: i for i, r in enumerate(RESPONSES)}
ORGAN_IS_LUNG = ORGAN_NAME == "lung"
ORGAN_IS_BONE = ORGAN_NAME == "bone"
ORGAN_IS_BRAIN = ORGAN_NAME == "brain"
ORGAN_LUNG_OR_PLEURA = np.isin(ORGAN_NAME, ("lung", "pleura"))
ORGAN_LATERAL = np.isin(ORGAN_NAME, ("adrenal", "pleura"))
LATERALITIES = ("left", "right", "midline")
TECHNIQUES = ("sbrt", "srs", "imrt", "vmat", "3dcrt")
SCHEME_TECHNIQUE_CODE = np.array([TECHNIQUES.index(t) for t in SCHEME_TECHNIQUE])
RT_INTENTS = ("ablative", "consolidative", "palliative")
TOXICITY_TERMS = tuple(dict.fromkeys(["Pneumonitis", "Esophagitis", *RT_TOXICITY_BY_ORGAN.values(),
                                      *SYSTEMIC_TOXICITY.values()]))
ORGAN_RT_TOXICITY_CODE = np.array([TOXICITY_TERMS.index(RT_TOXICITY_BY_ORGAN[o]) for o in ORGAN_NAME])
ROLE_TOXICITY_CODE = np.array([TOXICITY_TERMS.index(SYSTEMIC_TOXICITY[r]) for r in ROLES])

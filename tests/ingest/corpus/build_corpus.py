"""Writes identifiers.csv and lookalikes.csv beside this file (seeded; run by hand with
`python -m tests.ingest.corpus.build_corpus` when the corpus is extended). The CSVs are the
corpus: the test reads them, never this script.

identifiers.csv: value, kind, column — a direct identifier, and the contract column it is
injected into (every identifier kind goes into id, code, coded-text, free-text, number and date
columns in turn). lookalikes.csv: value, column, delivery — real clinical values, screened
column by column as a registry would deliver them ("mixed": the usual codes and labels;
"numeric": a registry whose ids or centre codes are bare numbers).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.be import nn as be_nn
from stdnum.de import idnr as de_idnr
from stdnum.fr import nir as fr_nir
from stdnum.gb import nhs as gb_nhs
from stdnum.nl import bsn as nl_bsn

HERE = Path(__file__).resolve().parent
RNG = random.Random(20261201)
COLUMNS = ["patient_id", "center_id", "ctcae_term", "drug_name", "clinical_t",
           "topography_code", "morphology_code", "lesion_id", "sex", "grade", "pack_years",
           "diagnosis_date", "atc_code", "stage_group"]

GIVEN = ["Jean-Baptiste", "Marie", "Pierre", "Hélène", "François", "Anne-Sophie", "Jean",
         "Élodie", "Thibault", "Margaux", "Gwenaëlle", "Siobhan", "Oluwaseun", "Wei", "Mei",
         "Aleksander", "Bogdan", "Ioana", "Søren", "Björn", "Karim", "Fatima", "Youssef",
         "Ngozi", "Kwame", "Hiroshi", "Yuki", "Priya", "Arjun", "Dolores", "María José",
         "Giulia", "Matteo", "Hendrik", "Sanne", "Lieve", "Jürgen", "Ursula", "Claire",
         "Patrick", "Siegfried", "Tiago", "Inês", "Zeynep", "Emre", "Aurélien", "Maëlys"]
SURNAMES = ["Poquelin", "Dupont", "Martin", "Lefèvre", "Nguyen", "Okafor", "Adeyemi",
            "Kowalski", "Popescu", "Andersen", "Lindqvist", "Benali", "El Amrani", "Tanaka",
            "Sato", "Sharma", "García López", "Rossi", "Bianchi", "Janssens", "Vermeulen",
            "Müller", "Schäfer", "Fitzgerald", "Kerouac", "Santos", "Yılmaz", "Öztürk",
            "Le Goff", "Kervella", "Moreau-Lambert", "Achterberg", "Haddad", "Mbappé"]
PARTICLED = ["Charles de Gaulle", "Ludwig van Beethoven", "Ahmed ben Ali", "Ursula von der Leyen",
             "Marie-Claire d'Estaing", "Jean de La Fontaine", "Vincent van Gogh",
             "Pieter de Vries", "Leonardo da Vinci", "Omar ibn Said", "Carlos dos Santos",
             "Jan ter Horst", "Valéry Giscard d'Estaing", "Anne van der Berg",
             "Moulay el Idrissi", "Paolo di Stefano"]
EMBEDDED = ["Pneumonitis reported by Jean Dupont", "Fatigue (patient Marie Lefèvre)",
            "seen by Pierre Martin on review", "Rash acneiform - Claire Moreau informed",
            "Colitis, referred by Karim Benali", "Nausea per Hélène Girard"]
TITLED = ["Mme Durand", "M. Lefèvre", "Dr Martin", "Dr. Okafor", "Pr Dubois", "Mr Smith",
          "Mrs Fitzgerald", "Herr Müller", "Frau Schäfer", "Dhr. Janssens", "Mevr. Peeters",
          "Prof. Rossi"]


def names() -> list[str]:
    out = []
    for i in range(70):
        given, surname = RNG.choice(GIVEN), RNG.choice(SURNAMES)
        form = i % 7
        out.append([f"{given} {surname}", f"{given} {surname.upper()}",
                    f"{surname}, {given}", f"{surname.upper()} {given}",
                    f"{surname.upper()}, {given}", f"{given[0]}. {surname}",
                    f"{given} {surname}".upper()][form])
    return out + PARTICLED + EMBEDDED + TITLED + ["jean dupont", "marie lefevre",
                                                  "dupont jean", "pierre martin"]


def _sep(digits: str, groups: tuple[int, ...], sep: str) -> str:
    parts, i = [], 0
    for g in groups:
        parts.append(digits[i:i + g])
        i += g
    return sep.join(parts)


def nirs() -> list[str]:
    out = []
    for i in range(40):
        sex = RNG.choice("1278")
        dept = RNG.choice(["75", "69", "13", "2A", "2B", "33", "59", "99"])
        body = f"{sex}{RNG.randint(30, 99):02d}{RNG.randint(1, 12):02d}{dept}" \
               f"{RNG.randint(1, 990):03d}{RNG.randint(1, 999):03d}"
        number = body + fr_nir.calc_check_digits(body)
        out.append(_sep(number, (1, 2, 2, 2, 3, 3, 2), ["", " ", ".", "-"][i % 4]))
    return out


def nhs_numbers() -> list[str]:
    out = []
    while len(out) < 25:
        body = f"{RNG.randint(400, 999)}{RNG.randint(0, 999999):06d}"
        valid = [body + str(d) for d in range(10) if gb_nhs.is_valid(body + str(d))]
        if not valid:
            continue
        number = valid[0]
        out.append(_sep(number, (3, 3, 4), [" ", "-", ""][len(out) % 3]))
    return out


def bsns() -> list[str]:
    out = []
    while len(out) < 20:
        number = f"{RNG.randint(10000000, 99999999):08d}"
        for last in range(10):
            if nl_bsn.is_valid(number + str(last)):
                candidate = number + str(last)
                out.append(candidate if len(out) % 2 else _sep(candidate, (4, 2, 3), "."))
                break
    return out


def belgian() -> list[str]:
    out = []
    while len(out) < 20:
        yy, mm, dd = RNG.randint(30, 99), RNG.randint(1, 12), RNG.randint(1, 28)
        body = f"{yy:02d}{mm:02d}{dd:02d}{RNG.randint(1, 997):03d}"
        check = f"{97 - int(body) % 97:02d}"
        number = body + check
        if be_nn.is_valid(number):
            out.append(f"{number[:2]}.{number[2:4]}.{number[4:6]}-{number[6:9]}.{number[9:]}"
                       if len(out) % 2 else number)
    return out


def german() -> list[str]:
    out = []
    while len(out) < 20:
        digits = RNG.sample("0123456789", 9)
        digits.insert(RNG.randint(1, 9), digits[RNG.randint(1, 8)])
        body = "".join(digits)
        if body[0] == "0":
            continue
        valid = [body + str(d) for d in range(10) if de_idnr.is_valid(body + str(d))]
        if valid:
            number = valid[0]
            out.append(_sep(number, (2, 3, 3, 3), " ") if len(out) % 2 else number)
    return out


def ssns() -> list[str]:
    out = []
    while len(out) < 20:
        area = RNG.randint(1, 899)
        if area == 666:
            continue
        out.append(f"{area:03d}-{RNG.randint(1, 99):02d}-{RNG.randint(1, 9999):04d}"
                   if len(out) % 3 else f"{area:03d} {RNG.randint(1, 99):02d} "
                   f"{RNG.randint(1, 9999):04d}")
    return out


def ibans() -> list[str]:
    out = []
    layouts = {"FR": lambda: f"{RNG.randint(10000, 99999)}{RNG.randint(10000, 99999)}"
                             f"{RNG.randint(10**10, 10**11 - 1)}{RNG.randint(10, 99)}",
               "DE": lambda: f"{RNG.randint(10**17, 10**18 - 1)}",
               "NL": lambda: "ABNA" + f"{RNG.randint(10**9, 10**10 - 1)}",
               "BE": lambda: f"{RNG.randint(10**11, 10**12 - 1)}",
               "GB": lambda: "NWBK" + f"{RNG.randint(10**13, 10**14 - 1)}"}
    while len(out) < 25:
        country = RNG.choice(sorted(layouts))
        bban = layouts[country]()
        number = country + stdnum_iban.calc_check_digits(country + "00" + bban) + bban
        if not stdnum_iban.is_valid(number):
            continue
        out.append(stdnum_iban.format(number) if len(out) % 2 else number)
    return out


PHONES = ["06 12 34 56 78", "06.23.45.67.89", "06-34-56-78-90", "0612345678", "01 42 68 53 00",
          "04 78 78 28 28", "+33 6 12 34 56 78", "+33 (0)1 42 68 53 00", "0033 6 45 67 89 01",
          "+33612345678", "07 81 22 33 44", "05 56 33 33 33", "020 7946 0958", "+44 20 7946 0958",
          "07700 900123", "+44 7911 123456", "0161 496 0123", "030 12345678", "+49 30 12345678",
          "0171 1234567", "+49 171 1234567", "089 12345678", "020 123 4567", "+31 20 123 4567",
          "06 12345678", "+31 6 12345678", "02 555 12 12", "0470 12 34 56", "+32 470 12 34 56",
          "(202) 555-0143", "202-555-0187", "+1 212 555 0199", "+1-415-555-0132",
          "+41 44 668 18 00", "044 668 18 00", "+39 06 6982 1234", "+34 912 345 678",
          "tel 06 12 34 56 78", "portable: 06 98 76 54 32", "joindre au 04 72 11 22 33"]
EMAILS = ["jean.dupont@example.fr", "m.lefevre@chu-lyon.fr", "poquelin.jb@gmail.com",
          "contact+patient@hopital.example.org", "anne_sophie.martin@orange.fr",
          "k.benali@outlook.com", "JEAN.DUPONT@EXAMPLE.FR", "s.okafor@nhs.net",
          "hendrik.janssens@uzleuven.be", "j.mueller@charite.de", "patient123@yahoo.co.uk",
          "dr.moreau@clinique-example.fr", "p.martin@free.fr", "a.rossi@libero.it",
          "mail: marie.durand@laposte.net", "écrire à h.girard@wanadoo.fr", "x@y.io",
          "first.last@sub.domain.example.com", "lb@igr.fr", "tanaka.yuki@example.jp"]
ADDRESSES = ["12 rue de la Paix", "3 bis avenue Jean Jaurès", "45, boulevard Haussmann",
             "7 allée des Tilleuls", "18 impasse du Moulin", "2 place Bellecour",
             "221B Baker Street", "10 Downing Street", "42 Acacia Road", "5 Elm Lane",
             "Kalverstraat 92", "Keizersgracht 123", "Hauptstraße 5", "Lindenstrasse 12",
             "Rue Neuve 15", "75013 Paris", "69008 LYON", "13005 Marseille", "10115 Berlin",
             "1012 AB Amsterdam", "SW1A 1AA", "M1 1AE", "EC1A 1BB", "BP 123",
             "33076 Bordeaux Cedex", "14 chemin des Vignes", "9 quai Saint-Michel",
             "60 route de Genas", "1 Infirmary Close", "Postbus 9101"]
BIRTH_TEXT = ["né le 12/03/1950", "née le 04/11/1948", "DOB 1950-03-12", "DOB: 12.03.1950",
              "born 12 March 1950", "born 1947", "date de naissance : 12.03.1950",
              "ddn 05/06/1952", "geb. 12.03.1950", "geboren 3 mei 1951", "Geboortedatum 1949-07-21",
              "birth date 1953-02-14", "née en 1949", "naissance 1951-08-30", "dob 3/4/1955",
              "12/03/1950", "1950-03-12", "03.12.1950", "15 juin 1952", "7 Sept 1949"]


# A second set, written after the first version of the screen was tuned on the sets above
# and screened once before any further change (docs/privacy.md gives both figures).
HELD_OUT_IDS = {"name": ["Aurore Dupin", "Jean-Paul SARTRE", "Sartre, Jean-Paul", "Simone de Beauvoir",
  "Albert Camus", "CAMUS Albert", "Mohamed Ali Ben Salah", "Nguyen Thi Lan", "Kim Min-jun",
  "José María Aznar", "Ana Lucía Fernández", "van Dijk, Virgil", "Frank-Walter Steinmeier",
  "Annegret Kramp-Karrenbauer", "Ólafur Ragnar Grímsson", "Seán Ó Súilleabháin",
  "Dr. Livingstone", "Mlle Bonnet", "patient: Lucie Aubrac", "ROUSSEAU, JEAN-JACQUES",
  "Marguerite Yourcenar", "Boris Vian", "Édith PIAF", "Piaf, Édith", "Françoise Sagan",
  "Tahar Ben Jelloun", "Amadou Hampâté Bâ", "Rainer Maria Rilke", "Hildegard von Bingen",
  "Joost van den Vondel"],
 "phone": ["+33 4 78 78 28 28", "04.78.78.28.28", "+44 (0)20 7946 0000", "+31 (0)6 1234 5678",
  "0049 89 1234567", "+1 (212) 555-0188", "tél. 01-45-67-89-10", "mobile 07 12 34 56 78"],
 "e-mail": ["marie-claire.dupont@ap-hp.fr", "dr_okafor@hotmail.co.uk", "jb.p@molière.fr"],
 "address": ["8, rue Victor Hugo", "100 avenue de la République", "Chaussée de Charleroi 123",
  "Herengracht 502", "Bahnhofstraße 1a", "1 Main St.", "Flat 3, 12 High Street",
  "69373 Lyon Cedex 08", "B-1000 Bruxelles", "15 Bd Voltaire"],
 "date of birth": ["DDN : 01/01/1944", "né(e) le 2.2.1951", "Date of birth 1950", "born on 1949-12-01",
  "naissance: 3 avril 1952", "1951/04/03"]}
HELD_OUT_LOOK = {"ctcae_term": ["Acute kidney injury", "Sinus tachycardia", "Hypoalbuminemia", "Lung Infection",
  "ALT increased", "AST INCREASED", "Pneumonitis (grade 2)", "Fatigue G2", "Radiation pneumonitis",
  "Radiation Esophagitis", "Nausea/vomiting", "Oral Candidiasis", "Herpes Zoster",
  "Bell's palsy", "Addison disease", "Hypokalemia", "Urinary Tract Infection", "Tumor Pain",
  "Generalized Muscle Weakness", "Peripheral Motor Neuropathy", "Skin Hyperpigmentation",
  "Hiccups", "Voice Alteration", "Vasculitis", "Pancreatitis", "Cholecystitis"],
 "drug_name": ["Xalkori", "Zykadia", "Lorbrena", "Lumykras", "Rybrevant", "Tabrecta", "Retsevmo",
  "Gavreto", "Cyramza", "Avastin", "Alimta", "Taxotere", "Navelbine", "Abraxane", "Xgeva",
  "Zometa", "Solu-Medrol", "Ceritinib", "Ensartinib", "Carboplatine", "Cisplatine",
  "Pemetrexed Disodium", "Nab Paclitaxel", "Vinorelbine Tartrate", "Etoposide Phosphate"],
 "center_id": ["CHU Grenoble Alpes", "Centre Georges-François Leclerc",
  "Institut de Cancérologie de l'Ouest", "Clinique Pasteur", "Hôpital Tenon",
  "Hôpital Bichat-Claude Bernard", "Leeds Teaching Hospitals", "Velindre Cancer Centre",
  "Maastro Clinic", "Antoni van Leeuwenhoek", "CH Annecy Genevois", "GHU Paris",
  "Centre Hospitalier de Cholet", "HCL", "Polyclinique Bordeaux Nord", "Hôpital Privé Jean Mermoz"],
 "clinical_t": ["cT2aN2bM1b", "T1N0M1a", "cT4 (invasion)", "ycT2"],
 "stage_group": ["Stade IV", "Stage IV B", "IIIA-N2"],
 "morphology_code": ["8140/33", "M8140/3", "8252/3 Lepidic adenocarcinoma"]}


def identifiers() -> list[tuple[str, str]]:
    kinds = {"name": names(), "e-mail": EMAILS, "phone": PHONES, "French NIR/NIA": nirs(),
             "UK NHS number": nhs_numbers(), "Dutch BSN": bsns(),
             "Belgian national number": belgian(), "German IdNr": german(), "US SSN": ssns(),
             "IBAN": ibans(), "address": ADDRESSES, "date of birth": BIRTH_TEXT}
    for kind, values in HELD_OUT_IDS.items():
        kinds[kind] = kinds[kind] + values
    return [(v, k) for k, values in kinds.items() for v in values]


LOOKALIKES: dict[str, list[str]] = {
    "drug_name": [
        "pembrolizumab", "Pembrolizumab", "PEMBROLIZUMAB", "nivolumab", "Nivolumab",
        "atezolizumab", "durvalumab", "Durvalumab", "cemiplimab", "ipilimumab", "osimertinib",
        "Osimertinib", "gefitinib", "erlotinib", "afatinib", "dacomitinib", "crizotinib",
        "alectinib", "Alectinib", "brigatinib", "lorlatinib", "entrectinib", "dabrafenib",
        "trametinib", "dabrafenib + trametinib", "Dabrafenib Trametinib", "bevacizumab",
        "sotorasib", "adagrasib", "cisplatin", "Cisplatin", "CARBOPLATIN", "carboplatin AUC5",
        "Carboplatin AUC 5", "pemetrexed", "Pemetrexed 500 mg/m2", "gemcitabine", "docetaxel",
        "paclitaxel", "nab-paclitaxel", "vinorelbine", "Vinorelbine oral", "etoposide",
        "denosumab", "zoledronic acid", "Zoledronic Acid", "ZOLEDRONIC ACID", "dexamethasone",
        "amivantamab", "capmatinib", "tepotinib", "selpercatinib", "pralsetinib",
        "ramucirumab", "necitumumab", "tremelimumab", "Keytruda", "Opdivo", "Tagrisso",
        "Tecentriq", "Imfinzi", "Alecensa", "carboplatin-pemetrexed",
        "carboplatin + paclitaxel + pembrolizumab", "Nivolumab Ipilimumab",
        "datopotamab deruxtecan", "Trastuzumab Deruxtecan", "Repotrectinib", "Mobocertinib"],
    "ctcae_term": [
        "Pneumonitis", "PNEUMONITIS", "Esophagitis", "Fatigue", "FATIGUE", "Cough", "Nausea",
        "Pain", "Chest wall pain", "Chest Wall Pain", "CHEST WALL PAIN", "Dermatitis radiation",
        "Central nervous system necrosis", "Central Nervous System Necrosis", "Colitis",
        "Rash acneiform", "Rash Acneiform", "Neutrophil count decreased",
        "Neutrophil Count Decreased", "Anemia", "Hypothyroidism", "Hyperthyroidism",
        "Diarrhea", "Vomiting", "Alopecia", "Anorexia", "Dyspnea", "Hemoptysis",
        "Febrile neutropenia", "Febrile Neutropenia", "Platelet count decreased",
        "Alanine aminotransferase increased", "Aspartate aminotransferase increased",
        "Blood bilirubin increased", "Creatinine increased", "Hepatitis", "Hypophysitis",
        "Adrenal insufficiency", "Myocarditis", "Myositis", "Nephritis", "Arthralgia",
        "Myalgia", "Pruritus", "Mucositis oral", "Stomatitis", "Dysphagia", "Dysgeusia",
        "Headache", "Seizure", "Cognitive disturbance", "Memory impairment",
        "Radiation recall reaction (dermatologic)", "Pleural effusion", "Pericardial effusion",
        "Pulmonary fibrosis", "Bronchopulmonary hemorrhage", "Fracture", "Osteonecrosis of jaw",
        "Back pain", "Bone pain", "Peripheral sensory neuropathy", "Infusion related reaction",
        "Guillain-Barre syndrome", "Stevens-Johnson syndrome", "Toxic epidermal necrolysis",
        "Thromboembolic event", "Hypertension", "Hyponatremia", "Hypomagnesemia",
        "Hyperglycemia", "Weight loss", "Dry skin", "Hand-foot skin reaction",
        "Palmar-plantar erythrodysesthesia syndrome", "Paronychia", "Edema limbs",
        "Lung infection", "Sepsis", "Insomnia", "Depression", "Ear and labyrinth disorders - Other, specify",
        "Eye disorders - Other, specify", "Investigations - Other, specify",
        "Respiratory, thoracic and mediastinal disorders - Other, specify", "Radiation necrosis",
        "Erythema multiforme", "Sinus bradycardia", "Atrial fibrillation", "QT prolonged",
        "Ejection fraction decreased", "Encephalopathy", "Brain edema", "Somnolence",
        "Dizziness", "Constipation", "Abdominal pain", "Flu like symptoms", "Hot flashes",
        "Lymphocyte count decreased", "White blood cell decreased", "GGT increased",
        "Lipase increased", "Serum amylase increased", "Cytokine release syndrome"],
    "center_id": [
        "CTR01", "CTR02", "CTR08", "C01", "C02", "LYO", "IGR", "CLB-01", "CHU-BDX",
        "RRK", "RM1", "RBV",
        "Centre Léon Bérard", "Léon Bérard", "Institut Curie", "Gustave Roussy",
        "Institut Gustave Roussy", "Centre Oscar Lambret", "Centre François Baclesse",
        "Institut Bergonié", "Institut Paoli-Calmettes", "CHU de Bordeaux", "CHU Lyon Sud",
        "Lyon Sud", "Hospices Civils de Lyon", "AP-HP Pitié-Salpêtrière",
        "Hôpital Européen Georges-Pompidou", "Hôpital Foch", "Hôpital Saint-Louis",
        "CHRU de Nancy", "Centre Jean Perrin", "Institut Claudius Regaud", "ICANS Strasbourg",
        "UZ Leuven", "Institut Jules Bordet", "Netherlands Cancer Institute", "NKI-AVL",
        "Erasmus MC", "Royal Marsden", "The Christie NHS Foundation Trust",
        "Guy's and St Thomas'", "Charité Berlin", "Universitätsklinikum Heidelberg",
        "Klinikum rechts der Isar", "Site 12", "site-03", "Centre 4", "ONC-LYON-01"],
    "clinical_t": ["cT1a", "cT1b", "cT1c", "cT2a", "cT2b", "cT3", "cT4", "cTX", "cTis",
                   "pT1a(mi)", "ypT0", "T2a", "T1mi", "cT2a N2 M1b", "T4 N3 M1c",
                   "cT3 cN1 cM1a", "rT2", "pT2aN0M0", "cT1c(m)", "T3 (2 nodules)"],
    "clinical_n": ["cN0", "cN1", "cN2", "cN2a", "cN2b", "cN3", "NX", "pN0(sn)", "ypN0"],
    "clinical_m": ["cM0", "cM1a", "cM1b", "cM1c", "cM1c1", "cM1c2", "M1", "pM1b"],
    "stage_group": ["IA1", "IA2", "IA3", "IB", "IIA", "IIB", "IIIA", "IIIB", "IIIC", "IVA",
                    "IVB", "Stage IVA", "stage IV", "IV A", "Occult carcinoma"],
    "topography_code": ["C34.0", "C34.1", "C34.2", "C34.3", "C34.8", "C34.9", "C341", "C343",
                        "c34.1", "C33", "C33.9"],
    "site_code": ["C79.3", "C79.31", "C79.32", "C79.5", "C79.51", "C78.0", "C78.01", "C78.7",
                  "C79.7", "C79.72", "C7972", "C77.0", "C77.1", "C77.2", "C78.2", "C79.2",
                  "C78.6", "C79.8", "C79.89"],
    "morphology_code": ["8140/3", "8070/3", "8071/3", "8250/3", "8480/3", "8551/3", "8012/3",
                        "8560/3", "8033/3", "8046/3", "8041/3", "8013/3", "8240/3", "8249/3",
                        "81403", "8140", "8140/3 Adenocarcinoma", "8070/3 Squamous cell carcinoma"],
    "atc_code": ["L01FF02", "L01XC18", "L01FF01", "L01EB04", "L01XE35", "L01ED01", "L01XA02",
                 "L01BA04", "M05BX04", "H02AB02", "L01XX73", "L01FX04", "l01ff02"],
    "ctcae_version": ["5.0", "4.03", "v5", "CTCAE v5.0", "6.0"],
    "patient_id": ["P0000001", "P0012345", "P0100000", "PAT-000123", "LYO-2019-0042",
                   "2019-00042", "IGR_000981", "A12B34", "0000123", "123456"],
    "lesion_id": ["P0000001-M03", "P0000001-N1", "P0012345-M12", "L001", "LES-0001-02"],
    "exam_id": ["P0000001-I12", "P0012345-I03", "E001", "EX-2024-0001"],
    "course_id": ["P0000001-R01", "R001", "RT-2024-017"],
    "target": ["primary", "regional_nodes", "P0000001-M03", "L001", "PRIMARY"],
    "diagnosis_date": ["2024-01-10", "2023-12-31", "2019-05-02", "10/01/2024", "31/12/2023",
                       "2024-02", "2024"],
    "birth_year": ["1950", "1948", "1962", "1939", "2001"],
    "total_dose_gy": ["60", "54", "37.5", "37,5", "24", "8", "30", "20"],
    "pack_years": ["30.5", "40", "0", "12,5", "100"],
    "pdl1_tps_percent": ["50", "1", "0", "95", "5.5"],
    "sex": ["F", "M", "X", "U", "f"],
    "organ": ["brain", "bone", "lung", "liver", "adrenal", "distant_lymph_node", "pleura"],
    "response": ["CR", "PR", "SD", "PD", "NE", "iCR", "iPR", "iSD", "iUPD", "iCPD"],
    "smoking_status": ["never", "former", "current", "unknown"],
    "biopsy_confirmed": ["yes", "no", "true", "false", "oui", "non", "1", "0"],
}


def _luhn_completed(body: str) -> str:
    return next(body + str(d) for d in range(10) if luhn.is_valid(body + str(d)))


def numeric_deliveries() -> dict[str, list[str]]:
    """Registries that number their patients (bare 9- and 10-digit ids) and French centres
    coded by FINESS (nine digits, Luhn key): each a column of its own delivery."""
    return {"patient_id": [str(RNG.randint(10**9, 10**10 - 1)) for _ in range(40)],
            "tumor_id": [str(RNG.randint(10**8, 10**9 - 1)) for _ in range(40)],
            "center_id": [_luhn_completed(f"{RNG.choice(['69', '75', '13', '33', '59'])}"
                                          f"{RNG.randint(0, 999999):06d}") for _ in range(20)]}


def main() -> None:
    ids = identifiers()
    with (HERE / "identifiers.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["value", "kind", "column"])
        for i, (value, kind) in enumerate(ids):
            writer.writerow([value, kind, COLUMNS[i % len(COLUMNS)]])
    lookalikes = {c: list(v) for c, v in LOOKALIKES.items()}
    for column, values in HELD_OUT_LOOK.items():
        lookalikes[column] = lookalikes.get(column, []) + values
    rows = [(v, c, "mixed") for c, values in lookalikes.items() for v in values]
    rows += [(v, c, "numeric") for c, values in numeric_deliveries().items() for v in values]
    with (HERE / "lookalikes.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["value", "column", "delivery"])
        writer.writerows(rows)
    print(f"{len(ids)} identifiers, {len(rows)} look-alikes")


if __name__ == "__main__":
    main()

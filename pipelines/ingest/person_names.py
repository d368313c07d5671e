"""Is a cell value a person's name? Shape rules plus three small word lists.

No maintained library recognises names without a language model, so this is rules
(docs/privacy.md): a value made of two to five capitalised, all-capital or hyphenated words,
with name particles (de, van, von, ben ...) and initials allowed, in the order "First Last",
"LAST First" or "Last, First", is a name unless one of its words is a clinical, hospital or
place word (`lexicons/`). A known given name also reveals a lower-case name ("jean dupont")
and a name inside longer text ("reported by Jean Dupont").

Runs in Python on the few distinct values that `NAME_CANDIDATE` (a Polars pre-filter) passes.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from pathlib import Path

LEXICONS = Path(__file__).resolve().parent / "lexicons"
DRUG_CODESET = Path(__file__).resolve().parents[1] / "clinical" / "codesets" / "drugs_v1.csv"

# Rust regex for Polars: two words of two letters or more, no digit, no "@".
NAME_CANDIDATE = r"^[^0-9@]*\p{L}[\p{L}'’.\-]+[\s,]+[^0-9@]*\p{L}[^0-9@]*$"

PARTICLES = frozenset({
    "de", "du", "des", "del", "della", "delle", "dei", "der", "den", "di", "da", "das", "do",
    "dos", "van", "von", "vom", "ten", "ter", "te", "zu", "zum", "zur", "ben", "bin", "ibn",
    "bint", "ould", "el", "al", "la", "le", "lo", "les", "y", "e", "et", "st", "ap", "af",
})
GAELIC_PARTICLES = frozenset({"o", "ni", "nic", "ua", "mhic", "bean"})
TITLES = frozenset({
    "m", "mme", "mlle", "mr", "mrs", "ms", "miss", "dr", "pr", "prof", "herr", "frau", "dhr",
    "mevr", "sr", "sra", "sig", "dott",
})
_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿ"
# A capitalised or all-capital word, hyphenated parts and an elided particle allowed.
_NAME_WORD = re.compile(
    rf"^(?:[dDlL][’'])?(?:[{_UPPER}][{_LOWER}]+|[{_UPPER}]{{2,}})"
    rf"(?:[-’'](?:[{_UPPER}][{_LOWER}]+|[{_UPPER}]{{2,}}|[{_LOWER}]+))*$"
    rf"|^(?:Mc|Mac|O['’])[{_UPPER}][{_LOWER}]+$"
)
_LOWER_WORD = re.compile(rf"^[{_LOWER}]+(?:[-'’][{_LOWER}]+)*$")
_INITIAL = re.compile(rf"^[{_UPPER}]\.(?:-?[{_UPPER}]\.)?$")
# Word endings of medicine and of drug names (INN stems): never a name.
_MEDICAL_ENDING = re.compile(
    r"(?:itis|osis|emia|aemia|algia|pathy|ectomy|otomy|ostomy|penia|uria|plasia|trophy|rrhea|"
    r"rrhoea|lysis|megaly|plegia|kinesia|scopy|graphy|ency|oma|omas|mab|nib|platin|taxel|"
    r"rubicin|tecan|trexed|citabine|fosfamide|mustine|lisib|ciclib|parib|zomib|stat|sone|olone|"
    r"azole|prazole|cillin|floxacin|parin|mycin|ology|ologie|therapy|therapie|ation|ations)$"
)


def normalise(text: str) -> str:
    """Lower case, accents removed, runs of blanks as one space."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.lower().replace("’", "'").split())


def _words(path: Path) -> frozenset[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(normalise(w) for w in lines if w.strip() and not w.startswith("#"))


@functools.cache
def given_names() -> frozenset[str]:
    return _words(LEXICONS / "given_names.txt")


@functools.cache
def clinical_words() -> frozenset[str]:
    with DRUG_CODESET.open(encoding="utf-8") as handle:
        drugs = {normalise(w) for row in csv.DictReader(handle) for w in row["drug_name"].split()}
    return _words(LEXICONS / "clinical_words.txt") | institution_words() | drugs


@functools.cache
def institution_words() -> frozenset[str]:
    return _words(LEXICONS / "institution_words.txt")


@functools.cache
def place_words() -> frozenset[str]:
    return _words(LEXICONS / "place_words.txt")


@functools.cache
def centre_names() -> frozenset[str]:
    return _words(LEXICONS / "centre_names.txt")


def _is_clinical(word: str) -> bool:
    """A clinical or hospital word, or one with a medical ending; hyphenated: every part."""
    bare = normalise(word).strip(".'")
    parts = [p for p in re.split(r"[-']", bare) if p]
    return bool(parts) and (bare in clinical_words() or all(
        p in clinical_words() or (len(p) > 4 and _MEDICAL_ENDING.search(p)) for p in parts))


def _is_given(word: str) -> bool:
    bare = normalise(word)
    return bare in given_names() or all(p in given_names() for p in bare.split("-") if p)


def _strip_titles_and_particles(tokens: list[str]) -> list[str]:
    """Without titles (M., Dr ...) and lower-case particles (de, van ...); "É." stays an
    initial."""
    kept = []
    for token in tokens:
        bare = normalise(token).strip(".")
        if bare in TITLES and not _INITIAL.match(token):
            continue
        if token.islower() and (bare in PARTICLES or bare in ("d'", "l'")):
            continue
        if bare in GAELIC_PARTICLES:  # Seán Ó Súilleabháin, Máire Ní Bhriain
            continue
        kept.append(token)
    return kept


def _name_sequence(tokens: list[str]) -> bool:
    """Every word capitalised or all capitals (initials allowed), at least one a full word."""
    full = [t for t in tokens if _NAME_WORD.match(t)]
    initials = [t for t in tokens if _INITIAL.match(t)]
    return bool(full) and len(full) + len(initials) == len(tokens)


def _cleared(tokens: list[str]) -> bool:
    """A clinical word, a place word without a given name, or acronyms only: not a name."""
    if any(_is_clinical(t) for t in tokens):
        return True
    has_given = any(_is_given(t) for t in tokens)
    if not has_given and any(normalise(t) in place_words() for t in tokens):
        return True
    letters = [re.sub(r"[^\w]", "", t) for t in tokens]
    return all(w.isupper() and len(w) <= 3 for w in letters)


def looks_like_person_name(value: str) -> bool:
    text = " ".join(value.replace("\u00a0", " ").split())
    if not text or len(text) > 120 or any(ch.isdigit() for ch in text) or "@" in text:
        return False
    if normalise(text).replace("-", " ") in centre_names() or normalise(text) in centre_names():
        return False
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 2 and all(parts):  # "LAST, First"
        last = _strip_titles_and_particles(parts[0].split())
        first = _strip_titles_and_particles(parts[1].split())
        tokens = last + first
        if 1 <= len(last) <= 3 and 1 <= len(first) <= 3 and _name_sequence(tokens) \
                and not _cleared(tokens):
            return True
    tokens = _strip_titles_and_particles(text.replace(",", " ").split())
    if 2 <= len(tokens) <= 5 and _name_sequence(tokens) and not _cleared(tokens):
        return True
    if 2 <= len(tokens) <= 4 and all(_LOWER_WORD.match(t) for t in tokens) \
            and (_is_given(tokens[0]) or _is_given(tokens[-1])) and not _cleared(tokens):
        return True  # "jean dupont", "dupont jean"
    if any(normalise(t).strip(".") in institution_words() for t in tokens):
        return False  # a centre named after a person: "Centre François Baclesse"
    return _embedded_name([t for t in re.split(r"[\s,;:()\[\]\"/]+", text) if t])


def _embedded_name(tokens: list[str]) -> bool:
    """A known given name next to a surname-shaped word, inside longer text: "... Jean Dupont
    ...", "... Jean de la Fontaine ...", "... DUPONT Jean ..."."""
    for i, token in enumerate(tokens):
        if not (_NAME_WORD.match(token) and _is_given(token)):
            continue
        after = [t for t in tokens[i + 1:i + 4] if normalise(t) not in PARTICLES][:1]
        before = [t for t in tokens[max(i - 1, 0):i] if t.isupper()]
        for other in after + before:
            if _NAME_WORD.match(other) and not _is_clinical(other) \
                    and normalise(other) not in place_words():
                return True
    return False

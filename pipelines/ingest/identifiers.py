"""Direct identifier screening, before anything reaches the warehouse.

Source: registry-export.md sections 2 ("patient_id: never a name, address, phone or national
id"; "birth_year: full birth dates are not accepted") and 3 ("Keep a direct identifier: a
column that looks like a name, address, phone number, e-mail or national identifier stops the
batch"). Screening is by column name (columns outside the contract) and by content (every
column). A hit is a batch defect naming the file, the column and what it looks like, with a
row count; the values themselves are never copied anywhere.
"""

from __future__ import annotations

import re

import polars as pl

from pipelines.ingest.defects import BatchDefect

# Column-name tokens (split on non-alphanumerics) that announce a direct identifier.
IDENTIFIER_NAME_TOKENS: dict[str, tuple[str, ...]] = {
    "a person's name": ("name", "names", "nom", "prenom", "surname", "firstname", "lastname",
                        "forename", "givenname", "familyname", "patronyme", "initiales",
                        "initials"),
    "an address": ("address", "adresse", "street", "rue", "zip", "zipcode", "postcode",
                   "postal", "cp", "codepostal", "ville", "city", "commune"),
    "a phone number": ("phone", "telephone", "tel", "mobile", "portable", "fax", "gsm"),
    "an e-mail address": ("email", "mail", "courriel", "e-mail"),
    "a national identifier": ("nir", "ssn", "insee", "nss", "secu", "nhs", "ipp", "mrn",
                              "passport", "passeport"),
    "a full birth date": ("dob", "ddn", "birthdate", "naissance"),
}
# Multi-token names (checked on the joined name).
IDENTIFIER_NAME_PHRASES: dict[str, tuple[str, ...]] = {
    "a person's name": ("first_name", "last_name", "given_name", "family_name", "nom_usage",
                        "maiden_name"),
    "a national identifier": ("social_security", "securite_sociale", "numero_secu",
                              "health_insurance"),
    "a full birth date": ("birth_date", "date_of_birth", "date_naissance", "date_de_naissance"),
}


def identifier_column_kind(column_name: str) -> str | None:
    """What a (non-contract) column name announces, or None."""
    name = column_name.strip().lower()
    tokens = set(re.split(r"[^a-z0-9]+", name)) | {re.sub(r"[^a-z0-9]", "", name)}
    for kind, phrases in IDENTIFIER_NAME_PHRASES.items():
        if any(p in name for p in phrases):
            return kind
    for kind, words in IDENTIFIER_NAME_TOKENS.items():
        if tokens & set(words):
            return kind
    return None


_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿ"
_WORD_TITLE = f"[{_UPPER}][{_LOWER}'-]+"
_WORD_CAPS = f"[{_UPPER}]{{2,}}(?:[ -][{_UPPER}]{{2,}})*"

# Content patterns (Rust regex syntax, as Polars uses). Anchored ones match the whole value.
CONTENT_PATTERNS: dict[str, str] = {
    "an e-mail address": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    "a phone number": (
        r"^(?:(?:\+|00)[1-9][0-9]{0,2}[ .-]?[1-9]|0[1-9])(?:[ .-]?[0-9]{2}){4}$"
        r"|(?:^|[^0-9])0[1-9](?:[ .-][0-9]{2}){4}(?:$|[^0-9])"
        r"|\+[1-9][0-9]{0,2}[ .-]?(?:[0-9][ .-]?){8,12}"
    ),
    "a French NIR": (
        r"(?:^|[^0-9])[12] ?[0-9]{2} ?(?:0[1-9]|1[0-2]|[2-9][0-9]) ?(?:[0-9]{2}|2[ABab]) ?"
        r"[0-9]{3} ?[0-9]{3}(?: ?[0-9]{2})?(?:$|[^0-9])"
    ),
    "a national number": r"^[0-9]{3}-[0-9]{2}-[0-9]{4}$|^[0-9]{3} [0-9]{3} [0-9]{4}$|[0-9]{13,}",
    "a postal address": (
        r"(?i:\b[0-9]{1,4}(?: ?(?:bis|ter))?,? +(?:rue|avenue|av\.|boulevard|bd|chemin|"
        r"all[ée]e|impasse|place|route|quai|cours|street|road|lane|drive)\b)"
        r"|\b[0-9]{5} +[" + _UPPER + r"][" + _UPPER + _LOWER + r"' -]{2,}$"
        r"|(?i:\bcedex\b)"
    ),
    "a person's title and name": (
        r"(?:^|\s)(?:M\.|Mme|Mlle|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|Pr\.?) +[" + _UPPER + r"]"
    ),
}
# Person-name shapes, checked where a name never belongs (ids, codes, dates, numbers): not in
# free-text medical terms or centre names, where two capitalised words are legitimate.
NAME_SHAPE_PATTERN = (
    f"^{_WORD_TITLE} {_WORD_CAPS}$|^{_WORD_CAPS} {_WORD_TITLE}$"
    f"|^{_WORD_TITLE}, *{_WORD_TITLE}$|^[{_UPPER}][{_LOWER}]+ [{_UPPER}][{_LOWER}]+$"
)
FREE_TEXT_COLUMNS = ("drug_name", "ctcae_term", "center_id")
# Columns that must hold a year: a full date there is a birth date.
YEAR_ONLY_COLUMNS = ("birth_year",)
FULL_DATE_PATTERN = r"^\s*(?:[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}|[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{4})\s*$"


def _column_patterns(column: str) -> dict[str, str]:
    patterns = dict(CONTENT_PATTERNS)
    if column not in FREE_TEXT_COLUMNS:
        patterns["a person's name"] = NAME_SHAPE_PATTERN
    if column in YEAR_ONLY_COLUMNS:
        patterns["a full birth date"] = FULL_DATE_PATTERN
    return patterns


def screen_identifiers(frame: pl.DataFrame, file: str) -> list[BatchDefect]:
    """Batch defects for every (column, kind) whose content looks like a direct identifier.

    One vectorised pass: a count of matching rows per column and kind."""
    data_columns = [c for c in frame.columns if not c.startswith("_")]
    checks = {
        f"{column}\x00{kind}": pl.col(column).str.contains(pattern).fill_null(False).sum()
        for column in data_columns
        for kind, pattern in _column_patterns(column).items()
    }
    if not checks or frame.height == 0:
        return []
    counts = frame.select(**checks).row(0, named=True)
    defects = []
    for label, count in counts.items():
        if count:
            column, kind = label.split("\x00")
            defects.append(BatchDefect("direct_identifier", file, column,
                                       f"{count} values look like {kind}"))
    return defects

"""Direct identifier screening, before anything reaches the warehouse.

Source: the registry export contract (docs/data-dictionary.md): "patient_id: never a name,
address, phone or national id", "birth_year: year only; full birth dates are not accepted", a
direct identifier refuses the batch (rule `direct_identifier`); docs/privacy.md describes
every check. Screening is by column name (columns outside the contract) and by content
(every column, codes and ids included).
A hit is a batch defect naming the file, the column and what it looks like, with a row count;
the values themselves are never copied anywhere.

Content is screened on each column's distinct values: DuckDB sets aside the registry-style
ids and codes (`PLAIN_ID`, most of an id column) where the rows are, vectorised Polars
pre-filters the other distinct values, then the checksum, phone and name checks run in Python
on the few values that pass them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from pipelines.contract.tables import TABLES, Table
from pipelines.ingest import identifier_numbers as numbers
from pipelines.ingest.defects import BatchDefect
from pipelines.ingest.person_names import NAME_CANDIDATE, looks_like_person_name
from pipelines.sql_quoting import quote_ident

if TYPE_CHECKING:
    from pipelines.ingest.readers import TableFile

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
A_NAME = "a person's name"
A_TITLED_NAME = "a person's title and name"
AN_EMAIL = "an e-mail address"
AN_ADDRESS = "a postal address"
A_BIRTH_DATE = "a date of birth"

_STREET = (r"rue|avenue|av\.|bd|boulevard|chemin|all[ée]e|impasse|place|route|quai|cours|"
           r"faubourg|square|street|st\.|road|rd\.?|lane|drive|close|way|crescent|"
           r"straat|laan|weg|plein|gracht|stra(?:ss|ß)e|str\.|gasse|platz|allee|ring|"
           r"chauss[ée]e|calle|via|viale")
_STREET_SUFFIX = r"straat|gracht|laan|weg|plein|kade|stra(?:ss|ß)e|gasse|platz|allee|ring|dijk"
# Rust regex (Polars), matched anywhere in the value.
CONTENT_PATTERNS: dict[str, str] = {
    AN_EMAIL: r"[\p{L}0-9._%+-]+@[\p{L}0-9-]+(?:\.[\p{L}0-9-]+)*\.\p{L}{2,}",
    AN_ADDRESS: (
        rf"(?i:\b[0-9]{{1,4}}(?: ?(?:bis|ter|[a-c]))?,? +(?:[\p{{L}}'’.\-]+ +){{0,3}}(?:{_STREET})(?:[^\p{{L}}]|$))"
        rf"|(?i:\b(?:{_STREET}) +[\p{{L}}' -]{{2,}} +[0-9]{{1,4}}[a-z]?\b)"  # Rue Neuve 15
        rf"|(?i:\p{{L}}{{2,}}(?:{_STREET_SUFFIX}) +[0-9]{{1,4}}[a-z]?\b)"  # Kalverstraat 92
        r"|\b[0-9]{5} +[" + _UPPER + r"][\p{L}' -]{2,}$"  # 75013 Paris, 10115 Berlin
        r"|\b[1-9][0-9]{3} ?[A-Z]{2} +[A-Z][\p{L}' -]{2,}$"  # 1012 AB Amsterdam
        r"|\b[A-Z]{1,2}-[0-9]{4,5} +\p{Lu}"  # B-1000 Bruxelles, CH-1211 Genève
        r"|\b[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}\b"  # SW1A 1AA
        r"|(?i:\bcedex\b)|(?i:\b(?:b\.?p\.?|po box|postbus) *[0-9]+)"
    ),
    A_TITLED_NAME: (
        r"(?:^|[\s(,;])(?:M\.|Mme|Mlle|Mr\.?|Mrs\.?|Ms\.?|Miss|Dr\.?|Pr\.?|Prof\.?|Herr|Frau|"
        r"Dhr\.?|Mevr\.?|Sr\.|Sra\.) +[" + _UPPER + r"]"
    ),
}
_DAY = r"(?:0?[1-9]|[12][0-9]|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_DAY_MONTH_YEAR = (
    rf"(?:{_DAY}[./\-]{_MONTH}[./\-](?:19|20)?[0-9]{{2}}"
    rf"|{_MONTH}[./\-]{_DAY}[./\-](?:19|20)[0-9]{{2}}"
    rf"|(?:19|20)[0-9]{{2}}[./\-]{_MONTH}[./\-]{_DAY}"
    r"|(?i:[0-9]{1,2}(?:er)? +(?:jan|f[ée]v|feb|mar|avr|apr|mai|may|jui|jun|jul|ao[uû]|aug|"
    r"sep|oct|nov|d[ée]c|dec|maa|mrt|mei|okt|m[äa]r|dez)[\p{L}.]* +(?:19|20)[0-9]{2}))"
)
# A birth date in free text: a birth word followed by a date or a year.
BIRTH_CONTEXT = (
    r"(?i:(?:\bn[ée]e?\b|\bborn\b|\bd\.?o\.?b\b|\bddn\b|naissance|\bgeb(?:\.|oren\b)|"
    r"geboortedatum|\bbirth|nacimiento|\bnat[oa]\b)[^0-9]{0,20}"
    r"(?:" + _DAY_MONTH_YEAR + r"|(?:19|20)[0-9]{2}))"
)
# A full date where no date belongs (a code, a free-text or a number column).
FULL_DATE = r"(?:^|[^0-9])" + _DAY_MONTH_YEAR + r"(?:$|[^0-9])"
# birth_year must hold a year: anything date-shaped there is a birth date.
YEAR_COLUMN_DATE = r"^\s*[0-9]{1,4}\s*[./\-]\s*[0-9]{1,2}(?:\s*[./\-]\s*[0-9]{1,4})?\s*$"

# Column kinds of the contract: where a date belongs, and where a bare number is an id.
DATE_COLUMNS = frozenset(c.name for t in TABLES for c in t.columns if c.type == "date")
ID_COLUMNS = frozenset(c.name for t in TABLES for c in t.columns
                       if c.type == "text" and (c.references is not None or c.name in t.key))
YEAR_COLUMNS = frozenset({"birth_year"})
# A weakly checked number (NHS, BSN) in a column mostly made of same-length digit
# strings is a registry code unless most of them pass the check (chance: about 1 in 11).
NUMERIC_COLUMN_SHARE = 0.5
WEAK_PASS_SHARE = 0.5


# Registry-style ids and codes ("P0000001", "P0000001-I12", "CTR01", "C341"): letters then at
# most eight digits, an optional short suffix. None of the kinds above has this shape, so
# these values (most of an id column) skip the other patterns.
PLAIN_ID = r"^[A-Za-z]{1,6}[0-9]{1,8}(?:[-_][A-Za-z]{1,3}[0-9]{0,3})?$"
# The same shape for DuckDB (RE2, whole value): ASCII classes only, so both engines agree.
PLAIN_ID_FULL = PLAIN_ID.removeprefix("^").removesuffix("$")


def _content_patterns(column: str) -> dict[str, str]:
    patterns = dict(CONTENT_PATTERNS)
    if column in YEAR_COLUMNS:
        patterns[A_BIRTH_DATE] = f"{BIRTH_CONTEXT}|{YEAR_COLUMN_DATE}|{FULL_DATE}"
    elif column in DATE_COLUMNS:
        patterns[A_BIRTH_DATE] = BIRTH_CONTEXT
    elif column in ID_COLUMNS:  # ids may embed an exam date; a whole date is not an id
        patterns[A_BIRTH_DATE] = f"{BIRTH_CONTEXT}|^\\s*{_DAY_MONTH_YEAR}\\s*$"
    else:
        patterns[A_BIRTH_DATE] = f"{BIRTH_CONTEXT}|{FULL_DATE}"
    return patterns


def _weak_numbers(column: str, values: list[str], suspects: pl.Series,
                  n_distinct: int) -> dict[str, list[str]]:
    """Weakly checked numbers, weighed against the column's shape (see NUMERIC_COLUMN_SHARE).
    `suspects` are the distinct values that are not PLAIN_ID (which always starts with a
    letter, so never counts as a digit string), `n_distinct` all distinct values."""
    found: dict[str, list[str]] = {}
    hits = {v: numbers.weak_number_kinds(v) for v in values
            if not (column == "center_id" and numbers.is_organisation_number(v))}
    for length in (9, 10):
        same_length = suspects.str.replace_all(r"[ .\-/]", "").str.contains(
            f"^[0-9]{{{length}}}$").sum()
        share = same_length / max(n_distinct, 1)
        passing = [v for v, kinds in hits.items() if kinds
                   and len(re.sub(r"[ .\-/]", "", v.strip())) == length]
        if not passing:
            continue
        if share >= NUMERIC_COLUMN_SHARE and len(passing) / same_length < WEAK_PASS_SHARE:
            continue  # a column of numeric codes, passing the check at chance rate
        for v in passing:
            for kind in hits[v]:
                found.setdefault(kind, []).append(v)
    return found


def identifier_values(column: str, distinct: pl.Series) -> dict[str, list[str]]:
    """Kind -> the distinct values of one column that look like it."""
    suspects = distinct.filter(~distinct.str.contains(PLAIN_ID))
    return suspect_identifier_values(column, suspects, lambda: distinct.len())


def suspect_identifier_values(column: str, suspects: pl.Series,
                              n_distinct) -> dict[str, list[str]]:
    """`identifier_values` on the distinct values that are not PLAIN_ID; `n_distinct()`
    counts all distinct values (asked only when a weakly checked number is a candidate)."""
    if suspects.is_empty():
        return {}
    found = _suspect_values(column, suspects)
    candidates = suspects.filter(suspects.str.contains(numbers.NUMBER_CANDIDATE)).to_list()
    if candidates:
        for kind, values in _weak_numbers(column, candidates, suspects, n_distinct()).items():
            found.setdefault(kind, []).extend(values)
    return {kind: sorted(set(values)) for kind, values in found.items() if values}


def _suspect_values(column: str, distinct: pl.Series) -> dict[str, list[str]]:
    frame = pl.DataFrame({"v": distinct})
    v = pl.col("v")
    patterns = _content_patterns(column)
    masks = frame.select(
        *(v.str.contains(p).alias(kind) for kind, p in patterns.items()),
        v.str.contains(numbers.NUMBER_CANDIDATE).alias("number"),
        v.str.contains(NAME_CANDIDATE).alias("name"),
    )
    found = {kind: distinct.filter(masks[kind]).to_list() for kind in patterns}
    for value in distinct.filter(masks["number"]).to_list():
        for kind in numbers.strong_number_kinds(value):
            found.setdefault(kind, []).append(value)
        if numbers.has_phone_number(value):
            found.setdefault(numbers.A_PHONE, []).append(value)
    names = [n for n in distinct.filter(masks["name"]).to_list() if looks_like_person_name(n)]
    if names:
        found.setdefault(A_NAME, []).extend(names)
    return found


def column_identifier_values(con: duckdb.DuckDBPyConnection, source: str,
                             column_sql: str, column: str) -> dict[str, list[str]]:
    """`identifier_values` of one column of a DuckDB table, read where the rows are: only the
    distinct values that are not PLAIN_ID leave DuckDB. `source` and `column_sql` are quoted
    identifiers; `column` is the contract column whose kind selects the patterns."""
    suspects = con.execute(
        f"SELECT DISTINCT {column_sql} AS v FROM {source} "
        f"WHERE NOT regexp_full_match({column_sql}, $plain) ORDER BY v",
        {"plain": PLAIN_ID_FULL}).pl().get_column("v")
    return suspect_identifier_values(column, suspects, lambda: con.execute(
        f"SELECT count(DISTINCT {column_sql}) FROM {source}").fetchone()[0])


def screen_identifiers(con: duckdb.DuckDBPyConnection, table_file: TableFile,
                       table: Table) -> list[BatchDefect]:
    """Batch defects for every (column, kind) whose content looks like a direct identifier,
    each with the number of rows concerned (never the values). Reads the file's rows in the
    table `table_file.source` of `con`, one column at a time."""
    if table_file.rows == 0:
        return []
    source = table_file.source_sql
    defects = []
    for column, positional in table_file.column_sources(table).items():
        if positional is None:
            continue  # not delivered: all null
        value = quote_ident(positional)
        for kind, values in column_identifier_values(con, source, value, column).items():
            rows = con.execute(f"SELECT count(*) FROM {source} WHERE list_contains($values, "
                               f"{value})", {"values": values}).fetchone()[0]
            count = f"{rows} row looks" if rows == 1 else f"{rows} rows look"
            defects.append(BatchDefect("direct_identifier", table_file.file, column,
                                       f"{count} like {kind}"))
    return defects

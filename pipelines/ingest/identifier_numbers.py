"""Numbers that identify a person: national numbers checked by their check digits
(python-stdnum), IBANs (python-stdnum), phone numbers (phonenumbers, Google's libphonenumber
metadata). docs/privacy.md says why these libraries and what each check accepts.

Every function takes one distinct cell value and runs in Python: the caller only hands over the
few values that a vectorised pre-filter (`NUMBER_CANDIDATE`) lets through.
"""

from __future__ import annotations

import re

import phonenumbers
from stdnum import iban, luhn
from stdnum.be import nn as be_nn
from stdnum.de import idnr as de_idnr
from stdnum.fr import nir as fr_nir
from stdnum.gb import nhs as gb_nhs
from stdnum.nl import bsn as nl_bsn
from stdnum.us import ssn as us_ssn

FRENCH_NIR = "a French NIR/NIA"
BELGIAN_NN = "a Belgian national number"
GERMAN_IDNR = "a German tax identification number"
UK_NHS = "a UK NHS number"
DUTCH_BSN = "a Dutch BSN"
US_SSN = "a US social security number"
AN_IBAN = "an IBAN"
A_PHONE = "a phone number"

# Rust-regex pre-filters (Polars), deliberately loose: a value that passes is checked in Python.
_SEP = r"[ .\-/]?"
NUMBER_CANDIDATE = (
    r"[0-9](?:[ .\-/()]{0,2}[0-9]){8,}"  # nine digits or more, separators allowed
    rf"|[0-9](?:{_SEP}[0-9]){{4}}{_SEP}2[ABab]"  # a Corsican NIR (department 2A / 2B)
    r"|(?i:[a-z]{2}[0-9]{2}(?: ?[a-z0-9]){11,31})"  # an IBAN
)
# Within a candidate value: runs of digits and separators (and a Corsican 2A/2B), each tried.
_DIGIT_RUN = re.compile(r"\+?[0-9](?:[ .\-/()]{0,2}(?:2[ABab]|[0-9]))+")
_IBAN_RUN = re.compile(r"\b[A-Za-z]{2}[0-9]{2}(?: ?[A-Za-z0-9]){11,31}\b")
_SEPARATORS = re.compile(r"[ .\-/()]")

# Strong checks: a random digit string passes them rarely (mod 97, or a date plus mod 97, or
# IdNr's digit-repetition rule plus an ISO 7064 check), so a hit is flagged in any column.
_STRONG = (
    (15, FRENCH_NIR, fr_nir.is_valid),
    (11, BELGIAN_NN, be_nn.is_valid),
    (11, GERMAN_IDNR, de_idnr.is_valid),
)
# Weak checks: about one random string in eleven passes (mod 11); `identifiers.py` weighs these
# against the column's own shape. A bare nine-digit SSN has no check at all and looks like any
# nine-digit code: only an SSN written as one (3-2-4) is recognised.
_WEAK = (
    (10, UK_NHS, gb_nhs.is_valid),
    (9, DUTCH_BSN, nl_bsn.is_valid),
)
# An SSN written as one: 3-2-4 with dashes or spaces.
_SSN_WRITTEN = re.compile(r"(?<![0-9])[0-9]{3}[ -][0-9]{2}[ -][0-9]{4}(?![0-9])")
# The NHS number as the NHS writes it: 3-3-4.
_NHS_WRITTEN = re.compile(r"(?<![0-9])[0-9]{3}[ -][0-9]{3}[ -][0-9]{4}(?![0-9])")

# Regions whose national formats the phone check knows without a "+" (registries of these
# countries); international numbers ("+..." or "00...") are parsed whatever the region.
PHONE_REGIONS = ("FR", "GB", "DE", "NL", "BE", "CH", "IT", "ES", "US")
# A phone number is only looked for where it is written like one: an international prefix, a
# national trunk "0", or the North American (NXX) NXX-XXXX layout. Bare digit strings that
# start otherwise are registry ids as often as phones.
_PHONE_WRITTEN = re.compile(
    r"(?:^|[^0-9A-Za-z])(?:\+|00)[1-9]"
    r"|(?:^|[^0-9A-Za-z])0[1-9]"
    r"|(?:^|[^0-9])\(?[2-9][0-9]{2}\)?[ .\-][2-9][0-9]{2}[ .\-][0-9]{4}(?![0-9])"
)


_WHOLE_NUMBER = re.compile(r"^\s*\+?[0-9 .\-/()]{8,24}\s*$")


def _valid_in(number: str, region: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(number, region))
    except phonenumbers.NumberParseException:
        return False


def _compact(run: str) -> str:
    return _SEPARATORS.sub("", run).lstrip("+").upper()


def strong_number_kinds(value: str) -> set[str]:
    """Kinds of strongly checked national numbers and IBANs found in the value."""
    kinds: set[str] = set()
    for run in _DIGIT_RUN.findall(value):
        digits = _compact(run)
        for length, kind, is_valid in _STRONG:
            if len(digits) == length and is_valid(digits):
                kinds.add(kind)
    if any(iban.is_valid(run) for run in _IBAN_RUN.findall(value)):
        kinds.add(AN_IBAN)
    if any(us_ssn.is_valid(m.replace(" ", "-")) for m in _SSN_WRITTEN.findall(value)):
        kinds.add(US_SSN)
    if any(gb_nhs.is_valid(m) for m in _NHS_WRITTEN.findall(value)):
        kinds.add(UK_NHS)
    return kinds


def weak_number_kinds(value: str) -> set[str]:
    """Kinds of weakly checked numbers the value is, as a whole (digits and separators only)."""
    digits = _compact(value.strip())
    if not digits.isdigit():
        return set()
    return {kind for length, kind, is_valid in _WEAK if len(digits) == length and is_valid(digits)}


def is_organisation_number(value: str) -> bool:
    """A nine-digit Luhn number: a French FINESS (health establishment) or SIREN code, the
    usual centre codes of French registries, not a person's number."""
    digits = _compact(value.strip())
    return len(digits) == 9 and digits.isdigit() and luhn.is_valid(digits)


def has_phone_number(value: str) -> bool:
    """A valid phone number (for its region's numbering plan) written like one."""
    if not _PHONE_WRITTEN.search(value):
        return False
    international = re.sub(r"(?:^|(?<=[^0-9]))00(?=[1-9])", "+", value)
    if _WHOLE_NUMBER.match(international):  # the value is one number: parse, do not scan
        return any(_valid_in(international, region) for region in PHONE_REGIONS)
    for region in PHONE_REGIONS:
        for match in phonenumbers.PhoneNumberMatcher(international, region):
            if phonenumbers.is_valid_number(match.number):
                return True
    return False

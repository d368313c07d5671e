"""One sample of every identifier kind the screen knows, the words its refusal uses, and a
batch that holds them (shared by the validate, run and data-folder tests)."""

from __future__ import annotations

import copy

from pipelines.contract.tables import TABLES_BY_NAME

# kind -> (value, words of the refusal's "look like ..." detail)
SAMPLES: dict[str, tuple[str, str]] = {
    "name": ("Jean-Baptiste POQUELIN", "a person's name"),
    "name, title case": ("Jean-Baptiste Poquelin", "a person's name"),
    "name, last first": ("Poquelin, Jean-Baptiste", "a person's name"),
    "name, particle": ("Ludwig van Beethoven", "a person's name"),
    "title": ("Mme Durand", "a person's title and name"),
    "e-mail": ("jean.dupont@example.fr", "an e-mail address"),
    "phone, national": ("06 12 34 56 78", "a phone number"),
    "phone, international": ("+44 20 7946 0958", "a phone number"),
    "NIR, dotted": ("1.85.05.75.123.456.73", "a French NIR/NIA"),
    "NIR, dashed": ("2-48-06-2B-552-357-29", "a French NIR/NIA"),
    "NHS number": ("943 476 5919", "a UK NHS number"),
    "SSN": ("123-45-6789", "a US social security number"),
    "Belgian number": ("85.07.30-033.28", "a Belgian national number"),
    "BSN": ("111222333", "a Dutch BSN"),
    "German IdNr": ("36 574 261 809", "a German tax identification number"),
    "IBAN": ("FR76 3000 6000 0112 3456 7890 189", "an IBAN"),
    "address": ("12 rue de la Paix", "a postal address"),
    "postcode and city": ("75013 Paris", "a postal address"),
    "date of birth": ("née le 12/03/1950", "a date of birth"),
}
# One column of each kind: id, free text, coded text, code, integer, decimal, date, boolean.
COLUMN_KINDS: dict[str, tuple[str, str]] = {
    "id": ("patients", "patient_id"),
    "free text": ("toxicities", "ctcae_term"),
    "centre": ("patients", "center_id"),
    "coded text": ("primary_tumors", "clinical_t"),
    "code": ("patients", "sex"),
    "integer": ("toxicities", "grade"),
    "decimal": ("patients", "pack_years"),
    "date": ("primary_tumors", "diagnosis_date"),
    "boolean": ("metastases", "biopsy_confirmed"),
}


def with_rows_holding(tables, table: str, column: str, values: list[str]):
    """A copy where `table` gets one extra row per value (a copy of its first row, new keys),
    `column` holding the value."""
    out = copy.deepcopy(tables)
    key = TABLES_BY_NAME[table].key[0]
    template = out[table][0]
    for i, value in enumerate(values):
        row = dict(template)
        row[key] = f"{template[key]}-X{i:02d}"
        row[column] = value
        out[table].append(row)
    return out

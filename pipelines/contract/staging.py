"""The typed shape of `staging.<table>`: what every downstream rule may rely on.

Contract columns keep their names with these types; ids are pseudonymised (HMAC keys, opaque
text); codes are normalised to their canonical spelling; defaults of the contract are applied
(phase 1, confirmed true, TNM 8, prescription, CTCAE 5.0). A few derived columns are added.
"""

from __future__ import annotations

import polars as pl

from pipelines.contract.tables import TABLES_BY_NAME

POLARS_TYPES: dict[str, pl.DataType] = {
    "text": pl.String(),
    "code": pl.String(),
    "int": pl.Int64(),
    "decimal": pl.Float64(),
    "date": pl.Date(),
    "bool": pl.Boolean(),
}

DUCKDB_TYPES: dict[str, str] = {
    "text": "VARCHAR",
    "code": "VARCHAR",
    "int": "BIGINT",
    "decimal": "DOUBLE",
    "date": "DATE",
    "bool": "BOOLEAN",
}

# Columns staging adds to the contract's, with their meaning.
EXTRA_COLUMNS: dict[str, dict[str, tuple[pl.DataType, str]]] = {
    "patients": {
        "is_incomplete": (pl.Boolean(), "a clinical row of this patient was quarantined"),
        "has_implausibility": (pl.Boolean(), "a cross-record implausibility was flagged"),
    },
    "primary_tumors": {
        "diagnosis_date_imputed": (pl.Boolean(), "diagnosis_date was partial and imputed"),
    },
    "metastases": {
        "detected_date_imputed": (pl.Boolean(), "detected_date was partial and imputed"),
        "site_laterality": (pl.String(), "laterality carried by an ICD-10-CM site code"),
    },
    "systemic_therapies": {
        "atc_code_as_delivered": (pl.String(), "the ATC code before normalisation"),
    },
}


def staging_schema(table_name: str) -> dict[str, pl.DataType]:
    """Column name -> Polars dtype of `staging.<table_name>`."""
    t = TABLES_BY_NAME[table_name]
    schema = {c.name: POLARS_TYPES[c.type] for c in t.columns}
    schema.update({name: dtype for name, (dtype, _) in EXTRA_COLUMNS.get(table_name, {}).items()})
    return schema


def empty_staging_frame(table_name: str) -> pl.DataFrame:
    return pl.DataFrame(schema=staging_schema(table_name))

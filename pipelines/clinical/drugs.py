"""Drug vocabulary: which drugs are antineoplastic and which class each belongs to.

Sources: WHO ATC/DDD index (current L01 structure after the 2021-2022 restructure; the
previous codes are listed in the code set and accepted on input). Shared spec
`clinical-rules.md` section 3: active systemic therapy means an antineoplastic drug (ATC L01,
or a known antineoplastic by name); bone agents (denosumab, zoledronic acid) and steroids do
not count. Classes are those of `docs/marts-interface.md`.

The vocabulary lives in the versioned code sets `codesets/drugs_v1.csv` (one row per INN) and
`codesets/atc_class_prefixes_v1.csv` (the class of an ATC group, for drugs not listed).
"""

from __future__ import annotations

import polars as pl

from pipelines.clinical.codesets import load_codeset
from pipelines.ingest.sql_support import ATC_RENAMED_FILE

DRUG_CLASSES = (
    "platinum",
    "anti_pd1_pdl1",
    "other_immunotherapy",
    "egfr_alk_inhibitor",
    "other_targeted",
    "chemotherapy",
    "other_antineoplastic",  # an L01 drug outside the listed groups
    "bone_agent",
    "steroid",
)
ANTINEOPLASTIC_ATC_PREFIX = "L01"


def _drugs() -> pl.DataFrame:
    return load_codeset("drugs").with_columns(
        pl.col("is_antineoplastic") == "true",
    )


def drug_code_set() -> pl.DataFrame:
    """The drug code set: drug_name, atc_code, drug_class, is_antineoplastic."""
    return _drugs()


def atc_normalisation_map() -> dict[str, str]:
    """Old ATC code (before the 2021-2022 L01 restructure) -> current WHO code: the one
    mapping table the loader normalises staging with."""
    d = pl.read_csv(ATC_RENAMED_FILE, infer_schema=False)
    return dict(zip(d["old_code"], d["current_code"], strict=True))


def _normalised_name(name: str) -> pl.Expr:
    return pl.col(name).str.strip_chars().str.to_lowercase()


def _normalised_atc(atc: str) -> pl.Expr:
    return pl.col(atc).str.strip_chars().str.to_uppercase()


def _class_by_atc_prefix(atc: str) -> pl.Expr:
    """Class of the longest matching ATC group prefix (e.g. L01FF -> anti_pd1_pdl1)."""
    prefixes = load_codeset("atc_class_prefixes").sort(
        pl.col("atc_prefix").str.len_chars(), descending=True
    )
    code = _normalised_atc(atc)
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    # Build from the shortest prefix outwards so the longest match wins.
    for prefix, klass in reversed(list(zip(prefixes["atc_prefix"], prefixes["drug_class"],
                                           strict=True))):
        expr = pl.when(code.str.starts_with(prefix)).then(pl.lit(klass)).otherwise(expr)
    return expr


def drug_class(name: str = "drug_name", atc: str = "atc_code") -> pl.Expr:
    """Class of a drug: by its INN when listed, else by its exact ATC code (current or
    previous), else by its ATC group; null when nothing is known (never a guess)."""
    d = _drugs()
    by_name = dict(zip(d["drug_name"], d["drug_class"], strict=True))
    by_code = dict(zip(d["atc_code"], d["drug_class"], strict=True))
    # Codes from before the restructure classify like their current code.
    by_code.update({old: by_code[new] for old, new in atc_normalisation_map().items()
                    if new in by_code})
    return pl.coalesce(
        _normalised_name(name).replace_strict(by_name, default=None, return_dtype=pl.String),
        _normalised_atc(atc).replace_strict(by_code, default=None, return_dtype=pl.String),
        _class_by_atc_prefix(atc),
    ).alias("drug_class")


def is_antineoplastic(name: str = "drug_name", atc: str = "atc_code") -> pl.Expr:
    """ATC L01, or a drug listed as antineoplastic by name (bone agents and steroids are
    listed as not antineoplastic and have no L01 code)."""
    d = _drugs().filter(pl.col("is_antineoplastic"))
    return (
        _normalised_atc(atc).str.starts_with(ANTINEOPLASTIC_ATC_PREFIX).fill_null(False)
        | _normalised_name(name).is_in(d["drug_name"].to_list()).fill_null(False)
    ).alias("is_antineoplastic")

"""Drug vocabulary: which drugs are antineoplastic and which class each belongs to.

Sources: WHO ATC/DDD index 2026 (the L01 structure after the 2021-2022 restructure, c-MET
inhibitors in L01EP since 2026; previous codes are mapped to current ones on input,
`pipelines/ingest/mappings/atc_l01_restructure.csv`). docs/clinical-rules.md section 3:
active systemic therapy means an antineoplastic drug, recognised by ATC code (L01) or by name
against the code set; bone agents (denosumab, zoledronic acid) and steroids do not count. A
drug row recognised by neither (no ATC code, a name in no list) is *unrecognised*: it is
counted by a data-quality check, and where it decides whether a patient is on systemic
therapy the episode is `unclassifiable_unknown_drug`, never "off therapy". Classes are those
of `docs/marts-interface.md`.

The vocabulary lives in the versioned code sets `codesets/drugs_v2.csv` (one row per INN of
every L01 substance of the WHO ATC index, plus recent NSCLC drugs by name, plus the
non-antineoplastic supportive drugs), `codesets/atc_class_prefixes_v1.csv` (the class of an
ATC group, for codes not listed) and the site mapping `pipelines/ingest/mappings/
drug_names_site.csv` (brand names and local spellings -> ATC code) that a registry extends.
"""

from __future__ import annotations

import functools
from pathlib import Path

import polars as pl

from pipelines.clinical.codesets import CODESET_VERSIONS, load_codeset
from pipelines.ingest.sql_support import ATC_RENAMED_FILE, MAPPINGS_DIR

SITE_DRUG_NAMES_FILE = MAPPINGS_DIR / "drug_names_site.csv"

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


def _mtime(path: Path) -> int:
    return path.stat().st_mtime_ns


# The vocabulary is read once per process and version of its files (a registry may edit its
# site mapping between runs of a long-lived process): the rules build their expressions from
# it for every partition of every step.
@functools.cache
def _drugs_of_version(_codeset: str) -> pl.DataFrame:
    return load_codeset("drugs").with_columns(
        pl.col("is_antineoplastic") == "true",
    )


def _drugs() -> pl.DataFrame:
    return _drugs_of_version(CODESET_VERSIONS["drugs"])


@functools.cache
def _site_drug_names(path: Path, _mtime_ns: int) -> dict[str, str]:
    d = pl.read_csv(path, infer_schema=False)
    names = d["drug_name"].str.strip_chars().str.to_lowercase()
    codes = d["atc_code"].str.strip_chars().str.to_uppercase()
    return dict(zip(names, codes, strict=True))


def site_drug_names() -> dict[str, str]:
    """The registry's extra names (lower case) -> ATC code."""
    return dict(_site_drug_names(SITE_DRUG_NAMES_FILE, _mtime(SITE_DRUG_NAMES_FILE)))


def drug_code_set() -> pl.DataFrame:
    """The drug code set: drug_name, atc_code, drug_class, is_antineoplastic."""
    return _drugs()


@functools.cache
def _atc_normalisation_map(path: Path, _mtime_ns: int) -> dict[str, str]:
    d = pl.read_csv(path, infer_schema=False)
    return dict(zip(d["old_code"], d["current_code"], strict=True))


def atc_normalisation_map() -> dict[str, str]:
    """Old ATC code (before the 2021-2022 L01 restructure) -> current WHO code: the one
    mapping table the loader normalises staging with."""
    return dict(_atc_normalisation_map(ATC_RENAMED_FILE, _mtime(ATC_RENAMED_FILE)))


def _normalised_name(name: str) -> pl.Expr:
    return pl.col(name).str.strip_chars().str.to_lowercase()


def _normalised_atc(atc: str) -> pl.Expr:
    return pl.col(atc).str.strip_chars().str.to_uppercase()


def effective_atc(name: str = "drug_name", atc: str = "atc_code") -> pl.Expr:
    """The recorded ATC code, else the code the site mapping gives the name."""
    by_site_name = _normalised_name(name).replace_strict(
        site_drug_names(), default=None, return_dtype=pl.String
    )
    return pl.coalesce(pl.when(_normalised_atc(atc) != "").then(_normalised_atc(atc)),
                       by_site_name)


def _class_by_atc_prefix(code: pl.Expr) -> pl.Expr:
    """Class of the longest matching ATC group prefix (e.g. L01FF -> anti_pd1_pdl1)."""
    prefixes = load_codeset("atc_class_prefixes")
    by_length: dict[int, dict[str, str]] = {}
    for prefix, klass in zip(prefixes["atc_prefix"], prefixes["drug_class"], strict=True):
        by_length.setdefault(len(prefix), {})[prefix] = klass
    # The code's first n characters looked up per prefix length, longest first: the
    # longest matching group wins (one hash lookup per length, not a test per prefix).
    return pl.coalesce(
        code.str.slice(0, n).replace_strict(by_length[n], default=None,
                                            return_dtype=pl.String)
        for n in sorted(by_length, reverse=True)
    )


@functools.cache
def _class_lookups(_codeset: str, _atc_mtime_ns: int) -> tuple[dict[str, str], dict[str, str]]:
    """(INN -> class, ATC code -> class) with the codes from before the restructure."""
    d = _drugs()
    by_name = dict(zip(d["drug_name"], d["drug_class"], strict=True))
    listed = d.filter(pl.col("atc_code").is_not_null())
    by_code = dict(zip(listed["atc_code"], listed["drug_class"], strict=True))
    # Codes from before the restructure classify like their current code.
    by_code.update({old: by_code[new] for old, new in atc_normalisation_map().items()
                    if new in by_code})
    return by_name, by_code


def drug_class(name: str = "drug_name", atc: str = "atc_code") -> pl.Expr:
    """Class of a drug: by its INN when listed, else by its exact ATC code (current or
    previous), else by its ATC group; null when nothing is known (never a guess)."""
    by_name, by_code = _class_lookups(CODESET_VERSIONS["drugs"], _mtime(ATC_RENAMED_FILE))
    code = effective_atc(name, atc)
    return pl.coalesce(
        _normalised_name(name).replace_strict(by_name, default=None, return_dtype=pl.String),
        code.replace_strict(by_code, default=None, return_dtype=pl.String),
        _class_by_atc_prefix(code),
    ).alias("drug_class")


def is_antineoplastic(name: str = "drug_name", atc: str = "atc_code") -> pl.Expr:
    """ATC L01 (recorded, or given to the name by the site mapping), or a drug listed as
    antineoplastic by name (bone agents and steroids are listed as not antineoplastic and
    have no L01 code)."""
    d = _drugs().filter(pl.col("is_antineoplastic"))
    return (
        effective_atc(name, atc).str.starts_with(ANTINEOPLASTIC_ATC_PREFIX).fill_null(False)
        | _normalised_name(name).is_in(d["drug_name"].to_list()).fill_null(False)
    ).alias("is_antineoplastic")


def is_unrecognised_drug(name: str = "drug_name", atc: str = "atc_code") -> pl.Expr:
    """No ATC code (recorded or from the site mapping) and a name in no list: whether it is
    antineoplastic cannot be told."""
    listed = _drugs()["drug_name"].to_list()
    return (
        effective_atc(name, atc).is_null()
        & ~_normalised_name(name).is_in(listed).fill_null(False)
    ).alias("is_unrecognised_drug")


def with_drug_facts(frame: pl.LazyFrame, name: str = "drug_name", atc: str = "atc_code",
                    ) -> pl.LazyFrame:
    """`frame` plus drug_class, is_antineoplastic and is_unrecognised_drug, worked out once
    per distinct (name, code) of the frame and joined back (a registry has a few hundred
    distinct drug entries and millions of drug rows)."""
    facts = frame.select(name, atc).unique().with_columns(
        drug_class(name, atc), is_antineoplastic(name, atc), is_unrecognised_drug(name, atc)
    )
    return frame.join(facts, on=[name, atc], how="left", nulls_equal=True,
                      maintain_order="left")

"""--messy: row defects of every kind the contract quarantines or warns about
(`pipelines/contract/rules.py`), plus stray case and blanks that are not defects.

Each block of patients (draws.BLOCK_SIZE) gets one defect of a kind in every `every`-th
block, on the eligible patient with the smallest uniform, and a patient carries at most one
kind: defects do not depend on the chunk size and never overlap, and no table's quarantine
rate (cascades included) reaches the 1 % refusal threshold. Every kind occurs from 5 blocks
(5,000 patients) up. Each injected defect is listed as the validator
reports it: table, key (composite keys joined with "|"), column, rule, row number (CSV line
with the header as line 1; Parquet 0-based row index), file. Cascades are not listed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.contract.dialects import Dialect
from pipelines.contract.tables import TABLES_BY_NAME
from pipelines.synthetic.draws import BLOCK_SIZE, Draws
from pipelines.synthetic.rows import ID_DIGITS

DEFECT_COLUMNS = {"table": pl.String, "key": pl.String, "column": pl.String, "rule": pl.String,
                  "row_number": pl.Int64, "file": pl.String}


@dataclass(frozen=True)
class Kind:
    table: str
    column: str
    rule: str
    every: int  # one defect of this kind in every `every`-th block of patients
    eligible: pl.Expr  # rows of `table` that may carry it
    value: pl.Expr | None = None  # new cell text (None: special handling)
    # (column, rule) of further warnings the same change always sets off on the same row:
    # each is listed too, so defects.csv stays exactly what the validator reports
    also: tuple[tuple[str, str], ...] = ()


def _date_shift(col: str, days: int, dialect: Dialect) -> pl.Expr:
    return (pl.col(col).str.to_date(dialect.date_format, strict=False) + pl.duration(days=days)) \
        .dt.strftime(dialect.date_format)


def kinds(dialect: Dialect) -> list[Kind]:
    c = pl.col
    full_date = c("exam_date").str.len_chars() >= 10
    impossible = pl.lit("2023-02-30" if dialect.date_format == "%Y-%m-%d" else "30/02/2023")
    return [
        Kind("patients", "sex", "code_list", 2, pl.lit(True), pl.lit("Z")),
        Kind("patients", "pack_years", "type_decimal", 2, c("pack_years").is_not_null(), pl.lit("12..5")),
        Kind("primary_tumors", "morphology_code", "code_pattern", 3, c("tumor_id").str.ends_with("-T1"),
             c("morphology_code").str.slice(0, 4)),
        Kind("metastases", "organ", "code_list", 2, c("organ") != "regional_lymph_node", pl.lit("kidney")),
        Kind("metastases", "detected_date", "required", 2, c("detected_date").str.len_chars() >= 10, pl.lit(None)),
        Kind("imaging", "modality", "code_list", 1, pl.lit(True), pl.lit("xray")),
        Kind("imaging", "exam_date", "type_date", 1, full_date, impossible),
        Kind("imaging", "exam_date", "required", 1, full_date, pl.lit(None)),
        Kind("imaging", "exam_id", "duplicate_key", 1, c("_nth") == 1, None),
        Kind("disease_events", "lesion_id", "orphan_reference", 5, c("lesion_id").is_not_null(),
             c("patient_id") + "-M99"),
        Kind("disease_events", "lesion_id", "required_if", 5, c("lesion_id").is_not_null(), pl.lit(None)),
        Kind("radiotherapy", "total_dose_gy", "dose_in_cgy", 1, c("fractions") != "1",
             (c("total_dose_gy").str.replace(",", ".", literal=True).cast(pl.Float64) * 100).round(0)
             .cast(pl.Int64).cast(pl.String)),
        Kind("radiotherapy", "phase", "duplicate_key", 2, c("phase") == "2", None),
        Kind("radiotherapy", "fractions", "type_int", 2, pl.lit(True), pl.lit("three")),
        Kind("systemic_therapies", "end_date", "end_before_start", 1, c("end_date").is_not_null(), None),
        Kind("systemic_therapies", "stop_reason", "code_list", 1, pl.lit(True), pl.lit("relapse")),
        Kind("toxicities", "grade", "range", 3, pl.lit(True), pl.lit("7")),
        Kind("toxicities", "course_id", "orphan_reference", 3, c("course_id").is_not_null(),
             c("patient_id") + "-R99"),
        Kind("local_procedures", "modality", "code_list", 5, pl.lit(True), pl.lit("laser")),
        # cross-record implausibilities: rows load, the check lists them
        Kind("toxicities", "grade", "grade5_alive", 2, (c("_vital") != "dead") & (c("grade") != "5"), pl.lit("5")),
        Kind("radiotherapy", "start_date", "radiotherapy_before_diagnosis", 2,
             c("_one_primary") & c("_dx").str.to_date(dialect.date_format, strict=False).is_not_null(), None),
        Kind("imaging", "exam_date", "imaging_after_last_contact", 1,
             (c("_vital") != "dead") & (c("_nth") == 0) & full_date, None),
        Kind("patients", "last_contact_date", "last_contact_after_death", 1, c("vital_status") == "dead",
             None),
        # stray case and blanks: normalised on load, not defects
        Kind("patients", "sex", "normalised", 1, pl.lit(True), c("sex").str.to_lowercase()),
        Kind("imaging", "modality", "normalised", 1, pl.lit(True), " " + c("modality").str.to_uppercase() + " "),
        Kind("metastases", "organ", "normalised", 1, pl.lit(True),
             c("organ").str.slice(0, 1).str.to_uppercase() + c("organ").str.slice(1)),
        # (kinds added later go last: the patients chosen for the earlier kinds stay the same)
        # a lesion of one patient attached to the primary tumour of the previous patient
        Kind("metastases", "tumor_id", "reference_other_patient", 2,
             c("tumor_id").is_not_null() & (c("_p") >= 1), None),
        # a month only where the contract requires a complete date
        Kind("imaging", "exam_date", "partial_date_not_allowed", 2, full_date,
             c("exam_date").str.to_date(dialect.date_format, strict=False)
             .dt.strftime(dialect.partial_date_formats[0])),
        # death 20 days before the only (complete) diagnosis date; the last contact, on or
        # after diagnosis, is then after death too
        Kind("patients", "death_date", "death_before_diagnosis", 2,
             (c("vital_status") == "dead") & c("_one_primary")
             & (c("last_contact_date").str.to_date(dialect.date_format, strict=False)
                >= c("_dx").str.to_date(dialect.date_format, strict=False)),
             None, also=(("last_contact_date", "last_contact_after_death"),)),
        # a first primary diagnosed the year before the patient's birth year (an earlier
        # diagnosis sets off no other warning)
        Kind("primary_tumors", "diagnosis_date", "event_before_birth", 2,
             c("tumor_id").str.ends_with("-T1") & c("_birth").str.to_integer(strict=False).is_not_null(),
             None),
        # a yes/no field holding something else (a leaf table: no children cascade)
        Kind("mdt_decisions", "all_sites_radically_treatable", "type_bool", 2,
             c("all_sites_radically_treatable").is_not_null(), pl.lit("maybe")),
    ]


def _local_index(pid: pl.Expr, first: int) -> pl.Expr:
    return pid.str.slice(1, ID_DIGITS).cast(pl.Int64) - first - 1


def _new_values(k: Kind, table: pl.DataFrame, rows: pl.DataFrame, first: int, dialect: Dialect) -> pl.Series:
    """The defective text of `k.column` in the chosen rows (`rows`: those rows of `table`)."""
    col = k.column
    if k.rule == "duplicate_key" and k.table == "imaging":  # the previous exam's id
        return table["exam_id"].gather(rows["_row"] - 1)
    expr = {
        "duplicate_key": pl.lit("1"),  # a boost (phase 2) re-labelled phase 1
        "end_before_start": _date_shift("start_date", -7, dialect),
        "radiotherapy_before_diagnosis": _date_shift("_dx", -20, dialect),
        "imaging_after_last_contact": _date_shift("_last", 10, dialect),
        "last_contact_after_death": _date_shift("death_date", 20, dialect),
        "death_before_diagnosis": _date_shift("_dx", -20, dialect),
        "event_before_birth": pl.date(pl.col("_birth").str.to_integer() - 1, 6, 15)
        .dt.strftime(dialect.date_format),
        # the primary tumour of the previous patient (patient numbers are consecutive)
        "reference_other_patient": pl.lit("P") + (pl.col("_p") + first).cast(pl.String).str.zfill(ID_DIGITS) + "-T1",
    }.get(k.rule, k.value)
    return rows.select(expr.cast(pl.String).alias(col)).to_series()


def _apply(df: pl.DataFrame, changes: list[tuple[str, pl.Series, pl.Series]]) -> pl.DataFrame:
    """Set the changed cells (column, row indices, new text); the rest of the frame is shared."""
    for col, rows, values in changes:
        if col in df.columns:
            df = df.with_columns(df[col].clone().scatter(rows, values))
    return df


def inject_defects(text: dict[str, pl.DataFrame], chunk, draws: Draws, dialect: Dialect,
                   offsets: dict[str, int], ext: str) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    n, first = chunk.n, chunk.first_patient
    ks = kinds(dialect)
    u = draws.u(len(ks))
    pat = text["patients"].select("patient_id", _vital="vital_status", _death="death_date",
                                  _last="last_contact_date", _birth="birth_year")
    prim = text["primary_tumors"].group_by("patient_id", maintain_order=True).agg(
        _dx=pl.col("diagnosis_date").first(), _one_primary=pl.len() == 1)
    annotated: dict[str, pl.DataFrame] = {}  # each table once, with its row index and patient facts
    changes: dict[str, list] = {name: [] for name in text}
    taken = np.zeros(n, dtype=bool)
    block = (first + np.arange(n)) // BLOCK_SIZE
    listed = []
    for k_i, k in enumerate(ks):
        if k.table not in annotated:
            annotated[k.table] = text[k.table].with_row_index("_row").with_columns(
                _p=_local_index(pl.col("patient_id"), first),
                _nth=pl.int_range(pl.len()).over("patient_id"),
            ).join(pat, on="patient_id", how="left", maintain_order="left") \
             .join(prim, on="patient_id", how="left", maintain_order="left")
        df = annotated[k.table]
        # eligibility looks at a row's own (unchanged: its patient is not taken yet) values
        elig_rows = df.filter(k.eligible).select("_row", "_p")
        elig = np.zeros(n, dtype=bool)
        elig[elig_rows["_p"].to_numpy()] = True
        # per block: the eligible, untouched patient with the smallest uniform, in every
        # `every`-th block (offset by kind), so counts are fixed per block
        ok = elig & ~taken & ((block + k_i) % k.every == 0)
        pick = pl.DataFrame({"_p": np.flatnonzero(ok), "b": block[ok], "u": u[ok, k_i]}) \
            .sort("u").group_by("b").first()["_p"]
        if not len(pick):
            continue
        taken[pick.to_numpy()] = True
        # one row per chosen patient: its first eligible row
        target = elig_rows.filter(pl.col("_p").is_in(pick.implode())).group_by("_p").agg(pl.col("_row").min())["_row"].sort()
        rows = df[target]
        values = _new_values(k, df, rows, first, dialect)
        change = (k.column, target, values)
        changes[k.table].append(change)
        t = TABLES_BY_NAME[k.table]
        key_expr = pl.concat_str([pl.col(c) for c in t.key], separator="|")
        if k.rule == "duplicate_key":  # every row sharing the key is reported
            keyed = _apply(df.select("_row", *t.key), [change]).select("_row", key=key_expr)
            new_keys = keyed["key"].gather(target)
            hit = keyed.filter(pl.col("key").is_in(new_keys.implode()))
        else:
            hit = _apply(rows, [(k.column, pl.Series(np.arange(len(target))), values)]).select("_row", key=key_expr)
        column = "|".join(t.key) if k.rule == "duplicate_key" else k.column
        for col, rule in ((column, k.rule), *k.also):
            listed.append(hit.select(
                table=pl.lit(k.table), key="key", column=pl.lit(col), rule=pl.lit(rule),
                row_number=pl.col("_row").cast(pl.Int64) + offsets[k.table],
                file=pl.lit(f"{k.table}.{ext}")))
    out = {name: _apply(df, changes[name]) for name, df in text.items()}
    defects = pl.concat(listed) if listed else pl.DataFrame(schema=DEFECT_COLUMNS)
    return out, defects.sort("file", "row_number", "rule")


def inject_identifier(patients: pl.DataFrame, draws: Draws) -> pl.DataFrame:
    """A column of plausible person names: the validator must refuse the batch whole."""
    from pipelines.synthetic.vocab import FIRST_NAMES, LAST_NAMES

    n = patients.height
    first = FIRST_NAMES[(draws.u() * len(FIRST_NAMES)).astype(int)[:n]]
    last = LAST_NAMES[(draws.u() * len(LAST_NAMES)).astype(int)[:n]]
    return patients.with_columns(patient_name=pl.Series(np.char.add(np.char.add(first, " "), last)))

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
        # a lesion of one patient attached to the primary tumour of the previous patient
        Kind("metastases", "tumor_id", "reference_other_patient", 2,
             c("tumor_id").is_not_null() & (c("_p") >= 1), None),
        # a month only where the contract requires a complete date
        Kind("imaging", "exam_date", "partial_date_not_allowed", 2, full_date,
             c("exam_date").str.to_date(dialect.date_format, strict=False)
             .dt.strftime(dialect.partial_date_formats[0])),
        # cross-record implausibilities: rows load, the check lists them
        Kind("toxicities", "grade", "grade5_alive", 2, (c("_vital") != "dead") & (c("grade") != "5"), pl.lit("5")),
        Kind("radiotherapy", "start_date", "radiotherapy_before_diagnosis", 2,
             c("_one_primary") & c("_dx").is_not_null(), None),
        Kind("imaging", "exam_date", "imaging_after_last_contact", 1,
             (c("_vital") != "dead") & (c("_nth") == 0) & full_date, None),
        Kind("patients", "last_contact_date", "last_contact_after_death", 1, c("vital_status") == "dead",
             None),
        # stray case and blanks: normalised on load, not defects
        Kind("patients", "sex", "normalised", 1, pl.lit(True), c("sex").str.to_lowercase()),
        Kind("imaging", "modality", "normalised", 1, pl.lit(True), " " + c("modality").str.to_uppercase() + " "),
        Kind("metastases", "organ", "normalised", 1, pl.lit(True),
             c("organ").str.slice(0, 1).str.to_uppercase() + c("organ").str.slice(1)),
    ]


def _local_index(pid: pl.Expr, first: int) -> pl.Expr:
    return pid.str.slice(1, ID_DIGITS).cast(pl.Int64) - first - 1


def inject_defects(text: dict[str, pl.DataFrame], chunk, draws: Draws, dialect: Dialect,
                   offsets: dict[str, int], ext: str) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    n, first = chunk.n, chunk.first_patient
    ks = kinds(dialect)
    u = draws.u(len(ks))
    pat = text["patients"].select("patient_id", _vital="vital_status", _death="death_date",
                                  _last="last_contact_date")
    prim = text["primary_tumors"].group_by("patient_id", maintain_order=True).agg(
        _dx=pl.col("diagnosis_date").first(), _one_primary=pl.len() == 1)
    taken = np.zeros(n, dtype=bool)
    out = dict(text)
    listed = []
    for k_i, k in enumerate(ks):
        df = out[k.table].with_row_index("_row").with_columns(
            _p=_local_index(pl.col("patient_id"), first),
            _nth=pl.int_range(pl.len()).over("patient_id"))
        df = df.join(pat, on="patient_id", how="left", suffix="_p").join(prim, on="patient_id", how="left")
        elig_rows = df.filter(k.eligible)
        elig = np.zeros(n, dtype=bool)
        elig[elig_rows["_p"].unique().to_numpy()] = True
        # per block: the eligible, untouched patient with the smallest uniform, in every
        # `every`-th block (offset by kind), so counts are fixed per block
        block = (first + np.arange(n)) // BLOCK_SIZE
        ok = elig & ~taken & ((block + k_i) % k.every == 0)
        pick = pl.DataFrame({"_p": np.flatnonzero(ok), "b": block[ok], "u": u[ok, k_i]}) \
            .sort("u").group_by("b").first()["_p"].to_numpy()
        if not len(pick):
            continue
        taken[pick] = True
        cand = elig_rows.filter(pl.col("_p").is_in(pick.tolist()))
        # one row per chosen patient: the first eligible one (order draw breaks ties deterministically)
        rows = cand.group_by("_p", maintain_order=True).first()
        target = rows["_row"]
        mark = pl.col("_row").is_in(target.implode())
        col = k.column
        t = TABLES_BY_NAME[k.table]
        if k.rule == "duplicate_key" and k.table == "imaging":
            df = df.with_columns(pl.when(mark).then(pl.col("exam_id").shift(1)).otherwise(pl.col("exam_id")).alias("exam_id"))
        elif k.rule == "duplicate_key":
            df = df.with_columns(pl.when(mark).then(pl.lit("1")).otherwise(pl.col("phase")).alias("phase"))
        elif k.rule == "end_before_start":
            df = df.with_columns(pl.when(mark).then(_date_shift("start_date", -7, dialect)).otherwise(pl.col(col)).alias(col))
        elif k.rule == "radiotherapy_before_diagnosis":
            df = df.with_columns(pl.when(mark).then(_date_shift("_dx", -20, dialect)).otherwise(pl.col(col)).alias(col))
        elif k.rule == "imaging_after_last_contact":
            df = df.with_columns(pl.when(mark).then(_date_shift("_last", 10, dialect)).otherwise(pl.col(col)).alias(col))
        elif k.rule == "reference_other_patient":
            previous = pl.lit("P") + (pl.col("_p") + first).cast(pl.String).str.zfill(ID_DIGITS) + "-T1"
            df = df.with_columns(pl.when(mark).then(previous).otherwise(pl.col(col)).alias(col))
        elif k.rule == "last_contact_after_death":
            df = df.with_columns(pl.when(mark).then(_date_shift("death_date", 20, dialect)).otherwise(pl.col(col)).alias(col))
        else:
            df = df.with_columns(pl.when(mark).then(k.value).otherwise(pl.col(col)).alias(col))
        key_expr = pl.concat_str([pl.col(c) for c in t.key], separator="|")
        hit = df.filter(mark).select("_row", key=key_expr)
        if k.rule == "duplicate_key":  # every row sharing the key is reported
            hit = df.filter(key_expr.is_in(hit["key"].implode())).select("_row", key=key_expr)
        listed.append(hit.select(
            table=pl.lit(k.table), key="key", column=pl.lit("|".join(t.key) if k.rule == "duplicate_key" else col),
            rule=pl.lit(k.rule), row_number=pl.col("_row").cast(pl.Int64) + offsets[k.table],
            file=pl.lit(f"{k.table}.{ext}")))
        out[k.table] = df.select(t.column_names)
    defects = pl.concat(listed) if listed else pl.DataFrame(schema=DEFECT_COLUMNS)
    return out, defects.sort("file", "row_number", "rule")


def inject_identifier(patients: pl.DataFrame, draws: Draws) -> pl.DataFrame:
    """A column of plausible person names: the validator must refuse the batch whole."""
    from pipelines.synthetic.vocab import FIRST_NAMES, LAST_NAMES

    n = patients.height
    first = FIRST_NAMES[(draws.u() * len(FIRST_NAMES)).astype(int)[:n]]
    last = LAST_NAMES[(draws.u() * len(LAST_NAMES)).astype(int)[:n]]
    return patients.with_columns(patient_name=pl.Series(np.char.add(np.char.add(first, " "), last)))

"""Opt-outs: patients who objected to the research use of their data (GDPR article 21; in
France, Code de la santé publique L1122-1 / loi Informatique et Libertés article 74). The list
lives in the data folder (`<OLIGO_HOME>/opt-outs.csv`, never in the repository) and holds each
patient only as the pseudonym the warehouse would give them: the source id is not stored.

At ingest (`pipelines/ingest/load.py`) the rows of every table whose `patient_id` keys to a
listed pseudonym are dropped before `raw` is written, the number of patients excluded is
written to `raw.opt_out_exclusions` for the cohort attrition (`excluded_opt_out`), and their
rows in the operations history of earlier batches are deleted.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from pathlib import Path

import duckdb

from pipelines.ingest.pseudonym import Pseudonymizer
from pipelines.settings import paths
from pipelines.sql_quoting import quote_ident

OPT_OUT_FILE = "opt-outs.csv"
COLUMNS = ("pseudonym", "recorded_at")
EXCLUSIONS_TABLE = "raw.opt_out_exclusions"


def opt_out_path() -> Path:
    return paths().home / OPT_OUT_FILE


def read_opt_outs(path: Path | None = None) -> list[str]:
    """Every recorded pseudonym (empty when nothing was recorded)."""
    path = path or opt_out_path()
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return sorted({row["pseudonym"] for row in csv.DictReader(handle) if row["pseudonym"]})


def add_opt_out(pseudonymizer: Pseudonymizer, source_id: str, path: Path | None = None
                ) -> tuple[str, bool]:
    """Record one patient (by source id, keyed with the registry-scoped pseudonymizer);
    returns the pseudonym and whether it is new. The file is readable by its owner only."""
    if not pseudonymizer.scope:
        raise ValueError("an opt-out is keyed per registry: scope the pseudonymizer first")
    if not source_id.strip():
        raise ValueError("an empty source id cannot be recorded")
    path = path or opt_out_path()
    key = pseudonymizer.pseudonym("patient_id", source_id)
    if key in read_opt_outs(path):
        return key, False
    path.parent.mkdir(parents=True, exist_ok=True)
    new_file = not path.exists()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        if new_file:
            writer.writerow(COLUMNS)
        writer.writerow([key, dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(" ", "seconds")])
    return key, True


def purge_opted_out_history(con: duckdb.DuckDBPyConnection, opt_outs: list[str]) -> int:
    """Delete the opted-out patients' rows from the operations and data-quality history of
    earlier batches (`ops.*`, `dq.*`: quarantine, implausibilities, failing rows), found by a
    `patient_id` column or inside a `record_key`. Returns the rows deleted. Frozen snapshots
    of earlier batches under published/batches/ are not touched (docs/privacy.md)."""
    if not opt_outs:
        return 0
    columns = con.execute(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema IN ('ops', 'dq') "
        "AND column_name IN ('patient_id', 'record_key') AND data_type = 'VARCHAR' "
        "ORDER BY 1, 2, 3").fetchall()
    deleted = 0
    for schema, table, column in columns:
        name = f"{quote_ident(schema)}.{quote_ident(table)}"
        col = quote_ident(column)
        condition = (f"list_contains($keys, {col})" if column == "patient_id" else
                     f"len(list_filter($keys, k -> contains({col}, k))) > 0")
        deleted += con.execute(f"DELETE FROM {name} WHERE {condition}",
                               {"keys": list(opt_outs)}).fetchone()[0]
    return deleted


def snapshots_holding(pseudonym: str, folder: Path | None = None) -> list[Path]:
    """Frozen batch snapshots (published/batches/*.duckdb) with a row of this patient: the
    opt-out does not change them (docs/privacy.md, section 3)."""
    folder = folder or paths().batches
    holding = []
    for path in sorted(folder.glob("*.duckdb")) if folder.is_dir() else []:
        with duckdb.connect(str(path), read_only=True) as con:
            tables = con.execute(
                "SELECT DISTINCT table_catalog, table_schema, table_name FROM "
                "information_schema.columns WHERE column_name = 'patient_id' "
                "AND table_catalog = current_database()").fetchall()
            if any(con.execute(f"SELECT count(*) FROM {quote_ident(c)}.{quote_ident(s)}."
                               f"{quote_ident(t)} WHERE patient_id = ?", [pseudonym]
                               ).fetchone()[0] for c, s, t in tables):
                holding.append(path)
    return holding

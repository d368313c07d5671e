"""Opt-outs: patients who objected to the research use of their data (GDPR article 21; in
France, Code de la santé publique L1122-1 / loi Informatique et Libertés article 74). The list
lives in the data folder (`<OLIGO_HOME>/opt-outs.csv`, never in the repository) and holds each
patient only as the pseudonym the warehouse would give them: the source id is not stored.

At ingest (`pipelines/ingest/load.py`) the rows of every table whose `patient_id` keys to a
listed pseudonym are dropped before `raw` is written, and the number of patients excluded is
written to `raw.opt_out_exclusions` for the cohort attrition (`excluded_opt_out`).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from pathlib import Path

from pipelines.ingest.pseudonym import Pseudonymizer
from pipelines.settings import paths

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

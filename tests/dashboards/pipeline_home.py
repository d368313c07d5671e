"""A data folder made by the real pipeline, for the second set of pages (local control,
toxicity, timelines, data quality, SQL, saved cohorts): the project's seeded generator writes
a delivery, the registry's next delivery is that one with six months more follow-up
for some patients (later last contacts, one death), `oligo run` publishes both, then a messy
third delivery is run so the run history holds a refused (or blocked) run with quarantined
rows. Real DuckDB files, real Dagster runs, real GX validations; nothing is faked.

    python -m tests.dashboards.pipeline_home --home /tmp/oligo-pages --patients 400

builds the same by hand (used for screenshots and the speed measurement).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from pipelines.settings import Paths

SECRET = "dashboard-pages-test-secret-0123456789abcdef"  # >= 32 bytes
EARLIER = ("2026-04-30", "registry-2026-04-30")
LATER = ("2026-10-31", "registry-2026-10-31")
MESSY = ("2026-11-15", "registry-2026-11-15-messy")


@dataclass(frozen=True)
class PipelineHome:
    home: Path
    earlier: str  # batch ids
    later: str
    messy: str
    messy_status: str  # what the messy run ended as (ops.runs.status)

    @property
    def paths(self) -> Paths:
        return Paths(self.home)


@contextlib.contextmanager
def _environment(home: Path):
    """OLIGO_HOME and the pseudonym secret for an in-process run, restored afterwards."""
    saved = {k: os.environ.get(k) for k in ("OLIGO_HOME", "OLIGO_PSEUDONYM_SECRET")}
    os.environ.update(OLIGO_HOME=str(home), OLIGO_PSEUDONYM_SECRET=SECRET)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _oligo(*args: str) -> int:
    """`oligo ARGS` in this process (the CLI's own entry point; its output is discarded)."""
    from pipelines.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(list(args))


UPDATED_PATIENTS = 10  # alive patients seen again in the later delivery


def later_delivery(source: Path, target: Path, cutoff: dt.date) -> None:
    """The same registry six months later: the first alive patients have a later last
    contact, and one of them has died; every other file is unchanged."""
    import polars as pl

    shutil.copytree(source, target)
    patients = pl.read_csv(target / "patients.csv", infer_schema=False)
    alive = patients.with_row_index("row").filter(pl.col("vital_status") == "alive")
    later = alive.head(UPDATED_PATIENTS)["row"]
    died = later[0]
    updated = patients.with_row_index("row").with_columns(
        last_contact_date=pl.when(pl.col("row").is_in(later.implode()))
        .then(pl.lit((cutoff - dt.timedelta(days=20)).isoformat()))
        .otherwise(pl.col("last_contact_date")),
    ).with_columns(
        vital_status=pl.when(pl.col("row") == died).then(pl.lit("dead"))
        .otherwise(pl.col("vital_status")),
        death_date=pl.when(pl.col("row") == died).then(pl.col("last_contact_date"))
        .otherwise(pl.col("death_date")),
    ).drop("row")
    updated.write_csv(target / "patients.csv")
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["batch_id"] = target.name
    manifest["data_cutoff_date"] = cutoff.isoformat()
    digest = hashlib.sha256((target / "patients.csv").read_bytes()).hexdigest()
    manifest["files"]["patients.csv"]["sha256"] = digest
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2))


def build_pipeline_home(home: Path, patients: int = 120, seed: int = 7) -> PipelineHome:
    home.mkdir(parents=True, exist_ok=True)
    exports = home / "exports"
    with _environment(home):
        for (cutoff, batch), extra in ((EARLIER, ()), (MESSY, ("--messy",))):
            code = _oligo("generate", "--patients", str(patients), "--seed", str(seed),
                          "--out", str(exports), "--batch-id", batch, "--cutoff", cutoff, *extra)
            if code:
                raise RuntimeError(f"oligo generate {batch} exited with {code}")
        later_delivery(exports / EARLIER[1], exports / LATER[1], dt.date.fromisoformat(LATER[0]))
        for _, batch in (EARLIER, LATER):
            code = _oligo("run", "--batch", batch)
            if code:
                raise RuntimeError(f"oligo run {batch} exited with {code}")
        # The messy delivery is refused or blocked (or publishes with quarantined rows):
        # either way it is history for the data-quality page.
        _oligo("run", "--batch", MESSY[1])
    import duckdb

    with duckdb.connect(str(Paths(home).ops), read_only=True) as con:
        (status,) = con.execute(
            "SELECT status FROM ops.ops.runs WHERE batch_id = ? ORDER BY started_at DESC LIMIT 1",
            [MESSY[1]],
        ).fetchone()
    built = PipelineHome(home, EARLIER[1], LATER[1], MESSY[1], status)
    (home / "built.json").write_text(json.dumps({"messy_status": status}))
    return built


def load_pipeline_home(home: Path) -> PipelineHome:
    """A folder `build_pipeline_home` finished earlier (it writes built.json last)."""
    status = json.loads((home / "built.json").read_text())["messy_status"]
    return PipelineHome(home, EARLIER[1], LATER[1], MESSY[1], status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--patients", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    built = build_pipeline_home(args.home, args.patients, args.seed)
    print(f"{built.home}: {built.earlier}, {built.later} published; {built.messy}: "
          f"{built.messy_status}")


if __name__ == "__main__":
    main()

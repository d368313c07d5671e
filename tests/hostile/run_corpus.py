"""Validate every case of the corpus in this (child) process and write the results as JSON:
`python -m tests.hostile.run_corpus PRISTINE_ROOT WORK_ROOT OUT.json`.

Each case runs under a 30 s alarm (a case that blocks, say on a named pipe, is reported as
hung instead of blocking the suite); the peak memory of the whole process is reported."""

from __future__ import annotations

import json
import resource
import signal
import sys
import time
from pathlib import Path

import polars as pl

from pipelines.contract.dialects import dialect
from pipelines.ingest.validate import validate_batch
from tests.hostile.corpus import CASES, build_case

CASE_SECONDS = 30


class Hung(Exception):
    pass


def _alarm(signum, frame):
    raise Hung(f"no answer within {CASE_SECONDS} s")


def independent_row_counts(batch: Path, dialect_name: str) -> dict[str, int]:
    """Rows per table file, counted by Polars alone (not the loader's code)."""
    source = dialect(dialect_name)
    counts = {}
    for path in batch.iterdir():
        if path.is_symlink() or not path.is_file() or path.name in ("manifest.json",
                                                                  "defects.csv"):
            continue
        if path.suffix == ".csv":
            frame = pl.read_csv(path, separator=source.delimiter, infer_schema_length=0,
                                encoding="utf8-lossy")
        elif path.suffix == ".parquet":
            frame = pl.read_parquet(path)
        elif path.suffix == ".xlsx":
            frame = pl.read_excel(path, engine="calamine", infer_schema_length=0)
        else:
            continue
        counts[path.stem] = frame.height
    return counts


def run_case(case, pristine_root: Path, work_root: Path) -> dict:
    batch, _ = build_case(case, work_root, pristine_root / case.dialect)
    started = time.monotonic()
    signal.alarm(CASE_SECONDS)
    try:
        report = validate_batch(batch, dialect(case.dialect), case.quarantine_rate)
    except Hung as exc:
        return {"outcome": "hung", "messages": [str(exc)], "seconds": CASE_SECONDS}
    finally:
        signal.alarm(0)
    seconds = time.monotonic() - started
    row_rules = sorted(set(report.row_defects["rule_id"].to_list()))
    if not report.ok:
        outcome = "refused"
    elif report.row_defects.filter(pl.col("disposition") == "row_quarantine").height:
        outcome = "quarantined"
    else:
        outcome = "accepted"
    result = {
        "outcome": outcome,
        "batch_rules": sorted({d.rule_id for d in report.batch_defects}),
        "messages": [d.describe() for d in report.batch_defects],
        "row_rules": row_rules,
        "seconds": round(seconds, 3),
    }
    if report.summary is not None and outcome != "refused":
        result["rows_read"] = {n: c.rows_read for n, c in report.summary.tables.items()}
        result["rows_quarantined"] = {n: c.rows_quarantined
                                      for n, c in report.summary.tables.items()}
        result["rows_in_files"] = independent_row_counts(batch, case.dialect)
    return result


def main(pristine_root: str, work_root: str, out: str) -> None:
    signal.signal(signal.SIGALRM, _alarm)
    results = {}
    for case in CASES:
        try:
            results[case.name] = run_case(case, Path(pristine_root), Path(work_root))
        except Exception as exc:  # reported per case, so one failure names itself
            results[case.name] = {"outcome": "error", "messages": [f"{type(exc).__name__}: "
                                                                   f"{exc}"]}
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    Path(out).write_text(json.dumps({"cases": results, "peak_rss_mib": peak_kib / 1024}))


if __name__ == "__main__":
    main(*sys.argv[1:4])

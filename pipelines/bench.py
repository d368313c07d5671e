"""`make bench`: the pipeline against its floor, on cached synthetic batches.

Floor = DuckDB reading every file of the batch into tables, nothing else. Then the full
`oligo run`, then an unchanged re-run. Each measurement runs in its own process; peak memory
is that process's maximum resident set. Sizes: 10,000 and 100,000 patients, plus 1,000,000
with BENCH_FULL=1. Results print as a table and go to <OLIGO_HOME>/bench/results.json.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipelines.settings import paths

SEED = 7
BATCH_ID = "bench-2026-10-31"

FLOOR_SCRIPT = r"""
import sys, duckdb, pathlib
batch = pathlib.Path(sys.argv[1])
con = duckdb.connect(sys.argv[2])
for f in sorted(batch.glob("*.csv")):
    con.execute(f"CREATE TABLE {f.stem} AS SELECT * FROM read_csv('{f}', all_varchar=true, header=true)")
con.close()
"""


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float, int]:
    """(seconds, peak RSS MiB of the child, exit code)."""
    wrapper = (
        "import resource, subprocess, sys, json;"
        "rc = subprocess.call(sys.argv[1:]);"
        "print(json.dumps([rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))"
    )
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", wrapper, *cmd], env=env, capture_output=True,
                         text=True)
    seconds = time.perf_counter() - start
    rc, max_rss_kb = json.loads(out.stdout.strip().splitlines()[-1])
    if rc:
        sys.stderr.write(out.stderr[-4000:])
    return seconds, max_rss_kb / 1024, rc


def step_seconds(ops_file: Path) -> dict[str, float]:
    """Per-step durations of the first published run, from the run report."""
    import duckdb

    if not ops_file.exists():
        return {}
    with duckdb.connect(str(ops_file), read_only=True) as con:
        rows = con.execute(
            "SELECT step, round(duration_seconds, 2) FROM ops.ops.run_steps WHERE run_id = "
            "(SELECT run_id FROM ops.ops.runs WHERE status = 'published' "
            " ORDER BY started_at LIMIT 1) ORDER BY started_at").fetchall()
    return dict(rows)


def ensure_batch(patients: int) -> Path:
    exports = paths().bench / f"exports-{patients}"
    batch = exports / BATCH_ID
    if not (batch / "manifest.json").exists():
        shutil.rmtree(exports, ignore_errors=True)
        print(f"generating {patients} patients (cached for later runs) ...", flush=True)
        subprocess.run([sys.executable, "-m", "pipelines.cli", "generate", "--patients",
                        str(patients), "--seed", str(SEED), "--out", str(exports),
                        "--batch-id", BATCH_ID], check=True)
    return batch


def measure(patients: int) -> dict:
    batch = ensure_batch(patients)
    with tempfile.TemporaryDirectory(dir=paths().bench) as scratch:
        floor_s, floor_mb, _ = timed([sys.executable, "-c", FLOOR_SCRIPT, str(batch),
                                      str(Path(scratch) / "floor.duckdb")])
        env = dict(os.environ, OLIGO_HOME=str(Path(scratch) / "home"))
        run_cmd = [sys.executable, "-m", "pipelines.cli", "run", "--exports",
                   str(batch.parent), "--batch", BATCH_ID, "--demo"]
        run_s, run_mb, rc = timed(run_cmd, env)
        steps = step_seconds(Path(scratch) / "home" / "published" / "ops.duckdb")
        rerun_s, rerun_mb, rc2 = timed(run_cmd, env)
    return {
        "steps_seconds": steps,
        "patients": patients, "floor_seconds": round(floor_s, 2),
        "floor_peak_mib": round(floor_mb), "run_seconds": round(run_s, 2),
        "run_peak_mib": round(run_mb), "run_exit_code": rc,
        "ratio_run_to_floor": round(run_s / floor_s, 1),
        "unchanged_rerun_seconds": round(rerun_s, 2), "rerun_exit_code": rc2,
    }


def main() -> int:
    sizes = [10_000, 100_000] + ([1_000_000] if os.environ.get("BENCH_FULL") == "1" else [])
    paths().bench.mkdir(parents=True, exist_ok=True)
    results = [measure(n) for n in sizes]
    header = (f"{'patients':>10} {'floor s':>8} {'run s':>8} {'run/floor':>10} "
              f"{'re-run s':>9} {'peak MiB':>9} {'exit':>5}")
    print(header)
    for r in results:
        print(f"{r['patients']:>10} {r['floor_seconds']:>8} {r['run_seconds']:>8} "
              f"{r['ratio_run_to_floor']:>10} {r['unchanged_rerun_seconds']:>9} "
              f"{r['run_peak_mib']:>9} {r['run_exit_code']:>5}")
    for r in results:
        print(f"steps at {r['patients']} patients (s): "
              + ", ".join(f"{k} {v}" for k, v in r["steps_seconds"].items()))
    out = paths().bench / "results.json"
    out.write_text(json.dumps({"measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
                               "cpu_count": os.cpu_count(), "results": results}, indent=2))
    print(f"written {out}")
    return 0 if all(r["run_exit_code"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

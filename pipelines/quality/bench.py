"""`python -m pipelines.quality.bench`: how long the data-quality checks take on a large batch.

A synthetic batch (`oligo generate --patients N --seed 7`) is run once through the real
pipeline (`oligo run --demo`) in a throwaway OLIGO_HOME under /tmp, kept for later runs; then
a fresh process times, on that working warehouse (or on `--warehouse PATH`), `evaluate_checks`
split into the SQL checks and the column-level expectations, staging and marts; with `--gx`
also the expectations validated by Great Expectations and its one-off import. Dagster's
per-result event cost is not in these figures (it does not grow with the batch): see
docs/data-quality.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEED = 7

MEASURE = r"""
import json, sys, time
from pathlib import Path
from pipelines.working_snapshot import connect_warehouse
started = time.perf_counter()
from pipelines.quality.catalog import all_checks
from pipelines.quality.evaluate import evaluate_checks
from pipelines.quality.specs import Engine
imported = time.perf_counter() - started
with_gx = sys.argv[3] == "gx"
specs = all_checks()
con = connect_warehouse(Path(sys.argv[1]), read_only=True)
batch_id = con.execute("select max(batch_id) from ops.batches").fetchone()[0] or sys.argv[2]
figures = {"quality_import_s": imported, "staging_rows": con.execute(
    "select sum(estimated_size) from duckdb_tables() where schema_name = 'staging'"
).fetchone()[0]}
if with_gx:
    started = time.perf_counter()
    from pipelines.quality.gx_runner import _gx, _whole_frame_batch_definition
    _gx(); _whole_frame_batch_definition()
    figures["gx_import_s"] = time.perf_counter() - started
runs = [("sql", Engine.SQL, "sql"), ("columns", Engine.GX, "sql")]
runs += [("gx", Engine.GX, "gx")] if with_gx else []
slowest = []
for layer in ("staging", "marts"):
    for label, engine, column_engine in runs:
        chosen = [s for s in specs if s.asset[0] == layer and s.engine == engine]
        started = time.perf_counter()
        outcomes = evaluate_checks(con, chosen, batch_id=batch_id, engine=column_engine,
                                   workers=2)
        figures[f"{layer}_{label}_checks"] = len(chosen)
        figures[f"{layer}_{label}_s"] = time.perf_counter() - started
        figures[f"{layer}_{label}_failing"] = sum(not o.passed for o in outcomes)
        slowest += [(o.seconds, o.spec.check_id) for o in outcomes]
figures["slowest"] = [[c, round(s, 3)] for s, c in sorted(slowest, reverse=True)[:8]]
print(json.dumps(figures))
"""


def prepare(work: Path, patients: int) -> Path:
    """The working warehouse of one `oligo run --demo` of the synthetic batch (cached)."""
    warehouse = work / "warehouse.duckdb"
    done = work / "run.done"
    if done.exists() and warehouse.exists():
        return warehouse
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OLIGO_HOME": str(work)}
    exports = work / "exports"
    if not any(exports.glob("*/manifest.json")):
        print(f"generating {patients} patients ...", flush=True)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pipelines.cli", "generate", "--patients",
                        str(patients), "--seed", str(SEED), "--out", str(exports)],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        print(f"  {time.perf_counter() - started:.0f} s", flush=True)
    print("oligo run --demo ...", flush=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--demo"], env=env,
                   check=True, stdout=subprocess.DEVNULL)
    print(f"  {time.perf_counter() - started:.0f} s", flush=True)
    done.write_text("ok\n")
    return warehouse


def measure(warehouse: Path, with_gx: bool) -> dict:
    out = subprocess.run([sys.executable, "-c", MEASURE, str(warehouse), "bench",
                          "gx" if with_gx else "sql"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(patients: int | None, f: dict) -> str:
    size = f"{patients:,} patients " if patients else ""
    lines = [f"data-quality checks at {size}({f['staging_rows']:,} staging rows), "
             f"load average {os.getloadavg()[0]:.1f}",
             f"  import pipelines.quality      {f['quality_import_s']:7.2f} s"]
    if "gx_import_s" in f:
        lines.append(f"  import great_expectations     {f['gx_import_s']:7.2f} s  (once per process)")
    for layer in ("staging", "marts"):
        for label in ("sql", "columns", "gx"):
            if f"{layer}_{label}_s" not in f:
                continue
            lines.append(f"  {layer:8} {label:7} {f[f'{layer}_{label}_checks']:4d} checks "
                         f"{f[f'{layer}_{label}_s']:7.2f} s  ({f[f'{layer}_{label}_failing']} failing)")
    total = sum(f[f"{layer}_{label}_s"] for layer in ("staging", "marts")
                for label in ("sql", "columns"))
    lines.append(f"  evaluate_checks, all (default engines) {total:7.2f} s")
    lines.append("  slowest: " + ", ".join(f"{c} {s} s" for c, s in f["slowest"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.quality.bench",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=None,
                        help="OLIGO_HOME of the batch (default: /tmp/oligo-dq-bench-<patients>)")
    parser.add_argument("--warehouse", type=Path, default=None,
                        help="time the checks on this working warehouse instead (read only)")
    parser.add_argument("--gx", action="store_true",
                        help="also validate the column-level expectations with Great Expectations")
    args = parser.parse_args(argv)
    if args.warehouse is not None:
        print(report(None, measure(args.warehouse, args.gx)))
        return 0
    work = args.work or Path(tempfile.gettempdir()) / f"oligo-dq-bench-{args.patients}"
    figures = measure(prepare(work, args.patients), args.gx)
    print(report(args.patients, figures))
    (work / "dq_bench.json").write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

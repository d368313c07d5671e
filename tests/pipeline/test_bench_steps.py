"""`python -m pipelines.bench --steps N`: every step of one run with its wall and CPU
seconds (the per-step tables of docs/benchmarks.md come from it)."""

import os
import subprocess
import sys
from pathlib import Path

from pipelines.definitions import defs
from pipelines.runner import JOB_NAME

ROOT = Path(__file__).resolve().parents[2]


def test_steps_lists_every_step_of_the_run_with_its_cpu(tmp_path):
    env = dict(os.environ, OLIGO_HOME=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "pipelines.bench", "--steps", "20"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("step "))
    rows = {line.split()[0]: [float(x) for x in line.split()[1:]]
            for line in lines[header + 1:] if line.strip()}
    job = defs.resolve_job_def(JOB_NAME)
    assert set(rows) == {node.name for node in job.graph.nodes}
    for step, (wall, cpu, cores) in rows.items():
        assert wall > 0 and cpu >= 0 and cores >= 0, step
    assert sum(cpu for _, cpu, _ in rows.values()) > 0
    assert lines[header - 1].startswith("20 patients: run ")

"""What the fault tests compare: published bytes, ops rows, a CLI run in a child process."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from pipelines.settings import paths
from tests.pipeline.helpers import BATCH

LATER = "2026-11-30"


def published_bytes() -> dict[str, bytes]:
    root = paths().published
    return {str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".")}


def marts_bytes() -> dict[str, bytes]:
    return {k: v for k, v in published_bytes().items() if k != "ops.duckdb"}


def query(path, sql, params=None):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def oligo(*args: str, fault: str | None = None, timeout: float = 120,
          home: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if home is not None:
        env["OLIGO_HOME"] = str(home)
    env.pop("OLIGO_FAULT_POINT", None)
    if fault:
        env["OLIGO_FAULT_POINT"] = fault
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


def later_batch(home: Path, batch_id: str = LATER, cutoff: str = LATER) -> Path:
    """A copy of the published batch under a later id and cut-off (no manifest checksums)."""
    import json

    target = home / "exports" / batch_id
    shutil.copytree(home / "exports" / BATCH, target)
    manifest = json.loads((target / "manifest.json").read_text())
    manifest.update(batch_id=batch_id, data_cutoff_date=cutoff)
    (target / "manifest.json").write_text(json.dumps(manifest))
    return target


def reconciled(run_id: str) -> bool:
    rows = query(paths().ops, "SELECT rows_read, rows_loaded, rows_quarantined, "
                 "coalesce(rows_refused, 0) FROM ops.ops.table_counts WHERE run_id = ?",
                 [run_id])
    return bool(rows) and all(r == lo + q + ref for r, lo, q, ref in rows)


def no_temporaries() -> bool:
    return not [p for p in paths().published.rglob(".*") if p.name.endswith((".tmp",
                                                                              ".tmp.wal"))]

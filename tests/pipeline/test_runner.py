"""`oligo run` end to end on a small generated batch: publish once, re-delivery, replace,
refusal, crashes at every fault point, run reports."""

import os
import shutil
import subprocess
import sys

import duckdb

from pipelines.runner import run_batches
from pipelines.settings import paths
from tests.pipeline.helpers import BATCH, generate


def published_bytes() -> dict[str, bytes]:
    root = paths().published
    return {str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob("*.duckdb")) if p.name != "ops.duckdb"}


def query(path, sql, params=None):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_published_batch_has_marts_provenance_and_run_report(home):
    assert set(published_bytes()) == {"current.duckdb", f"batches/{BATCH}.duckdb"}
    provenance = query(paths().current, "select batch_id, data_cutoff_date::varchar, "
                       "contract_version, parameter_set from meta.provenance")
    assert provenance == [(BATCH, "2026-10-31", "1", "default")]
    assert query(paths().current, "select count(*) from marts.omd_episodes")[0][0] > 0
    runs = query(paths().ops, "select run_id, status from ops.ops.runs")
    assert [r[1] for r in runs] == ["published"]
    counts = query(paths().ops, "select table_name, rows_read, rows_loaded, rows_quarantined "
                   "from ops.ops.table_counts where run_id = ?", [runs[0][0]])
    assert len(counts) == 10
    assert all(read == loaded + quarantined and quarantined == 0
               for _, read, loaded, quarantined in counts)
    steps = query(paths().ops, "select step from ops.ops.run_steps where run_id = ?",
                  [runs[0][0]])
    assert {"raw_tables", "staging_tables", "published__snapshot"} <= {s[0] for s in steps}


def test_identical_rerun_changes_nothing(home):
    before = published_bytes()
    [again] = run_batches(batch_id=BATCH)
    assert again.status == "unchanged", again.message
    assert published_bytes() == before
    runs = query(paths().ops, "select status from ops.ops.runs order by started_at")
    assert [r[0] for r in runs] == ["published", "unchanged"]


def test_same_batch_id_with_other_content_is_refused_unless_replace(home):
    before = published_bytes()
    batch = home / "exports" / BATCH
    patients = batch / "patients.csv"
    patients.write_text(patients.read_text().replace(",former,", ",current,", 1))
    (batch / "manifest.json").unlink()  # the content differs, the manifest cannot vouch
    [refused] = run_batches(batch_id=BATCH)
    assert refused.status == "refused"
    assert "--replace" in refused.message
    assert published_bytes() == before
    # With --replace the run goes past the gate: it reaches the load fault point.
    env = dict(os.environ, OLIGO_FAULT_POINT="load")
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--batch", BATCH,
                           "--replace"], env=env, capture_output=True, text=True)
    assert proc.returncode == -9, proc.stdout + proc.stderr[-2000:]
    assert published_bytes() == before


def test_batch_with_identifier_is_refused_and_ops_says_why(home):
    generate(home / "exports", 60, 3, "--inject-identifier", batch_id="ident-batch")
    before = published_bytes()
    [outcome] = run_batches(batch_id="ident-batch")
    assert outcome.status == "refused"
    assert "direct_identifier" in outcome.message
    assert published_bytes() == before
    last = query(paths().ops, "select status, message from ops.ops.runs "
                 "order by started_at desc limit 1")
    assert last[0][0] == "refused" and "direct_identifier" in last[0][1]


def test_crash_at_every_fault_point_leaves_published_files_then_next_run_completes(home):
    before = published_bytes()
    later = home / "exports" / "2026-11-30"
    shutil.copytree(home / "exports" / BATCH, later)
    (later / "manifest.json").unlink()
    for fault in ("load", "derive", "publish"):
        env = dict(os.environ, OLIGO_FAULT_POINT=fault)
        proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--batch",
                               "2026-11-30"], env=env, capture_output=True, text=True)
        assert proc.returncode == -9, fault + proc.stdout + proc.stderr[-2000:]
        assert published_bytes() == before, fault
        for path in before:
            query(paths().published / path, "select count(*) from marts.episode_cohort")
    [after] = run_batches(batch_id="2026-11-30")
    assert after.status == "published", after.message
    assert not list(paths().published.rglob(".*.tmp"))
    assert (paths().batches / "2026-11-30.duckdb").exists()


def test_raw_rows_carry_their_load_metadata(home):
    import json

    manifest = json.loads((home / "exports" / BATCH / "manifest.json").read_text())
    rows = query(paths().warehouse, "select distinct _batch_id, _file, _file_sha256, "
                 "_loaded_at is not null from raw.patients")
    assert rows == [(BATCH, "patients.csv", manifest["files"]["patients.csv"]["sha256"], True)]
    numbers = query(paths().warehouse, "select min(_row_number), count(*) from raw.patients")
    assert numbers == [(2, 150)]  # CSV lines: the header is line 1


def test_named_identical_rerun_is_decided_before_dagster_starts(home):
    """`oligo run --batch` on an unchanged delivery: the gate's decision without Dagster (nor
    the pandas DuckDB's client loads for bound parameters), recorded in the run report."""
    before = published_bytes()
    script = ("import sys; from pipelines.cli import main; rc = main(['run', '--batch', "
              f"{BATCH!r}]); print([m for m in ('dagster', 'great_expectations', 'pandas') "
              "if m in sys.modules]); sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert "unchanged" in proc.stdout and proc.stdout.strip().endswith("[]"), proc.stdout
    assert published_bytes() == before
    last = query(paths().ops, "select status, message, dagster_run_id from ops.ops.runs "
                 "order by started_at desc limit 1")
    assert last[0][0] == "unchanged" and "no Dagster run" in last[0][1] and last[0][2] is None


def test_a_changed_byte_with_the_same_size_and_modification_time_is_refused(home):
    """The signature reads every byte: a copy that keeps size and mtime is still seen."""
    before = published_bytes()
    patients = home / "exports" / BATCH / "patients.csv"  # the manifest stays as it was
    stat = patients.stat()
    data = bytearray(patients.read_bytes())
    position = data.rindex(b",former,") + 1
    data[position:position + 6] = b"FORMER"  # same length
    patients.write_bytes(bytes(data))
    os.utime(patients, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert patients.stat().st_size == stat.st_size
    [outcome] = run_batches(batch_id=BATCH)
    assert outcome.status == "refused" and "different checksums" in outcome.message
    assert published_bytes() == before

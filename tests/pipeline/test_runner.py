"""`oligo run` end to end on a small generated batch: publish once, re-delivery, replace,
refusal, crashes at every fault point, run reports."""

import os
import subprocess
import sys

import duckdb
import pytest

from pipelines.runner import run_batches
from pipelines.settings import paths

from .conftest import BATCH


def published_bytes() -> dict[str, bytes]:
    root = paths().published
    return {str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob("*.duckdb")) if p.name != "ops.duckdb"}


def query(path, sql, params=None):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_first_run_publishes_and_identical_rerun_changes_nothing(home):
    [first] = run_batches(batch_id=BATCH)
    assert first.status == "published", first.message
    assert {c["table_name"] for c in first.table_counts} >= {"patients", "metastases"}
    for c in first.table_counts:
        assert c["rows_read"] == c["rows_loaded"] + c["rows_quarantined"]
        assert c["rows_quarantined"] == 0
    snapshot = published_bytes()
    assert set(snapshot) == {"current.duckdb", f"batches/{BATCH}.duckdb"}
    provenance = query(paths().current, "select batch_id, contract_version, parameter_set "
                       "from meta.provenance")
    assert provenance == [(BATCH, "1", "default")]
    assert query(paths().current, "select count(*) from marts.omd_episodes")[0][0] > 0

    [again] = run_batches(batch_id=BATCH)
    assert again.status == "unchanged"
    assert published_bytes() == snapshot
    runs = query(paths().ops, "select status from ops.runs order by started_at")
    assert [r[0] for r in runs] == ["published", "unchanged"]
    steps = query(paths().ops, "select count(*) from ops.run_steps where run_id = ?",
                  [first.run_id])
    assert steps[0][0] >= 5


def test_same_batch_id_with_other_content_is_refused_unless_replace(home):
    [first] = run_batches(batch_id=BATCH)
    assert first.status == "published"
    before = published_bytes()
    patients = home / "exports" / BATCH / "patients.csv"
    patients.write_text(patients.read_text().replace("former", "current", 1))
    (home / "exports" / BATCH / "manifest.json").unlink()  # so only the content differs
    [refused] = run_batches(batch_id=BATCH)
    assert refused.status == "refused"
    assert "--replace" in refused.message
    assert published_bytes() == before
    [replaced] = run_batches(batch_id=BATCH, replace=True)
    assert replaced.status == "published", replaced.message


def test_batch_with_identifier_is_refused_and_ops_says_why(home, tmp_path_factory):
    from .conftest import generate

    out = tmp_path_factory.mktemp("ident")
    generate(out, 60, 3, "--inject-identifier", batch_id="ident-batch")
    import shutil

    shutil.copytree(out / "ident-batch", home / "exports" / "ident-batch")
    [outcome] = run_batches(batch_id="ident-batch")
    assert outcome.status == "refused"
    assert "direct_identifier" in outcome.message
    assert not paths().current.exists()
    status = query(paths().ops, "select status, message from ops.runs")
    assert status[0][0] == "refused" and "direct_identifier" in status[0][1]


@pytest.mark.parametrize("fault", ["load", "derive", "publish"])
def test_crash_at_fault_point_leaves_published_files_and_next_run_completes(home, fault):
    [first] = run_batches(batch_id=BATCH)
    assert first.status == "published"
    before = published_bytes()
    # A second batch (later cut-off) crashes mid-run in a separate process.
    second = home / "exports" / "2026-11-30"
    import shutil

    shutil.copytree(home / "exports" / BATCH, second)
    (second / "manifest.json").unlink()
    env = dict(os.environ, OLIGO_FAULT_POINT=fault)
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--batch",
                           "2026-11-30"], env=env, capture_output=True, text=True)
    assert proc.returncode == -9, proc.stdout + proc.stderr
    assert published_bytes() == before
    for path in before:
        query(paths().published / path, "select count(*) from marts.episode_cohort")
    [after] = run_batches(batch_id="2026-11-30")
    assert after.status == "published", after.message
    assert not list(paths().published.rglob(".*.tmp"))

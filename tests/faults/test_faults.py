"""The fault suite: a kill between the two swaps, a full disk and a read-only data folder on
small file systems made by the test, a corrupt or lost working warehouse then `oligo rebuild`,
hostile deliveries through `oligo run`. Each asserts the published files are byte-identical
(or correctly advanced), no temporaries stay in published/, and rows reconcile."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pipelines.publish import offered_snapshots
from pipelines.run_lock import run_lock
from pipelines.settings import paths
from pipelines.working_snapshot import snapshot_path
from tests.faults.helpers import (
    LATER,
    later_batch,
    marts_bytes,
    no_temporaries,
    oligo,
    published_bytes,
    query,
    reconciled,
)
from tests.pipeline.helpers import BATCH


def clean_report(proc: subprocess.CompletedProcess) -> str:
    """Output of an expected outcome: no traceback, no Dagster ERROR line."""
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out and " - ERROR - " not in out, out[-3000:]
    return out


def latest_run() -> tuple[str, str, str]:
    return query(paths().ops, "SELECT run_id, status, message FROM ops.ops.runs "
                 "ORDER BY started_at DESC LIMIT 1")[0]


def test_kill_between_the_swaps_offers_nothing_new_then_next_run_publishes(home):
    before = marts_bytes()
    later_batch(home)
    proc = oligo("run", "--batch", LATER, fault="publish_swap")
    assert proc.returncode == -9, proc.stdout + proc.stderr[-2000:]
    after = marts_bytes()
    # The frozen file of the new batch was swapped in, `current` was not, ops did not change.
    assert {k: v for k, v in after.items() if LATER not in k} == before
    assert f"batches/{LATER}.duckdb" in after
    assert LATER not in offered_snapshots(paths().batches, paths().ops)
    refused = oligo("sql", "SELECT batch_id FROM meta.provenance", "--batch", LATER)
    assert refused.returncode == 2 and "not published" in refused.stderr
    proc = oligo("run", "--batch", LATER)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    run_id, status, _ = latest_run()
    assert status == "published" and reconciled(run_id) and no_temporaries()
    assert query(paths().current, "SELECT batch_id FROM meta.provenance") == [(LATER,)]
    assert LATER in offered_snapshots(paths().batches, paths().ops)


@contextlib.contextmanager
def small_filesystem(where: Path, size: str):
    """A tmpfs of `size` mounted on `where` (root only): the test skips, saying why, when
    the machine does not allow it."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root; not root here")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_disk_full_while_publishing_leaves_published_untouched_and_no_temporaries(home):
    later_batch(home)
    saved = home.parent / "published-saved"
    shutil.copytree(paths().published, saved)
    shutil.rmtree(paths().published)
    used = sum(p.stat().st_size for p in saved.rglob("*") if p.is_file())
    # Room for the published files and a little more: the new frozen file does not fit.
    with small_filesystem(paths().published, f"{used // 1024 + 1024}k"):
        shutil.copytree(saved, paths().published, dirs_exist_ok=True)
        before = published_bytes()
        proc = oligo("run", "--batch", LATER, timeout=180)
        out = clean_report(proc)
        assert proc.returncode != 0
        assert "No space left on device" in out or "is full" in out, out[-2000:]
        assert marts_bytes() == {k: v for k, v in before.items() if k != "ops.duckdb"}
        assert no_temporaries(), sorted(p.name for p in paths().published.rglob(".*"))


def test_disk_full_for_the_whole_data_folder_gives_one_line(home, tmp_path):
    mount = tmp_path / "small"
    with small_filesystem(mount, "48m"):
        target = mount / "home"
        shutil.copytree(home, target, symlinks=True)
        before = {k: v for k, v in _bytes(target / "published").items()}
        ballast = mount / "ballast"
        free = shutil.disk_usage(mount).free
        with ballast.open("wb") as out:
            out.truncate(0)
            out.write(b"\0" * max(free - (1 << 20), 0))
        later_batch(target)
        proc = oligo("run", "--batch", LATER, home=target, timeout=180)
        out = clean_report(proc)
        assert proc.returncode != 0
        assert "No space left on device" in out or "is full" in out, out[-2000:]
        after = _bytes(target / "published")
        assert {k: v for k, v in after.items() if k != "ops.duckdb"} == \
            {k: v for k, v in before.items() if k != "ops.duckdb"}
        assert not [k for k in after if k.endswith(".tmp")]


def _bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_read_only_data_folder_gives_one_line(home, tmp_path):
    mount = tmp_path / "ro"
    with small_filesystem(mount, "64m"):
        target = mount / "home"
        shutil.copytree(home, target, symlinks=True)
        later_batch(target)
        before = _bytes(target / "published")
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        proc = oligo("run", "--batch", LATER, home=target)
        out = clean_report(proc)
        assert proc.returncode == 2 and "read-only" in out, out[-2000:]
        assert len(out.strip().splitlines()) == 1, out
        assert _bytes(target / "published") == before


def test_corrupt_warehouse_is_one_line_and_rebuild_keeps_the_ops_history(home):
    before = marts_bytes()
    runs_before = query(paths().ops, "SELECT run_id, status FROM ops.ops.runs ORDER BY 1")
    data = bytearray(paths().warehouse.read_bytes())
    data[4096:4096 + 8192] = os.urandom(8192)
    paths().warehouse.write_bytes(bytes(data))
    proc = oligo("run", "--batch", BATCH)
    out = clean_report(proc)
    assert proc.returncode == 2 and "oligo rebuild" in out
    assert len(out.strip().splitlines()) == 1, out
    proc = oligo("rebuild")
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert list(home.glob("warehouse.duckdb.unusable-*"))  # set aside, not deleted
    assert query(paths().warehouse, "SELECT run_id, status FROM ops.runs ORDER BY 1") == \
        runs_before
    assert marts_bytes() == before
    proc = oligo("run", "--batch", BATCH)  # the re-delivery gate still knows the batch
    assert proc.returncode == 0 and "unchanged" in proc.stdout, proc.stdout + proc.stderr
    assert marts_bytes() == before


def test_corrupt_working_snapshot_is_one_line_and_rebuild_sets_it_aside(home):
    before = marts_bytes()
    snapshot = snapshot_path(paths().warehouse)
    data = bytearray(snapshot.read_bytes())
    data[4096:4096 + 8192] = os.urandom(8192)
    snapshot.write_bytes(bytes(data))
    proc = oligo("run", "--batch", BATCH, "--replace")
    out = clean_report(proc)
    assert proc.returncode == 2 and "working snapshot" in out and "oligo rebuild" in out, out
    assert len(out.strip().splitlines()) == 1, out
    assert oligo("rebuild").returncode == 0
    assert list(home.glob("warehouse-snapshot.duckdb.unusable-*"))  # set aside, not deleted
    assert marts_bytes() == before
    proc = oligo("run", "--batch", BATCH, "--replace")  # a new working snapshot
    assert proc.returncode == 0 and "published" in proc.stdout, proc.stdout + proc.stderr
    assert snapshot.exists()


def test_missing_warehouse_is_one_line_and_rebuild_restores_it(home):
    paths().warehouse.unlink()
    proc = oligo("run", "--batch", BATCH)
    out = clean_report(proc)
    assert proc.returncode == 2 and "missing" in out and "oligo rebuild" in out
    assert not paths().warehouse.exists()  # no empty warehouse created behind our back
    assert oligo("rebuild").returncode == 0
    assert query(paths().warehouse, "SELECT count(*) FROM ops.batches "
                 "WHERE published_at IS NOT NULL") == [(1,)]


def test_hostile_delivery_through_run_is_refused_at_once_with_counts(home):
    """A named pipe, a link out of the folder and a 9999-12-31 cut-off in one delivery."""
    before = marts_bytes()
    batch = later_batch(home, cutoff="9999-12-31")
    (batch / "imaging.csv").unlink()
    os.mkfifo(batch / "imaging.csv")  # this once blocked `oligo run` forever, holding the lock
    outside = home.parent / "outside.csv"
    shutil.copy(batch / "toxicities.csv", outside)
    (batch / "toxicities.csv").unlink()
    (batch / "toxicities.csv").symlink_to(outside)
    proc = oligo("run", "--batch", LATER, timeout=240)  # a hang would fail here too
    out = clean_report(proc)
    assert proc.returncode == 1 and "refused" in out
    run_id, status, message = latest_run()
    assert status == "refused"
    assert "imaging.csv: unsafe_file" in message and "named pipe" in message
    assert "toxicities.csv: unsafe_file" in message and "outside the batch folder" in message
    assert "cutoff_implausible" in message and "in the future" in message
    [(seconds,)] = query(paths().ops, "SELECT duration_seconds FROM ops.ops.run_steps "
                         "WHERE run_id = ? AND step = 'raw_tables'", [run_id])
    assert seconds < 30  # refused at once, nothing read from the pipe
    assert reconciled(run_id)  # refused runs record their counts, nothing loaded
    counts = dict(query(paths().ops, "SELECT table_name, rows_refused FROM ops.ops.table_counts "
                        "WHERE run_id = ?", [run_id]))
    assert "imaging" not in counts and counts["patients"] == 80
    assert marts_bytes() == before and no_temporaries()
    with run_lock(paths().lock_file):  # the lock was released
        pass


def test_batch_ids_leaving_exports_are_refused(home, tmp_path):
    outside = tmp_path / "x" / "b1"
    shutil.copytree(home / "exports" / BATCH, outside)
    before = published_bytes()
    proc = oligo("run", "--batch", "../../x/b1")
    out = clean_report(proc)
    assert proc.returncode == 2 and "not a batch id" in out
    (home / "exports" / "linked").symlink_to(outside)
    proc = oligo("run", "--batch", "linked")
    assert proc.returncode == 2 and "symbolic link" in clean_report(proc)
    assert published_bytes() == before
    assert not list((tmp_path / "x").rglob("*.duckdb"))  # no snapshot written outside


def test_retire_takes_a_batch_out_of_the_choice_of_current(home):
    later_batch(home)
    assert oligo("run", "--batch", LATER).returncode == 0
    assert query(paths().current, "SELECT batch_id FROM meta.provenance") == [(LATER,)]
    proc = oligo("batch", "retire", LATER, "--reason", "cut-off typed wrong")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert query(paths().current, "SELECT batch_id FROM meta.provenance") == [(BATCH,)]
    assert paths().current.read_bytes() == paths().batch_snapshot(BATCH).read_bytes()
    recorded = query(paths().ops, "SELECT batch_id, reason, current_before, current_after "
                     "FROM ops.ops.batch_retirements")
    assert recorded == [(LATER, "cut-off typed wrong", LATER, BATCH)]
    assert query(paths().ops, "SELECT current_batch_id FROM ops.meta.provenance") == [(BATCH,)]
    again = oligo("batch", "retire", BATCH)  # the last batch standing stays current
    assert again.returncode == 2 and "only published batch" in again.stdout

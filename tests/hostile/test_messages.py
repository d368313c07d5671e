"""Messages: cascades summarised (one line per cause, with a count and the first keys), an
expected outcome is one clean line and its traceback appears only with --debug."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.contract.dialects import dialect
from pipelines.ingest.validate import validate_batch
from tests.pipeline.helpers import SECRET

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def batch_without_tumour_ids(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cascade")
    subprocess.run([sys.executable, "-m", "pipelines.cli", "generate", "--patients", "120",
                    "--seed", "4", "--out", str(out), "--batch-id", "b1"], check=True,
                   capture_output=True, cwd=ROOT)
    batch = out / "b1"
    tumours = batch / "primary_tumors.csv"
    lines = tumours.read_text().splitlines()
    tumours.write_text("\n".join(",".join(line.split(",")[1:]) for line in lines) + "\n")
    (batch / "manifest.json").unlink()
    return batch


def test_a_missing_column_gives_one_cascade_line_per_cause(batch_without_tumour_ids, capsys):
    report = validate_batch(batch_without_tumour_ids, dialect("default"))
    orphans = report.row_defects.filter(report.row_defects["rule_id"] == "orphan_reference")
    assert orphans.height > 300  # every lesion refers to a tumour that is not there
    assert main(["validate", str(batch_without_tumour_ids)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert any("missing_required_column" in line and "primary_tumors.csv" in line
               for line in out)
    cascade = [line for line in out if line.startswith("CASCADE")]
    metastases = [line for line in cascade if line.startswith("CASCADE metastases.csv column "
                                                              "tumor_id: orphan_reference")]
    assert len(metastases) == 1
    assert f"{orphans.filter(orphans['table_name'] == 'metastases').height} rows" \
        in metastases[0]
    assert "table primary_tumors was not loaded" in metastases[0]
    assert "first keys" in metastases[0]
    assert not [line for line in out if "orphan_reference" in line
                and not line.startswith("CASCADE")]
    assert len(out) < 60


def test_expected_outcome_is_one_line_and_debug_shows_the_traceback(tmp_path):
    home = tmp_path / "home"
    (home / "exports" / "b1").mkdir(parents=True)
    (home / "exports" / "b1" / "patients.csv").write_text("patient_id\n")
    (home / "warehouse.duckdb").write_bytes(os.urandom(64 * 1024))  # not a database
    env = dict(os.environ, OLIGO_HOME=str(home), OLIGO_PSEUDONYM_SECRET=SECRET)
    plain = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--batch", "b1"],
                           env=env, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert plain.returncode == 2
    assert plain.stdout == "" and len(plain.stderr.strip().splitlines()) == 1
    assert "Traceback" not in plain.stderr and "oligo rebuild" in plain.stderr
    debug = subprocess.run([sys.executable, "-m", "pipelines.cli", "--debug", "run",
                            "--batch", "b1"], env=env, capture_output=True, text=True,
                           cwd=ROOT, timeout=60)
    assert debug.returncode == 2
    assert "Traceback" in debug.stderr and "WarehouseUnusable" in debug.stderr

"""Batch defects: each refuses the batch with its rule, naming the file (and column)."""

from __future__ import annotations

import json

from pipelines.contract.dialects import DEFAULT
from pipelines.ingest.batch import open_batch
from pipelines.ingest.validate import validate_batch
from tests.ingest.ingest_batches import write_batch


def _rules(batch):
    return {(d.rule_id, d.file, d.column) for d in batch.defects}


def _read(batch_dir):
    """Batch defects are found while reading: no row rules needed (fast)."""
    return open_batch(batch_dir, DEFAULT)


def test_clean_batch_passes(tmp_path, tables):
    report = validate_batch(write_batch(tmp_path, tables), DEFAULT)
    assert report.ok
    assert report.batch_defects == []
    assert report.row_defects.height == 0
    assert report.rows_read["patients"] == 3


def test_missing_required_file(tmp_path, tables):
    del tables["imaging"]
    report = _read(write_batch(tmp_path, tables))
    assert not report.ok
    assert ("missing_required_file", "imaging.csv", None) in _rules(report)


def test_optional_table_may_be_absent(tmp_path, tables):
    del tables["mdt_decisions"]
    assert _read(write_batch(tmp_path, tables)).ok


def test_two_files_for_one_table(tmp_path, tables):
    batch_dir = write_batch(tmp_path, tables)
    write_batch(tmp_path, {"imaging": tables["imaging"]}, fmt="parquet", manifest=False)
    report = _read(batch_dir)
    assert {d.rule_id for d in report.defects} >= {"duplicate_table_file"}
    assert any("imaging.csv" in d.file and "imaging.parquet" in d.file
               for d in report.defects if d.rule_id == "duplicate_table_file")


def test_unknown_file(tmp_path, tables):
    batch_dir = write_batch(tmp_path, tables)
    (batch_dir / "notes.csv").write_text("a,b\n1,2\n")
    assert ("unknown_file", "notes.csv", None) in _rules(_read(batch_dir))


def _edit_manifest(batch_dir, change):
    path = batch_dir / "manifest.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_unknown_contract_version(tmp_path, tables):
    batch_dir = write_batch(tmp_path, tables)
    _edit_manifest(batch_dir, lambda m: m.update(contract_version="7"))
    assert ("unknown_contract_version", "manifest.json", None) in _rules(
        _read(batch_dir))


def test_manifest_unreadable(tmp_path, tables):
    batch_dir = write_batch(tmp_path, tables)
    (batch_dir / "manifest.json").write_text("{not json")
    assert ("manifest_invalid", "manifest.json", None) in _rules(
        _read(batch_dir))


def test_manifest_batch_id_differs(tmp_path, tables):
    batch_dir = write_batch(tmp_path, tables)
    _edit_manifest(batch_dir, lambda m: m.update(batch_id="2026-10-01"))
    assert ("manifest_batch_id", "manifest.json", None) in _rules(
        _read(batch_dir))


def test_manifest_row_count_mismatch(tmp_path, tables):
    batch_dir = write_batch(tmp_path, tables)
    _edit_manifest(batch_dir, lambda m: m["files"]["patients.csv"].update(rows=4))
    assert ("manifest_row_count", "patients.csv", None) in _rules(
        _read(batch_dir))


def test_manifest_checksum_mismatch(tmp_path, tables):
    batch_dir = write_batch(tmp_path, tables)
    _edit_manifest(batch_dir, lambda m: m["files"]["patients.csv"].update(sha256="0" * 64))
    assert ("manifest_checksum", "patients.csv", None) in _rules(
        _read(batch_dir))


def test_manifest_lists_a_missing_file(tmp_path, tables):
    batch_dir = write_batch(tmp_path, tables)
    _edit_manifest(batch_dir, lambda m: m["files"].update({"extra.csv": {"rows": 1}}))
    assert ("manifest_file_missing", "extra.csv", None) in _rules(
        _read(batch_dir))


def test_missing_required_column(tmp_path, tables):
    for row in tables["imaging"]:
        del row["modality"]
    assert ("missing_required_column", "imaging.csv", "modality") in _rules(
        _read(write_batch(tmp_path, tables)))


def test_optional_column_may_be_absent(tmp_path, tables):
    for row in tables["imaging"]:
        del row["response"]
    assert _read(write_batch(tmp_path, tables)).ok


def test_unknown_column(tmp_path, tables):
    for row in tables["imaging"]:
        row["comment_field"] = "x"
    assert ("unknown_column", "imaging.csv", "comment_field") in _rules(
        _read(write_batch(tmp_path, tables)))


def test_duplicate_column(tmp_path, tables):
    batch_dir = write_batch(tmp_path, tables, manifest=False)
    (batch_dir / "imaging.csv").write_text(
        "exam_id,patient_id,exam_date,modality,modality\nE001,P001,2024-01-15,ct,ct\n")
    assert ("duplicate_column", "imaging.csv", "modality") in _rules(
        _read(batch_dir))


def test_unreadable_file(tmp_path, tables):
    batch_dir = write_batch(tmp_path, tables, manifest=False)
    (batch_dir / "imaging.csv").write_text(
        "exam_id,patient_id,exam_date,modality\nE001,P001,2024-01-15,ct,extra,fields\n")
    assert ("unreadable_file", "imaging.csv", None) in _rules(_read(batch_dir))


def test_quarantine_rate_above_threshold(tmp_path, tables):
    tables["imaging"][0]["modality"] = "xray"
    report = validate_batch(write_batch(tmp_path, tables), DEFAULT)
    assert [d.rule_id for d in report.batch_defects] == ["quarantine_rate"]
    assert "imaging" in report.batch_defects[0].reason
    # The same defect under a permissive threshold is a row defect only.
    assert validate_batch(tmp_path / "2026-11-01", DEFAULT, quarantine_rate_threshold=0.5).ok

"""`oligo validate`: one line per defect with file, row, column, rule, reason; a summary;
exit status non-zero on batch defects only."""

from __future__ import annotations

from pipelines.cli import main
from tests.ingest.ingest_batches import clean_tables, with_cell, write_batch


def test_clean_batch_exits_zero_with_a_summary(tmp_path, capsys):
    assert main(["validate", str(write_batch(tmp_path, clean_tables()))]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out == ["batch 2026-11-01: accepted; 0 batch defects; 25 rows read, 0 would be "
                   "quarantined, 0 flagged"]


def test_row_defect_line_names_file_row_column_rule_and_reason(tmp_path, capsys):
    tables = with_cell(clean_tables(), "imaging", "E002", "modality", "xray")
    status = main(["validate", str(write_batch(tmp_path, tables)), "--max-quarantine-rate",
                   "0.5"])
    out = capsys.readouterr().out.splitlines()
    assert status == 0
    assert ("QUARANTINE imaging.csv row 3 column modality: code_list: value not in the "
            "contract's code list") in out
    assert "xray" not in "\n".join(out)


def test_batch_defect_exits_non_zero(tmp_path, capsys):
    tables = clean_tables()
    del tables["patients"]
    assert main(["validate", str(write_batch(tmp_path, tables)), "--dialect", "fr"]) == 1
    assert any(line.startswith("BATCH file patients.csv: missing_required_file")
               for line in capsys.readouterr().out.splitlines())

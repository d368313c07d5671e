"""Opt-outs: recorded as pseudonyms only, applied to every table at load, counted per batch in
`raw.opt_out_exclusions`; `oligo opt-out add` never prints or stores the source id."""

from __future__ import annotations

import stat

import duckdb
import pytest

from pipelines.cli import main
from pipelines.contract.dialects import DEFAULT
from pipelines.contract.tables import TABLES
from pipelines.ingest.batch import open_batch
from pipelines.ingest.load import load_keyed_batch
from pipelines.ingest.opt_outs import add_opt_out, read_opt_outs
from pipelines.ingest.pseudonym import Pseudonymizer, registry_scope
from tests.ingest.ingest_batches import clean_tables, write_batch

SECRET = "opt-out-tests-secret-0123456789abcdef"
KEYED = Pseudonymizer(SECRET.encode()).scoped(registry_scope("TEST"))


def _load(batch_dir, opt_outs):
    con = duckdb.connect()
    rows, excluded = load_keyed_batch(con, open_batch(batch_dir, DEFAULT), KEYED, opt_outs)
    return con, rows, excluded


def test_opted_out_patients_reach_no_raw_table(tmp_path):
    batch_dir = write_batch(tmp_path, clean_tables())
    key = KEYED.pseudonym("patient_id", "P001")
    con, rows, excluded = _load(batch_dir, [key, KEYED.pseudonym("patient_id", "P999")])
    assert excluded == 1
    assert con.sql("SELECT * FROM raw.opt_out_exclusions").fetchall() == [("2026-11-01", 1)]
    for t in TABLES:
        assert con.execute(f"SELECT count(*) FROM raw.{t.name} WHERE patient_id = ?",
                           [key]).fetchone()[0] == 0, t.name
    source = clean_tables()
    for name, kept in (("patients", 2), ("metastases", 2), ("imaging", 1), ("mdt_decisions", 0)):
        assert con.sql(f"SELECT count(*) FROM raw.{name}").fetchone()[0] == kept
        assert rows[name] == len(source[name])  # rows read from the file


def test_without_opt_outs_every_row_loads_and_zero_is_recorded(tmp_path):
    con, rows, excluded = _load(write_batch(tmp_path, clean_tables()), [])
    assert excluded == 0 and rows["patients"] == 3
    assert con.sql("SELECT * FROM raw.opt_out_exclusions").fetchall() == [("2026-11-01", 0)]
    assert con.sql("SELECT count(*) FROM raw.patients").fetchone()[0] == 3


def test_the_store_keeps_pseudonyms_only_readable_by_its_owner(tmp_path):
    path = tmp_path / "opt-outs.csv"
    key, new = add_opt_out(KEYED, " P001 ", path)
    assert new and add_opt_out(KEYED, "P001", path) == (key, False)
    assert read_opt_outs(path) == [key]
    assert "P001" not in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(ValueError, match="per registry"):
        add_opt_out(Pseudonymizer(SECRET.encode()), "P002", path)


def test_opt_out_command_records_without_echoing(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("OLIGO_HOME", str(tmp_path))
    monkeypatch.setenv("OLIGO_PSEUDONYM_SECRET", SECRET)
    monkeypatch.delenv("OLIGO_REGISTRY", raising=False)
    assert main(["opt-out", "add", "P001", "--registry", "TEST"]) == 0
    assert main(["opt-out", "add", "P001", "--registry", "TEST"]) == 0
    assert main(["opt-out", "count"]) == 0
    out = capsys.readouterr().out
    assert "P001" not in out and "already recorded" in out and "1 opt-outs recorded" in out
    assert read_opt_outs(tmp_path / "opt-outs.csv") == [KEYED.pseudonym("patient_id", "P001")]
    assert main(["opt-out", "add", "P002"]) == 2  # which registry?
    assert "--registry" in capsys.readouterr().err


def test_the_history_of_earlier_batches_forgets_the_patient(tmp_path):
    key = KEYED.pseudonym("patient_id", "P001")
    con = duckdb.connect()
    con.execute("CREATE SCHEMA ops; CREATE SCHEMA dq")
    con.execute("CREATE TABLE ops.quarantine (batch_id VARCHAR, record_key VARCHAR)")
    con.execute("INSERT INTO ops.quarantine VALUES ('old', ?), ('old', 'other')",
                [f"lesion_id=x|patient_id={key}"])
    con.execute("CREATE TABLE dq.failing_rows (batch_id VARCHAR, patient_id VARCHAR)")
    con.execute("INSERT INTO dq.failing_rows VALUES ('old', ?), ('old', 'other')", [key])
    load_keyed_batch(con, open_batch(write_batch(tmp_path, clean_tables()), DEFAULT), KEYED,
                     [key])
    assert con.sql("SELECT record_key FROM ops.quarantine").fetchall() == [("other",)]
    assert con.sql("SELECT patient_id FROM dq.failing_rows").fetchall() == [("other",)]

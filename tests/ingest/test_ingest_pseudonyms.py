"""Pseudonymised keys: stable across runs and batches, different under another secret,
the same in SQL as in Python, and the secret is required outside demo mode."""

from __future__ import annotations

import hashlib
import hmac

import duckdb
import pytest

from pipelines.cli import main
from pipelines.contract.dialects import DEFAULT
from pipelines.ingest.batch import open_batch
from pipelines.ingest.load import load_raw_table
from pipelines.ingest.pseudonym import (
    KEY_HEX_CHARS,
    MissingSecret,
    Pseudonymizer,
    load_pseudonymizer,
)
from tests.ingest.ingest_batches import clean_tables, write_batch


def _patient_keys(batch_dir, secret: bytes) -> list[str]:
    con = duckdb.connect()
    load_raw_table(con, open_batch(batch_dir, DEFAULT), "patients", Pseudonymizer(secret))
    return [r[0] for r in con.sql("SELECT patient_id FROM raw.patients ORDER BY _row_number"
                                  ).fetchall()]


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory):
    return write_batch(tmp_path_factory.mktemp("b"), clean_tables())


def test_sql_keys_equal_the_python_hmac(batch_dir):
    keys = _patient_keys(batch_dir, b"s1")
    expected = [hmac.new(b"s1", f"patient_id:{pid}".encode(), hashlib.sha256).hexdigest()
                [:KEY_HEX_CHARS] for pid in ("P001", "P002", "P003")]
    assert keys == expected


def test_keys_are_stable_across_runs_and_batches(batch_dir, tmp_path):
    other = clean_tables()
    other["patients"] = list(reversed(other["patients"]))  # a later batch, another order
    later = write_batch(tmp_path, other, batch_id="2026-12-01")
    assert _patient_keys(batch_dir, b"s1") == _patient_keys(batch_dir, b"s1")
    assert sorted(_patient_keys(later, b"s1")) == sorted(_patient_keys(batch_dir, b"s1"))


def test_keys_differ_under_another_secret(batch_dir):
    assert set(_patient_keys(batch_dir, b"s1")).isdisjoint(_patient_keys(batch_dir, b"s2"))


def test_surrounding_blanks_do_not_change_the_key():
    keys = Pseudonymizer(b"s")
    assert keys.pseudonym("patient_id", " P001 ") == keys.pseudonym("patient_id", "P001")
    assert keys.pseudonym("lesion_id", "P001") != keys.pseudonym("patient_id", "P001")


def test_secret_from_env_or_file_and_refusal_without(monkeypatch, tmp_path):
    monkeypatch.delenv("OLIGO_PSEUDONYM_SECRET", raising=False)
    monkeypatch.delenv("OLIGO_PSEUDONYM_SECRET_FILE", raising=False)
    with pytest.raises(MissingSecret):
        load_pseudonymizer()
    assert load_pseudonymizer(demo=True).is_demo
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-file\n")
    monkeypatch.setenv("OLIGO_PSEUDONYM_SECRET_FILE", str(secret_file))
    assert load_pseudonymizer().secret == b"from-file"
    monkeypatch.setenv("OLIGO_PSEUDONYM_SECRET", "from-env")
    assert load_pseudonymizer().secret == b"from-env"


def test_pseudonym_command_prints_the_keys(monkeypatch, capsys):
    monkeypatch.setenv("OLIGO_PSEUDONYM_SECRET", "s1")
    assert main(["pseudonym", "P001", "P002"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"P00{i}\t{Pseudonymizer(b's1').pseudonym('patient_id', f'P00{i}')}"
                     for i in (1, 2)]
    monkeypatch.delenv("OLIGO_PSEUDONYM_SECRET")
    monkeypatch.delenv("OLIGO_PSEUDONYM_SECRET_FILE", raising=False)
    assert main(["pseudonym", "P001"]) == 2

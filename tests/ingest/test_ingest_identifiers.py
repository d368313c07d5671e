"""Direct identifiers refuse the batch, naming file, column and rule, and the offending
values appear nowhere: not in output, errors, reports nor any file written."""

from __future__ import annotations

import pytest

from pipelines.cli import main
from pipelines.contract.dialects import DEFAULT
from pipelines.ingest.batch import open_batch
from tests.ingest.ingest_batches import clean_tables, with_cell, write_batch

CONTENT_CASES = [
    ("center_id", "jean.dupont@example.fr", "e-mail"),
    ("center_id", "06 12 34 56 78", "phone"),
    ("center_id", "+33 6 12 34 56 78", "phone"),
    ("center_id", "1 85 05 75 123 456 78", "NIR"),
    ("center_id", "12 rue de la Paix", "address"),
    ("patient_id", "Jean DUPONT", "name"),
    ("center_id", "Mme Durand", "title and name"),
    ("birth_year", "1950-03-02", "birth date"),
]


def _defects(batch_dir):
    return [d for d in open_batch(batch_dir, DEFAULT).defects if d.rule_id == "direct_identifier"]


@pytest.mark.parametrize(("column", "value", "kind"), CONTENT_CASES,
                         ids=[c[2] for c in CONTENT_CASES])
def test_identifier_content_refuses_the_batch(tmp_path, column, value, kind):
    tables = with_cell(clean_tables(), "patients", "P002", column, value)
    defects = _defects(write_batch(tmp_path, tables))
    assert [(d.file, d.column) for d in defects] == [("patients.csv", column)]
    assert kind.split()[0] in defects[0].reason
    assert value not in defects[0].describe()


@pytest.mark.parametrize("name", ["nom", "prenom", "date_naissance", "telephone", "email",
                                  "adresse", "nir", "DOB"])
def test_identifier_column_name_refuses_the_batch(tmp_path, name):
    tables = clean_tables()
    for row in tables["patients"]:
        row[name] = "x"
    defects = _defects(write_batch(tmp_path, tables))
    assert [(d.file, d.column) for d in defects] == [("patients.csv", name.lower())]


def test_clean_values_are_not_mistaken_for_identifiers(tmp_path):
    assert _defects(write_batch(tmp_path, clean_tables())) == []


def test_values_never_appear_in_output_or_files(tmp_path, capsys):
    secrets = ["jean.dupont@example.fr", "06 12 34 56 78", "Jean DUPONT"]
    tables = with_cell(clean_tables(), "patients", "P001", "center_id", secrets[0])
    tables = with_cell(tables, "patients", "P002", "center_id", secrets[1])
    tables = with_cell(tables, "imaging", "E001", "patient_id", secrets[2])
    batch_dir = write_batch(tmp_path / "exports", tables)
    before = {p: p.stat().st_mtime for p in tmp_path.rglob("*")}
    status = main(["validate", str(batch_dir)])
    out = capsys.readouterr()
    assert status == 1
    assert "direct_identifier" in out.out
    for value in secrets:
        assert value not in out.out and value not in out.err
    # Nothing was written: no new file, no file changed (the batch itself is read-only to us).
    assert {p: p.stat().st_mtime for p in tmp_path.rglob("*")} == before

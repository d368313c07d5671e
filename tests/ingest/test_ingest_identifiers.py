"""Direct identifiers refuse the batch, naming file, column, kind and row count, and the
offending values appear nowhere: not in output, errors, reports nor any file written.
Every identifier kind is delivered in every kind of column."""

from __future__ import annotations

import pytest

from pipelines.cli import main
from pipelines.contract.dialects import DEFAULT
from pipelines.ingest.batch import open_batch
from tests.ingest.identifier_samples import COLUMN_KINDS, SAMPLES, with_rows_holding
from tests.ingest.ingest_batches import clean_tables, with_cell, write_batch


def _defects(batch_dir):
    return [d for d in open_batch(batch_dir, DEFAULT).defects if d.rule_id == "direct_identifier"]


@pytest.mark.parametrize("column_kind", list(COLUMN_KINDS))
def test_every_identifier_kind_in_each_column_kind_is_refused_by_validate(
        tmp_path, capsys, column_kind):
    table, column = COLUMN_KINDS[column_kind]
    values = [value for value, _ in SAMPLES.values()]
    batch_dir = write_batch(tmp_path, with_rows_holding(clean_tables(), table, column, values))
    assert main(["validate", str(batch_dir)]) == 1
    out = capsys.readouterr()
    lines = [line for line in out.out.splitlines() if "direct_identifier" in line]
    assert lines and all(f"file {table}.csv column {column}:" in line for line in lines)
    for kind, (value, words) in SAMPLES.items():
        assert any(f"like {words})" in line for line in lines), (kind, lines)
        assert value not in out.out and value not in out.err, kind
    assert "REFUSED" in out.out.splitlines()[-1]


def test_refusal_counts_rows_not_values(tmp_path):
    tables = with_cell(clean_tables(), "patients", "P001", "center_id", "06 12 34 56 78")
    tables = with_cell(tables, "patients", "P002", "center_id", "06 12 34 56 78")
    [defect] = _defects(write_batch(tmp_path, tables))
    assert (defect.file, defect.column) == ("patients.csv", "center_id")
    assert defect.detail == "2 rows look like a phone number"


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


@pytest.mark.parametrize(("column", "value"), [
    ("center_id", "Centre Léon Bérard"), ("center_id", "690000880"),  # FINESS, Luhn key
    ("center_id", "CHU Lyon Sud"), ("ctcae_term", "Chest Wall Pain"),
    ("ctcae_term", "Stevens-Johnson syndrome"), ("drug_name", "Zoledronic Acid"),
    ("clinical_t", "cT2a N2 M1b"), ("morphology_code", "8140/3 Adenocarcinoma"),
])
def test_clinical_look_alikes_pass(tmp_path, column, value):
    table = {"ctcae_term": "toxicities", "drug_name": "systemic_therapies",
             "clinical_t": "primary_tumors", "morphology_code": "primary_tumors"
             }.get(column, "patients")
    key = {"toxicities": "X001", "systemic_therapies": "D001", "primary_tumors": "T001"
           }.get(table, "P001")
    assert _defects(write_batch(tmp_path, with_cell(clean_tables(), table, key, column,
                                                    value))) == []


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

"""The loader's path on a pseudonymised warehouse connection: cascade, patient flags,
staging types and normalisation, reconciliation."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from pipelines.contract.dialects import DEFAULT
from pipelines.contract.staging import staging_schema
from pipelines.contract.tables import TABLES
from pipelines.ingest.batch import open_batch
from pipelines.ingest.defects import BatchRefused
from pipelines.ingest.load import load_raw_table, load_raw_tables
from pipelines.ingest.pseudonym import Pseudonymizer
from pipelines.ingest.quarantine import find_row_defects
from pipelines.ingest.staging import build_staging_table, reconcile
from tests.ingest.ingest_batches import clean_tables, with_cell, write_batch

KEYS = Pseudonymizer(b"test-secret")


def load(batch_dir, pseudonymizer=KEYS, dialect=DEFAULT):
    con = duckdb.connect()
    batch = open_batch(batch_dir, dialect)
    assert batch.ok, [d.describe() for d in batch.defects]
    load_raw_tables(con, batch, pseudonymizer)
    summary = find_row_defects(con, batch.batch_id, dialect, quarantine_rate_threshold=1.0)
    for t in TABLES:
        build_staging_table(con, t.name, dialect)
    return con, summary


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    con, _ = load(write_batch(tmp_path_factory.mktemp("clean"), clean_tables()))
    yield con
    con.close()


@pytest.fixture(scope="module")
def cascaded(tmp_path_factory):
    # T001's topography is wrong: T001 -> lesions L001, L002 -> event V001, RT course R001
    # (both targets) -> quarantined as parent_quarantined; patient P001 incomplete.
    tables = with_cell(clean_tables(), "primary_tumors", "T001", "topography_code", "C50.1")
    tables["toxicities"].append({**tables["toxicities"][0], "toxicity_id": "X009",
                                 "patient_id": "P001", "course_id": "R001"})
    con, _ = load(write_batch(tmp_path_factory.mktemp("cascade"), tables))
    yield con
    con.close()


def test_staging_types_match_the_declared_schema(clean):
    for t in TABLES:
        frame = clean.sql(f"SELECT * FROM staging.{t.name}").pl()
        assert dict(frame.schema) == staging_schema(t.name), t.name


def test_clean_batch_loads_every_row_and_reconciles(clean):
    for counts in reconcile(clean):
        assert counts.balanced and counts.rows_quarantined == 0, counts
        assert counts.rows_loaded == len(clean_tables()[counts.table_name])


def test_ids_are_pseudonymised_consistently_across_tables(clean):
    p001 = KEYS.pseudonym("patient_id", "P001")
    l001 = KEYS.pseudonym("lesion_id", "L001")
    assert clean.sql("SELECT count(*) FROM raw.patients WHERE patient_id = 'P001'").fetchone()[0] == 0
    assert clean.execute("SELECT count(*) FROM staging.patients WHERE patient_id = ?",
                         [p001]).fetchone()[0] == 1
    assert clean.execute("SELECT lesion_id FROM staging.disease_events WHERE patient_id = ? "
                         "AND lesion_id IS NOT NULL", [p001]).fetchone()[0] == l001
    targets = {r[0] for r in clean.execute(
        "SELECT target FROM staging.radiotherapy").fetchall()}
    assert l001 in targets and "primary" in targets
    course = clean.sql("SELECT course_id FROM staging.toxicities WHERE course_id IS NOT NULL")
    assert course.fetchone()[0] == KEYS.pseudonym("course_id", "R002")


def test_codes_dates_and_defaults_are_normalised(clean):
    tumour = clean.execute("SELECT topography_code, tnm_edition FROM staging.primary_tumors "
                           "WHERE tumor_id = ?", [KEYS.pseudonym("tumor_id", "T002")]).fetchone()
    assert tumour == ("C34.1", 8)  # C341 -> C34.1; TNM 8 when absent
    sites = dict(clean.execute("SELECT site_code, site_laterality FROM staging.metastases "
                               "WHERE site_code IN ('C79.3', 'C79.7')").fetchall())
    assert sites == {"C79.3": None, "C79.7": "left"}  # C79.31 brain; C7972 left adrenal
    atc = clean.execute("SELECT atc_code, atc_code_as_delivered FROM staging.systemic_therapies "
                        "WHERE drug_name = 'pembrolizumab'").fetchone()
    assert atc == ("L01FF02", "L01XC18")
    rt = clean.sql("SELECT phase, dose_reference FROM staging.radiotherapy "
                   "WHERE total_dose_gy = 24").fetchone()
    assert rt == (1, "prescription")
    assert clean.sql("SELECT response FROM staging.imaging WHERE response IS NOT NULL"
                     ).fetchone()[0] == "iCR"
    assert clean.sql("SELECT bool_and(confirmed) FROM staging.disease_events").fetchone()[0]
    assert clean.sql("SELECT min(ctcae_version) FROM staging.toxicities").fetchone()[0] == "5.0"


def test_partial_dates_are_imputed_and_flagged(tmp_path):
    tables = with_cell(clean_tables(), "primary_tumors", "T002", "diagnosis_date", "2024-03")
    tables = with_cell(tables, "metastases", "L003", "detected_date", "2024")
    con, _ = load(write_batch(tmp_path, tables))
    assert con.sql("SELECT diagnosis_date, diagnosis_date_imputed FROM staging.primary_tumors "
                   "WHERE diagnosis_date_imputed").fetchall() == [(dt.date(2024, 3, 15), True)]
    assert con.sql("SELECT detected_date FROM staging.metastases WHERE detected_date_imputed"
                   ).fetchall() == [(dt.date(2024, 7, 1),)]


def test_cascade_quarantines_children_with_parent_quarantined(cascaded):
    rows = cascaded.sql("SELECT table_name, row_number, column_name, rule_id "
                        "FROM ingest.quarantine ORDER BY ALL").fetchall()
    assert rows == sorted([
        ("primary_tumors", 2, "topography_code", "code_pattern"),
        ("metastases", 2, "tumor_id", "parent_quarantined"),
        ("metastases", 3, "tumor_id", "parent_quarantined"),
        ("disease_events", 2, "lesion_id", "parent_quarantined"),
        ("radiotherapy", 2, "target", "parent_quarantined"),
        ("radiotherapy", 3, "target", "parent_quarantined"),
        ("toxicities", 4, "course_id", "parent_quarantined"),
    ])


def test_cascade_marks_the_patient_incomplete_and_reconciles(cascaded):
    flags = dict(cascaded.sql("SELECT patient_id, is_incomplete FROM staging.patients").fetchall())
    assert flags[KEYS.pseudonym("patient_id", "P001")] is True
    assert flags[KEYS.pseudonym("patient_id", "P002")] is False
    counts = {c.table_name: c for c in reconcile(cascaded)}
    assert all(c.balanced for c in counts.values())
    assert (counts["metastases"].rows_loaded, counts["metastases"].rows_quarantined) == (2, 2)


def test_implausibility_loads_the_row_and_flags_the_patient(tmp_path):
    tables = with_cell(clean_tables(), "toxicities", "X002", "grade", "5")  # P001 is alive
    con, summary = load(write_batch(tmp_path, tables))
    assert summary.tables["toxicities"].rows_flagged == 1
    assert con.sql("SELECT count(*) FROM staging.toxicities WHERE grade = 5").fetchone()[0] == 1
    flagged = con.sql("SELECT patient_id FROM staging.patients WHERE has_implausibility")
    assert flagged.fetchall() == [(KEYS.pseudonym("patient_id", "P001"),)]
    assert con.sql("SELECT record_key FROM ingest.implausibilities").fetchall() == [
        (KEYS.pseudonym("toxicity_id", "X002"),)]


def test_a_batch_with_an_identifier_is_never_loaded(tmp_path):
    tables = with_cell(clean_tables(), "patients", "P001", "center_id", "jean@example.org")
    batch = open_batch(write_batch(tmp_path, tables), DEFAULT)
    con = duckdb.connect()
    with pytest.raises(BatchRefused):
        load_raw_table(con, batch, "patients", KEYS)
    assert con.sql("SELECT count(*) FROM information_schema.tables").fetchone()[0] == 0

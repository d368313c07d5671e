"""The same data as CSV, Parquet or XLSX, and in the default or the French dialect
(`;`, decimal comma, DD/MM/YYYY, Windows-1252, header aliases), gives identical staging."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.contract.dialects import DEFAULT, FRENCH
from pipelines.contract.tables import TABLES
from pipelines.ingest.batch import open_batch
from pipelines.ingest.load import load_raw_tables
from pipelines.ingest.pseudonym import Pseudonymizer
from pipelines.ingest.quarantine import find_row_defects
from pipelines.ingest.staging import build_staging_table
from tests.ingest.ingest_batches import clean_tables, in_dialect, write_batch

KEYS = Pseudonymizer(b"formats")


def staging_frames(batch_dir, dialect) -> dict[str, pl.DataFrame]:
    batch = open_batch(batch_dir, dialect)
    assert batch.ok, [d.describe() for d in batch.defects]
    with duckdb.connect() as con:
        load_raw_tables(con, batch, KEYS)
        summary = find_row_defects(con, batch.batch_id, dialect)
        assert summary.by_rule == {}
        frames = {}
        for t in TABLES:
            build_staging_table(con, t.name, dialect)
            frames[t.name] = con.sql(f"SELECT * FROM staging.{t.name}").pl()
    return frames


def _tables_with_accents():
    tables = clean_tables()
    tables["toxicities"][1]["ctcae_term"] = "Érythème"  # survives Windows-1252
    return tables


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return staging_frames(write_batch(tmp_path_factory.mktemp("csv"), _tables_with_accents()),
                          DEFAULT)


def _assert_same(frames, reference):
    for name, frame in reference.items():
        assert_frame_equal(frames[name], frame, check_row_order=True), name


@pytest.mark.parametrize("fmt", ["parquet", "xlsx"])
def test_formats_give_identical_staging(tmp_path, reference, fmt):
    _assert_same(staging_frames(write_batch(tmp_path, _tables_with_accents(), fmt=fmt),
                                DEFAULT), reference)


def test_french_dialect_gives_identical_staging(tmp_path, reference):
    french = in_dialect(_tables_with_accents(), FRENCH)
    aliases = {t: {col: alias for alias, col in a.items()}
               for t, a in FRENCH.header_aliases.items()}
    batch_dir = write_batch(tmp_path, french, dialect=FRENCH, header_aliases=aliases)
    assert "date_diagnostic" in (batch_dir / "primary_tumors.csv").read_text(encoding="cp1252")
    assert b"\xc9ryth" in (batch_dir / "toxicities.csv").read_bytes()  # really cp1252
    _assert_same(staging_frames(batch_dir, FRENCH), reference)


def test_utf8_bom_is_tolerated(tmp_path, reference):
    batch_dir = write_batch(tmp_path, _tables_with_accents())
    for path in batch_dir.glob("*.csv"):
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    batch = open_batch(batch_dir, DEFAULT)
    assert [d.rule_id for d in batch.defects] == ["manifest_checksum"] * 10
    (batch_dir / "manifest.json").unlink()
    _assert_same(staging_frames(batch_dir, DEFAULT), reference)


def test_default_dialect_refuses_a_decimal_comma_the_french_accepts(tmp_path):
    tables = clean_tables()
    tables["radiotherapy"][1]["total_dose_gy"] = "37,5"
    batch_dir = write_batch(tmp_path, tables, dialect=DEFAULT)
    with duckdb.connect() as con:
        load_raw_tables(con, open_batch(batch_dir, DEFAULT))
        assert find_row_defects(con, "b", DEFAULT, 1.0).by_rule == {"type_decimal": 1}
        assert find_row_defects(con, "b", FRENCH, 1.0).by_rule.get("type_decimal") is None

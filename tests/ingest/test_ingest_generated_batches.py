"""Generated batches (`oligo generate`): a --messy batch has every line of its defects.csv
caught and nothing else but cascades, its counts reconcile through the loader's path; an
--inject-identifier batch is refused without its values appearing anywhere."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest

from pipelines.cli import main
from pipelines.contract.dialects import DEFAULT
from pipelines.contract.tables import TABLES
from pipelines.ingest.batch import open_batch
from pipelines.ingest.load import load_raw_tables
from pipelines.ingest.pseudonym import Pseudonymizer
from pipelines.ingest.quarantine import find_row_defects
from pipelines.ingest.staging import build_staging_table, reconcile
from pipelines.ingest.validate import validate_batch
from pipelines.synthetic.batch import BatchSpec, generate_batch

CUTOFF = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    return generate_batch(BatchSpec(patients=120, seed=11, out_dir=tmp_path_factory.mktemp("m"),
                                    cutoff=CUTOFF, messy=True))


def test_every_injected_defect_is_caught_and_nothing_else(messy):
    expected = pl.read_csv(messy.defects_file, infer_schema=False)
    assert expected.height > 0
    found = validate_batch(messy.batch_dir, DEFAULT).row_defects.select(
        "table_name", "record_key", "rule_id", pl.col("row_number").cast(pl.String))
    injected = expected.filter(pl.col("rule") != "normalised").select(
        table_name="table", record_key="key", rule_id="rule", row_number="row_number")
    assert injected.join(found, on=injected.columns, how="anti").height == 0
    own = found.filter(pl.col("rule_id") != "parent_quarantined")
    assert own.join(injected, on=injected.columns, how="anti").height == 0
    normalised = expected.filter(pl.col("rule") == "normalised").select(
        table_name="table", record_key="key")
    assert normalised.join(found, on=["table_name", "record_key"], how="semi").height == 0


def test_loader_path_reconciles_every_table(messy):
    batch = open_batch(messy.batch_dir, DEFAULT)
    with duckdb.connect() as con:
        load_raw_tables(con, batch, Pseudonymizer(b"generated"))
        find_row_defects(con, batch.batch_id, DEFAULT)
        for t in TABLES:
            build_staging_table(con, t.name, DEFAULT)
        counts = reconcile(con)
    assert all(c.balanced for c in counts), counts
    assert sum(c.rows_quarantined for c in counts) > 0
    assert sum(c.rows_read for c in counts) == sum(messy.rows.values())


def test_injected_identifier_is_refused_without_its_values(tmp_path, capsys):
    result = generate_batch(BatchSpec(patients=30, seed=12, out_dir=tmp_path, cutoff=CUTOFF,
                                      inject_identifier=True))
    patients = pl.read_csv(result.batch_dir / "patients.csv", infer_schema=False)
    extra = [c for c in patients.columns if c not in TABLES[0].column_names]
    values = [v for c in extra for v in patients[c].drop_nulls().to_list()]
    assert values
    assert main(["validate", str(result.batch_dir)]) == 1
    out = capsys.readouterr()
    assert "direct_identifier" in out.out
    assert not any(v in out.out or v in out.err for v in values)

"""The `--messy` synthetic batch trips exactly the data-quality checks matching the defects
its generator lists in defects.csv (issue 10): each quarantined (table, rule) is counted by
its `<table>__quarantine__<rule>` check, each cross-record warning by its clinical check."""

import subprocess
import sys

import duckdb
import polars as pl
import pytest

from pipelines.clinical.parameters import DEFAULT_PARAMETERS
from pipelines.contract import TABLES, Disposition, dialect, rule
from pipelines.ingest.batch import open_batch
from pipelines.ingest.load import load_raw_table
from pipelines.ingest.pseudonym import Pseudonymizer
from pipelines.ingest.quarantine import QUARANTINE_COLUMNS, find_row_defects
from pipelines.ingest.staging import build_staging_table
from pipelines.ops_store import ensure_ops_schema
from pipelines.quality.catalog import all_checks
from pipelines.quality.evaluate import evaluate_checks
from pipelines.quality.relations import default_relations
from pipelines.quality.thresholds import DEFAULT_THRESHOLDS

BATCH = "messy-2026-10-31"

# The clinical check that lists each cross-record warning's rows.
WARNING_CHECKS = {
    "death_before_diagnosis": "patients__death_before_diagnosis",
    "last_contact_after_death": "patients__last_contact_after_death",
    "grade5_alive": "toxicities__grade5_alive",
    "radiotherapy_before_diagnosis": "radiotherapy__start_date__before_first_diagnosis",
    "imaging_after_last_contact": "imaging__exam_date__after_last_contact",
    "event_before_birth": "primary_tumors__diagnosis_date__before_birth",
}


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    out = tmp_path_factory.mktemp("messy")
    subprocess.run([sys.executable, "-m", "pipelines.cli", "generate", "--patients", "5000",
                    "--seed", "1", "--messy", "--out", str(out), "--batch-id", BATCH],
                   check=True, capture_output=True)
    source = dialect("default")
    batch = open_batch(out / BATCH, source)
    con = duckdb.connect(str(out / "warehouse.duckdb"))
    ensure_ops_schema(con)
    for t in TABLES:
        load_raw_table(con, batch, t.name, Pseudonymizer(b"test-secret"))
    assert find_row_defects(con, BATCH, source).ok
    columns = ", ".join(QUARANTINE_COLUMNS)
    con.execute(f"INSERT INTO ops.quarantine ({columns}) SELECT {columns} FROM ingest.quarantine")
    for t in TABLES:
        build_staging_table(con, t.name, source)
    specs = [s for s in all_checks(DEFAULT_PARAMETERS, DEFAULT_THRESHOLDS)
             if s.asset[0] == "staging"]
    outcomes = evaluate_checks(con, specs, batch_id=BATCH, relations=default_relations())
    listed = pl.read_csv(out / f"{BATCH}.defects.csv", infer_schema=False)
    con.close()
    return {o.spec.check_id: o for o in outcomes}, listed


def test_every_quarantined_defect_is_counted_by_its_check(messy):
    outcomes, listed = messy
    quarantined = (listed.filter(pl.col("rule").map_elements(
        lambda r: r != "normalised" and rule(r).disposition == Disposition.ROW_QUARANTINE,
        return_dtype=pl.Boolean)).group_by("table", "rule").len())
    assert quarantined.height >= 10
    for table, rule_id, n in quarantined.iter_rows():
        outcome = outcomes[f"{table}__quarantine__{rule_id}"]
        assert outcome.failing_count == n, (table, rule_id)


def test_every_listed_warning_fails_its_clinical_check(messy):
    outcomes, listed = messy
    warnings = listed.filter(pl.col("rule").is_in(list(WARNING_CHECKS))).group_by("rule").len()
    assert set(warnings["rule"]) == set(WARNING_CHECKS)
    for rule_id, n in warnings.iter_rows():
        outcome = outcomes[WARNING_CHECKS[rule_id]]
        assert outcome.failing_count >= n, rule_id


def test_checks_of_undamaged_kinds_pass(messy):
    outcomes, listed = messy
    damaged = {f"{t}__quarantine__{r}" for t, r in listed.select("table", "rule").iter_rows()}
    quarantine_checks = [o for cid, o in outcomes.items() if "__quarantine__" in cid]
    untouched = [o for o in quarantine_checks if o.spec.check_id not in damaged
                 and not o.spec.check_id.endswith("__parent_quarantined")]
    assert untouched and all(o.failing_count == 0 for o in untouched)

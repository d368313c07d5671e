"""Real `oligo run`s in one data folder: a delivery with every identifier kind in every column
kind is refused without echoing a value; after it and after an accepted run, no injected value
is anywhere in the data folder (warehouse, published files, ops, Dagster storage and logs);
a patient who opted out is absent from every table of the next run."""

from __future__ import annotations

import hashlib
import json
import shutil

import duckdb
import polars as pl
import pytest

from pipelines.cli import main
from pipelines.ingest.pseudonym import Pseudonymizer, registry_scope
from pipelines.synthetic.batch import REGISTRY_NAME
from pipelines.working_snapshot import connect_warehouse
from tests.ingest.data_folder_search import find_values
from tests.ingest.identifier_samples import SAMPLES

SECRET = "private-runs-secret-not-for-real-data-0123"
FIRST, LATER, REFUSED = "2026-10-31", "2026-11-30", "2026-10-15-with-identifiers"
OPTED_OUT = "P0000001"
# (file, column, sample kind): ids, codes, coded text, free text, integers, decimals, dates,
# booleans, each kind of identifier at least once.
INJECTIONS = [
    ("patients", "patient_id", "name"), ("patients", "center_id", "NIR, dotted"),
    ("patients", "center_id", "name, last first"), ("patients", "center_id", "phone, national"),
    ("patients", "center_id", "IBAN"), ("patients", "sex", "e-mail"),
    ("patients", "birth_year", "NIR, dashed"), ("patients", "pack_years", "SSN"),
    ("primary_tumors", "clinical_t", "name, particle"),
    ("primary_tumors", "topography_code", "NHS number"),
    ("primary_tumors", "morphology_code", "Belgian number"),
    ("toxicities", "ctcae_term", "title"), ("toxicities", "ctcae_term", "address"),
    ("toxicities", "grade", "BSN"), ("metastases", "detected_date", "date of birth"),
    ("metastases", "biopsy_confirmed", "phone, international"),
    ("metastases", "lesion_id", "German IdNr"), ("systemic_therapies", "drug_name",
                                                  "postcode and city"),
]
VALUES = [value for value, _ in SAMPLES.values()]


def _rewrite_manifest(batch_dir, batch_id: str, cutoff: str | None = None) -> None:
    manifest = json.loads((batch_dir / "manifest.json").read_text())
    manifest["batch_id"] = batch_id
    manifest["data_cutoff_date"] = cutoff or manifest["data_cutoff_date"]
    for name in manifest["files"]:
        data = (batch_dir / name).read_bytes()
        manifest["files"][name]["sha256"] = hashlib.sha256(data).hexdigest()
    (batch_dir / "manifest.json").write_text(json.dumps(manifest))


def _inject(batch_dir) -> None:
    by_file: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in INJECTIONS:
        by_file.setdefault(table, []).append((column, SAMPLES[kind][0]))
    for table, cells in by_file.items():
        path = batch_dir / f"{table}.csv"
        frame = pl.read_csv(path, infer_schema=False)
        rows = frame.with_row_index("_i")
        for i, (column, value) in enumerate(cells):
            rows = rows.with_columns(pl.when(pl.col("_i") == i + 1).then(pl.lit(value))
                                     .otherwise(pl.col(column)).alias(column))
        rows.drop("_i").write_csv(path)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("private-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("OLIGO_HOME", str(home))
    mp.setenv("OLIGO_PSEUDONYM_SECRET", SECRET)
    mp.delenv("OLIGO_LINKAGE_KEY", raising=False)
    mp.delenv("OLIGO_LINKAGE_REGISTRIES", raising=False)
    exports = home / "exports"
    assert main(["generate", "--patients", "25", "--seed", "8", "--out", str(exports),
                 "--batch-id", FIRST]) == 0
    shutil.copytree(exports / FIRST, exports / REFUSED)
    _inject(exports / REFUSED)
    _rewrite_manifest(exports / REFUSED, REFUSED)
    yield home
    mp.undo()


@pytest.fixture(scope="module")
def runs(home, capsys_module):
    """The refused run, then an accepted one, an opt-out, and a later batch."""
    outputs = {}
    for step in ("refused", "first", "opt-out", "later"):
        if step == "refused":
            status = main(["run", "--batch", REFUSED])
        elif step == "first":
            status = main(["run", "--batch", FIRST])
        elif step == "opt-out":
            status = main(["opt-out", "add", OPTED_OUT, "--registry", REGISTRY_NAME])
            shutil.copytree(home / "exports" / FIRST, home / "exports" / LATER)
            _rewrite_manifest(home / "exports" / LATER, LATER, "2026-11-30")
        else:
            status = main(["run", "--batch", LATER])
        out = capsys_module.readouterr()
        outputs[step] = (status, out.out, out.err)
        if step == "refused":
            outputs["after refused"] = find_values(home, VALUES, skip=(home / "exports",))
    return outputs


@pytest.fixture(scope="module")
def capsys_module():
    """stdout/stderr of the module's runs (pytest's capsys is per test)."""
    import contextlib
    import io

    class Capture:
        def __init__(self):
            self.out, self.err = io.StringIO(), io.StringIO()

        def readouterr(self):
            result = type("Out", (), {"out": self.out.getvalue(), "err": self.err.getvalue()})
            self.out.seek(0), self.out.truncate(), self.err.seek(0), self.err.truncate()
            return result

    capture = Capture()
    with contextlib.redirect_stdout(capture.out), contextlib.redirect_stderr(capture.err):
        yield capture


def test_every_identifier_kind_in_every_column_kind_is_refused_by_run(runs):
    status, out, err = runs["refused"]
    assert status == 1 and f"batch {REFUSED}: refused" in out
    lines = [line for line in out.splitlines() if "direct_identifier" in line]
    for table, column, kind in INJECTIONS:
        words = SAMPLES[kind][1]
        assert any(f"file {table}.csv column {column}:" in line and f"like {words})" in line
                   for line in lines), (table, column, kind, lines)
    for value in VALUES:
        assert value not in out and value not in err


def test_no_injected_value_anywhere_in_the_data_folder(runs, home):
    assert runs["after refused"] == []
    assert runs["first"][0] == 0 and runs["later"][0] == 0, runs["later"][1][-2000:]
    assert find_values(home, VALUES, skip=(home / "exports",)) == []
    ops = duckdb.connect(str(home / "published" / "ops.duckdb"), read_only=True)
    assert ops.execute("SELECT count(*) FROM ops.ops.runs WHERE batch_id = ? AND status = "
                       "'refused'", [REFUSED]).fetchone()[0] == 1


def test_source_ids_never_reach_the_warehouse(runs, home):
    skip = (home / "exports", home / "dagster_home")
    assert find_values(home, ["P0000002", "P0000002-M01"], skip=skip) == []


def test_an_opted_out_patient_is_absent_from_every_table_of_the_next_run(runs, home):
    status, out, _ = runs["opt-out"]
    assert status == 0 and OPTED_OUT not in out
    assert f"still in 1 frozen snapshot(s) of earlier batches ({FIRST}.duckdb)" in out
    key = Pseudonymizer(SECRET.encode()).scoped(registry_scope(REGISTRY_NAME)).pseudonym(
        "patient_id", OPTED_OUT)
    stored = (home / "opt-outs.csv").read_text()
    assert key in stored and OPTED_OUT not in stored
    # The first batch's frozen snapshot still holds the patient (docs/privacy.md).
    first = home / "published" / "batches" / f"{FIRST}.duckdb"
    assert find_values(home, [key], skip=()) and any(first.name in h for h in
                                                    find_values(home, [key]))
    skip = (home / "exports", first, home / "opt-outs.csv")
    hits = find_values(home, [key], skip=skip)
    # No table holds it; the working warehouse file may keep freed blocks until it is
    # rewritten (docs/privacy.md), every published file and the working snapshot (which
    # published files are copies of) is written anew.
    assert [h for h in hits if h != f"warehouse.duckdb: bytes of {key!r}"] == [], hits
    with connect_warehouse(home / "warehouse.duckdb", read_only=True) as con:
        assert con.execute("SELECT * FROM raw.opt_out_exclusions").fetchall() == [(LATER, 1)]
        assert con.execute("SELECT count(*) FROM staging.patients").fetchone()[0] == 24

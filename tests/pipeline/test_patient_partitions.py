"""The clinical derivation in patient partitions gives the same tables as in one piece.

A generated batch of a few hundred patients is loaded through the ingestion library into a
real DuckDB warehouse; the clinical derivation (its three steps in one pass over the
partitions) then runs once with the default memory budget (one partition) and once under
a small budget that forces several partitions. Every clinical and mart table must be the
same, row for row (sorted: partitions append in bucket order)."""

import datetime as dt

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.assets import clinical, patient_partitions
from pipelines.assets.patient_partitions import partition_count, plan_partitions, staging_rows
from pipelines.clinical.parameters import DEFAULT_PARAMETERS
from pipelines.marts_catalog import MARTS

BATCH = "2026-10-31"
CUTOFF = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def staged_warehouse(tmp_path_factory):
    """A warehouse file with the staging tables of a 500-patient batch."""
    from pipelines.agreement import load_staging
    from pipelines.synthetic.batch import BatchSpec, generate_batch

    out = tmp_path_factory.mktemp("partitions")
    batch = generate_batch(BatchSpec(500, 3, out / "exports", CUTOFF, batch_id=BATCH))
    _, cutoff, staging = load_staging(batch.batch_dir)
    path = out / "staged.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA staging; CREATE SCHEMA ops")
        for name, frame in staging.items():
            con.register("frame", frame.to_arrow())
            con.execute(f'CREATE TABLE staging."{name}" AS SELECT * FROM frame')
            con.unregister("frame")
        con.execute("CREATE TABLE ops.batches AS SELECT ? AS batch_id, ?::DATE AS "
                    "data_cutoff_date", [BATCH, cutoff])
    return path


def derived_tables(path, parts) -> dict[str, pl.DataFrame]:
    with duckdb.connect(str(path)) as con:
        clinical.derive_clinical_tables(con, BATCH, DEFAULT_PARAMETERS, parts)
        return {m.name: _sorted(con.sql(f"SELECT * FROM {m.layer}.{m.name}").pl())
                for m in MARTS}


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    plain = [c for c, t in frame.schema.items() if not isinstance(t, pl.List)]
    return frame.sort(plain, nulls_last=True)


def test_small_budget_gives_several_partitions_and_the_same_tables(staged_warehouse,
                                                                   tmp_path, monkeypatch):
    import shutil

    whole_path, split_path = tmp_path / "whole.duckdb", tmp_path / "split.duckdb"
    shutil.copy(staged_warehouse, whole_path)
    shutil.copy(staged_warehouse, split_path)
    with duckdb.connect(str(whole_path)) as con:
        whole_parts = plan_partitions(con)
    assert len(whole_parts) == 1  # the default budget holds a few hundred patients
    whole = derived_tables(whole_path, whole_parts)

    # The smallest budget (256 MiB), and rows as heavy as 3.5 times the Polars share of it
    # in all: a few hundred patients then need 4 partitions, as a large registry would.
    monkeypatch.setenv("OLIGO_MEMORY_BUDGET_MB", "256")
    with duckdb.connect(str(split_path)) as con:
        rows = staging_rows(con)
        monkeypatch.setattr(patient_partitions, "BYTES_PER_STAGING_ROW",
                            int(3.5 * 128 * patient_partitions.MIB / rows))
        split_parts = plan_partitions(con)
    assert len(split_parts) == 4
    split = derived_tables(split_path, split_parts)

    assert whole["omd_episodes"].height > 50  # enough episodes to spread over partitions
    for name, frame in whole.items():
        assert_frame_equal(split[name], frame, check_row_order=True), name


def test_partition_count_follows_budget_and_batch_size():
    rows_1m = 25_600_000  # staging rows of a generated 1,000,000-patient batch
    assert partition_count(rows_1m // 100, 4096) == 1
    assert partition_count(rows_1m, 1024) == 29  # the budget decides
    # A large budget: the row cap decides (100,000 patients: 3 partitions, not 1).
    assert partition_count(rows_1m // 10, 4096) == 3
    assert partition_count(rows_1m, 4096) == 21
    assert partition_count(rows_1m, 8192) == 21
    assert partition_count(1_250_000, 1 << 20) == 1
    assert partition_count(1_250_001, 1 << 20) == 2
    assert partition_count(0, 256) == 1


def test_later_steps_get_the_rows_and_types_the_earlier_tables_hold(staged_warehouse, tmp_path):
    """In one pass, the treatment and outcome steps are handed the earlier steps' frames
    instead of reading their tables back: the same rows (sorted: some tables' row order is
    not fixed) and the same types as the tables written from them."""
    import shutil

    from pipelines.assets.patient_partitions import Partition, PartitionReader
    from pipelines.clinical import steps
    from pipelines.marts_catalog import MARTS_BY_NAME

    path = tmp_path / "split.duckdb"
    shutil.copy(staged_warehouse, path)
    parts = [Partition(k, 2) for k in range(2)]
    upstream = steps.union_columns(steps.TREATMENT_UPSTREAM, steps.OUTCOME_UPSTREAM)
    with duckdb.connect(str(path)) as con:
        clinical.derive_clinical_tables(con, BATCH, DEFAULT_PARAMETERS, parts)
        reader = PartitionReader(con, parts)
        for part in parts:
            derived = steps.derive_partition(clinical.read_staging(reader, part, CUTOFF),
                                             CUTOFF, DEFAULT_PARAMETERS)
            handed = next(derived) | next(derived)  # episode and treatment frames
            for name, columns in upstream.items():
                table = reader.read(MARTS_BY_NAME[name].layer, {name: columns}, part)[name]
                frame = handed[name].select(columns)
                assert frame.schema == table.schema, name
                assert_frame_equal(_sorted(frame), _sorted(table)), name


def _table_before(path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA clinical; CREATE TABLE clinical.x AS SELECT 'before' AS v")


def _rows(path) -> list:
    with duckdb.connect(str(path)) as con:
        return con.execute("SELECT * FROM clinical.x").fetchall()


def test_an_append_failing_on_the_worker_leaves_the_tables_as_they_were(tmp_path):
    from pipelines.assets.patient_partitions import writing

    path = tmp_path / "w.duckdb"
    _table_before(path)
    with (duckdb.connect(str(path)) as con, pytest.raises(duckdb.BinderException),
          writing(con, {"x": "clinical"}) as out):
        out.append({"x": pl.DataFrame({"v": ["new"]})})  # replaces the table
        out.append({"x": pl.DataFrame({"not_a_column": [1]})})  # fails on the worker
    assert _rows(path) == [("before",)]


def test_a_derivation_failing_while_appends_are_queued_leaves_the_tables_as_they_were(
        tmp_path):
    from pipelines.assets.patient_partitions import writing

    path = tmp_path / "w.duckdb"
    _table_before(path)
    with (duckdb.connect(str(path)) as con, pytest.raises(RuntimeError, match="derivation"),
          writing(con, {"x": "clinical"}) as out):
        out.append({"x": pl.DataFrame({"v": ["new"] * 100_000})})
        raise RuntimeError("derivation failed")  # the worker may still be appending
    assert _rows(path) == [("before",)]
    # the queue is committed when nothing fails
    with duckdb.connect(str(path)) as con, writing(con, {"x": "clinical"}) as out:
        out.append({"x": pl.DataFrame({"v": ["new"]})})
        out.append({"x": pl.DataFrame({"v": ["newer"]})})
    assert _rows(path) == [("new",), ("newer",)]

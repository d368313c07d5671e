"""Patient partitions of the clinical derivation: how many, what each reads, how its rows
are written.

The derivation's memory grows with the rows it holds, so the registry is cut into hash
buckets of `patient_id` (every rule looks at one patient at a time:
`pipelines/clinical/steps.py`). Each partition's staging is read from DuckDB once with a
filter (`hash(patient_id) % n = k`), its three stages derived, and every table appended;
nothing holds the whole batch. The number of partitions follows from the memory budget and
the batch's size (docs/benchmarks.md, "Memory"):

    n = max(ceil(staging rows x BYTES_PER_STAGING_ROW / (budget MiB x (1 - DuckDB share))),
            ceil(staging rows / MAX_ROWS_PER_PARTITION))

The derivation's tables are written in one transaction per database: the marts in the
working snapshot, the `clinical.*` tables in the warehouse (a DuckDB transaction writes one
database; pipelines/working_snapshot.py). A derivation that fails part way leaves every table
as it was before it; only a failure between the two commits (the marts committed, the
clinical tables not) leaves them apart, and the run fails before anything is published.
"""

from __future__ import annotations

import contextlib
import math
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import polars as pl

from pipelines.contract import TABLES
from pipelines.settings import DUCKDB_SHARE_OF_BUDGET, memory_budget_mb
from pipelines.side_by_side import cursor_of
from pipelines.sql_quoting import quote_ident
from pipelines.working_snapshot import writes_to_snapshot

# Peak memory of the clinical derivation's frames per staging row of the partition it
# derives (~240 B measured at 100,000 patients, docs/benchmarks.md), with a 2.5x margin.
BYTES_PER_STAGING_ROW = 600
# At most this many staging rows in one partition, however large the budget: beside the
# frames the process keeps DuckDB's buffers and Dagster resident (~850 MiB at 100,000
# patients), so a large budget must not let one partition hold a whole national batch. At
# 100,000 patients (2.56 M rows) one partition peaked at 1,508-1,548 MiB, two at 1,272 MiB in
# the same time (docs/benchmarks.md, Memory). The one-pass derivation also holds a
# partition's later-stage tables until the end of the transaction: two partitions then
# peaked at 1,340-1,380 MiB, three at 1,160-1,210 MiB in the same CPU time
# (docs/benchmarks.md, "Clinical steps in one pass").
MAX_ROWS_PER_PARTITION = 1_250_000
MIB = 1 << 20


@dataclass(frozen=True)
class Partition:
    """Bucket `index` of `count` hash buckets of patient_id."""

    index: int
    count: int


def partition_count(staging_rows: int, budget_mb: int) -> int:
    """Partitions needed so that one partition's frames fit the budget's share for Polars and
    no partition holds more than MAX_ROWS_PER_PARTITION rows."""
    frames_bytes = budget_mb * (1 - DUCKDB_SHARE_OF_BUDGET) * MIB
    by_budget = math.ceil(staging_rows * BYTES_PER_STAGING_ROW / frames_bytes)
    return max(1, by_budget, math.ceil(staging_rows / MAX_ROWS_PER_PARTITION))


def staging_rows(con: duckdb.DuckDBPyConnection) -> int:
    union = " UNION ALL ".join(f"SELECT count(*) AS n FROM staging.{quote_ident(t.name)}"
                               for t in TABLES)
    return int(con.execute(f"SELECT sum(n) FROM ({union})").fetchone()[0])


def plan_partitions(con: duckdb.DuckDBPyConnection, budget_mb: int | None = None,
                    ) -> list[Partition]:
    n = partition_count(staging_rows(con), budget_mb or memory_budget_mb())
    return [Partition(k, n) for k in range(n)]


class PartitionReader:
    """Reads the partitions' rows of tables (only the listed columns, through Arrow).

    With several partitions, each read scans the table with the bucket filter
    (`hash(patient_id) % n = k`): a scan of the few columns the derivation reads is cheaper
    than copying every table into a temporary one ordered by bucket, which at 1,000,000
    patients sorted and spilled tens of millions of rows a step (docs/benchmarks.md)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, parts: list[Partition]):
        self.con = con
        self.count = len(parts)

    def read(self, schema: str, columns: dict[str, tuple[str, ...]], part: Partition,
             ) -> dict[str, pl.DataFrame]:
        frames = {}
        for table, cols in columns.items():
            select = ", ".join(quote_ident(c) for c in cols)
            sql = f"SELECT {select} FROM {quote_ident(schema)}.{quote_ident(table)}"
            if self.count > 1:
                sql += f" WHERE hash(patient_id) % {self.count} = {part.index}"
            frames[table] = pl.from_arrow(self.con.sql(sql).to_arrow_table())
        return frames


class TableAppender:
    """Writes tables a frame at a time: the first frame of a table replaces it, the next
    ones are appended (by column name). `connections` maps a layer to the connection that
    writes it (default: `con`)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, layers: dict[str, str],
                 connections: dict[str, duckdb.DuckDBPyConnection] | None = None):
        self.con = con
        self.layers = layers
        self.connections = connections or {}
        self.started: set[str] = set()

    def append(self, frames: dict[str, pl.DataFrame]) -> None:
        for name, frame in frames.items():
            layer = self.layers[name]
            con = self.connections.get(layer, self.con)
            target = f"{quote_ident(layer)}.{quote_ident(name)}"
            view = "frame_" + uuid.uuid4().hex[:8]
            con.register(view, frame.to_arrow())
            try:
                if name in self.started:
                    con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {view}")
                else:
                    if layer not in self.connections:  # the snapshot has its schemas
                        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(layer)}")
                    con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {view}")
                    self.started.add(name)
            finally:
                con.unregister(view)


class QueuedAppender:
    """A TableAppender on one worker thread: appends run in the order given while the caller
    derives the next frames, so DuckDB's inserts fill the core Polars leaves idle
    (docs/benchmarks.md, "Clinical steps in one pass"). The connection belongs to the worker
    until `wait()`; the caller reads on a cursor of its own meanwhile."""

    def __init__(self, appender: TableAppender):
        self.appender = appender
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="table-appender")
        self.pending: list[Future] = []

    def append(self, frames: dict[str, pl.DataFrame]) -> None:
        failed = next((f for f in self.pending if f.done() and f.exception()), None)
        if failed is not None:
            self.wait()  # stop deriving: the failure is raised once the worker is idle
        self.pending.append(self.pool.submit(self.appender.append, frames))

    def wait(self) -> None:
        """Every queued append done (the connection idle again); raises the first failure."""
        done, self.pending = self.pending, []
        errors = [f.exception() for f in done]  # each waits for its append
        first = next((e for e in errors if e is not None), None)
        if first is not None:
            raise first


@contextlib.contextmanager
def writing(con: duckdb.DuckDBPyConnection, layers: dict[str, str],
            ) -> Iterator[QueuedAppender]:
    """A QueuedAppender inside one transaction per database written (the working
    snapshot's layers on a cursor of their own), committed when the block ends normally and
    every append is done, the snapshot first; rolled back, once the worker is idle, on any
    failure."""
    in_snapshot = sorted({layer for layer in layers.values() if writes_to_snapshot(con, layer)})
    snapshot = cursor_of(con) if in_snapshot else None
    transactions = [c for c in (snapshot, con) if c is not None]
    queue = QueuedAppender(TableAppender(con, layers, dict.fromkeys(in_snapshot, snapshot)))
    try:
        for transaction in transactions:
            transaction.begin()
        try:
            yield queue
            queue.wait()
        except BaseException:
            with contextlib.suppress(Exception):
                queue.wait()
            for transaction in transactions:
                with contextlib.suppress(duckdb.Error):
                    transaction.rollback()
            raise
        for position, transaction in enumerate(transactions):
            try:
                transaction.commit()
            except BaseException:
                for later in transactions[position + 1:]:
                    with contextlib.suppress(duckdb.Error):
                        later.rollback()
                raise
    finally:
        queue.pool.shutdown()
        if snapshot is not None:
            snapshot.close()

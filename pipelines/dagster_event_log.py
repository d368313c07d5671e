"""Dagster's SQLite event log, kept open: the same files and tables as Dagster's default
(`<DAGSTER_HOME>/history/runs/<run_id>.db` and `index.db`), written at a fraction of the cost.

Dagster's own SQLite event log opens a new engine for every read and write and closes it
after: a run of `process_batch` stores ~250 events through ~1,000 connections, and closing
the last connection to a WAL database checkpoints it with an fsync, ~10 ms each on this
disk (docs/benchmarks.md, Fixed cost). Here each shard keeps one pooled connection (a few
shards at most, least recently used closed first) with `synchronous=NORMAL`, SQLite's
recommended setting for WAL: a commit no longer waits for the disk, the database cannot be
corrupted by a crash, and a power cut may lose only the last events (the run report in
`ops.runs` is the record a user reads; Dagster's run storage is unchanged).

One thing the kept connection changes: committed events stay in the `-wal` file until a
checkpoint, and Dagster's UI watches the `.db` file to stream a running run's log. Every
stored event therefore touches that file's timestamp, which wakes the watcher (it reads the
new events from the WAL like any reader).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator

import sqlalchemy as sa
from dagster._config import StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)
from dagster._serdes import ConfigurableClassData

KEPT_SHARDS = 4  # the running run's shard and the index, plus a few a UI reads
BUSY_TIMEOUT_SECONDS = 30  # as Dagster's own SQLite storage
EVENT_LOG_DIR = ("history", "runs")  # where Dagster's default SQLite storage keeps it


def _fast_commits(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class KeptSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` with one kept connection per shard (see the module text).

    Configured in dagster.yaml by pipelines/dagster_home.py with the Dagster home folder;
    the event log lives where Dagster's default storage puts it, so an instance switched to
    this class keeps its history."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._home = os.path.abspath(base_dir)
        self._engines: OrderedDict[str, sa.Engine] = OrderedDict()
        self._engines_lock = threading.Lock()
        self._tables_seen: set[str] = set()
        super().__init__(os.path.join(self._home, *EVENT_LOG_DIR), inst_data=inst_data)
        self._inst_data = inst_data

    @classmethod
    def config_type(cls):
        return {"base_dir": StringSource}

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> KeptSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> sa.Engine:
        with self._engines_lock:
            engine = self._engines.pop(shard, None)
            if engine is None:
                engine = sa.create_engine(
                    self.conn_string_for_shard(shard), pool_size=1, max_overflow=2,
                    connect_args={"timeout": BUSY_TIMEOUT_SECONDS})
                sa.event.listen(engine, "connect", _fast_commits)
            self._engines[shard] = engine
            while len(self._engines) > KEPT_SHARDS:
                self._engines.popitem(last=False)[1].dispose()
            return engine

    @contextlib.contextmanager
    def _connect(self, shard: str) -> Iterator[sa.Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        """Dagster asks this a few hundred times a run (once per dynamic-partition lookup),
        each time through a new engine; a table, once there, stays."""
        if table_name in self._tables_seen:
            return True
        engine = self._engine(INDEX_SHARD_NAME)  # no _db_lock: asked inside _connect too
        with engine.connect() as conn:
            found = bool(engine.dialect.has_table(conn, table_name))
        if found:
            self._tables_seen.add(table_name)
        return found

    def store_event(self, event) -> None:
        super().store_event(event)
        with contextlib.suppress(OSError):  # wake the UI's watcher of this run's log
            os.utime(self.path_for_shard(event.run_id))

    def _close_engines(self) -> None:
        with self._engines_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        self._close_engines()
        self._tables_seen.clear()  # the shard files are deleted: no connection may outlive them
        super().wipe()

    def dispose(self) -> None:
        self._close_engines()
        super().dispose()

    def upgrade(self) -> None:
        self._close_engines()
        self._tables_seen.clear()
        super().upgrade()


"""Connections to the DuckLake and the list of its batch snapshots.

Every publish is one DuckLake commit by author `oligo` whose extra info is the batch's
provenance (JSON); that is how a snapshot id is tied to a batch without a table of our own.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.lake.config import LakeMisconfigured, LakeTarget
from pipelines.lake.extensions import load_lake_extensions
from pipelines.sql_quoting import quote_literal

LAKE = "lake"  # the alias the lake is attached under, in every connection
AUTHOR = "oligo"
BASE_CONFIG = {
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "allow_community_extensions": False,
}


class LakeUnavailable(Exception):
    """The catalog cannot be reached or attached; the message says why."""


@dataclass(frozen=True)
class BatchSnapshot:
    snapshot_id: int
    name: str  # the batch id, or `<batch>.sensitivity-<set>` like the embedded frozen files
    batch_id: str
    data_cutoff_date: dt.date | None
    parameter_set: str
    published_at: dt.datetime | None


def snapshot_name(batch_id: str, parameter_set: str) -> str:
    if parameter_set == "default":
        return batch_id
    return f"{batch_id}.sensitivity-{parameter_set.split(':')[0]}"


@contextlib.contextmanager
def lake_connection(
    target: LakeTarget,
    *,
    writer: bool = False,
    snapshot_id: int | None = None,
    config: dict | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with the lake attached as `lake`: the publisher's read-write
    catalog (creating the data folder), or a reader's read-only one, pinned to
    `snapshot_id` when given. Closed on exit."""
    con = duckdb.connect(":memory:", config=BASE_CONFIG | (config or {}))
    try:
        load_lake_extensions(con)
        if writer:
            target.data_path.mkdir(parents=True, exist_ok=True)
            catalog = target.catalog
            options = f"DATA_PATH {quote_literal(str(target.data_path) + '/')}"
        else:
            catalog = target.reader_catalog
            options = "READ_ONLY" + (f", SNAPSHOT_VERSION {int(snapshot_id)}"
                                     if snapshot_id is not None else "")
        try:
            con.execute(f"ATTACH {quote_literal('ducklake:postgres:' + catalog)} AS {LAKE} "
                        f"({options})")
        except duckdb.Error as exc:
            text = str(exc)
            if "does not match existing data path" in text:
                raise LakeMisconfigured(
                    f"OLIGO_LAKE_DATA_PATH={target.data_path} is not the data path this "
                    f"catalog was created with: {text.splitlines()[0]}") from exc
            raise LakeUnavailable(f"the DuckLake catalog ({catalog}) cannot be attached: "
                                  f"{text.splitlines()[0]}") from exc
        yield con
    finally:
        con.close()


def data_path(con: duckdb.DuckDBPyConnection) -> Path:
    """The data folder recorded in the attached catalog (what readers may read)."""
    row = con.execute(
        f"SELECT value FROM {LAKE}.options() WHERE option_name = 'data_path'"
    ).fetchone()
    return Path(row[0])


def batch_snapshots(con: duckdb.DuckDBPyConnection) -> list[BatchSnapshot]:
    """Every publish commit of the attached lake, oldest first."""
    rows = con.execute(
        f"SELECT snapshot_id, commit_extra_info FROM {LAKE}.snapshots() "
        "WHERE author = ? AND commit_extra_info IS NOT NULL ORDER BY snapshot_id",
        [AUTHOR],
    ).fetchall()
    snapshots = []
    for snapshot_id, extra in rows:
        info = json.loads(extra)
        snapshots.append(BatchSnapshot(
            snapshot_id=snapshot_id,
            name=snapshot_name(info["batch_id"], info["parameter_set"]),
            batch_id=info["batch_id"],
            data_cutoff_date=_date(info.get("data_cutoff_date")),
            parameter_set=info["parameter_set"],
            published_at=_timestamp(info.get("published_at")),
        ))
    return snapshots


def frozen_snapshots(snapshots: list[BatchSnapshot]) -> dict[str, BatchSnapshot]:
    """Name → its latest snapshot (a replaced batch's newest publish wins)."""
    return {s.name: s for s in snapshots}  # oldest first, so later ones overwrite


def current_snapshot(snapshots: list[BatchSnapshot]) -> BatchSnapshot | None:
    """`current`: the latest batch by cut-off, ties by publish time, default parameters only
    (the same rule as the embedded target's ops.batches)."""
    candidates = [s for s in frozen_snapshots(snapshots).values() if s.parameter_set == "default"]
    if not candidates:
        return None
    return max(candidates, key=lambda s: (s.data_cutoff_date or dt.date.min,
                                          s.published_at or dt.datetime.min, s.snapshot_id))


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _timestamp(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None

"""Atomic publishing: write a complete new DuckDB file next to the target, make it
read-only, then `os.replace` it into place. Readers that opened the old file keep reading
it; new readers see the whole new one; nobody ever sees half a file.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb

from pipelines.faults import fault_point
from pipelines.sql_quoting import quote_ident, quote_literal


def temporary_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")


def remove_stale_temporaries(folder: Path) -> None:
    """Leftovers of a run that was killed while publishing."""
    if folder.exists():
        for stale in folder.glob(".*.tmp"):
            stale.unlink(missing_ok=True)
        for stale in folder.glob(".*.tmp.wal"):
            stale.unlink(missing_ok=True)


def write_database_copy(
    source: duckdb.DuckDBPyConnection,
    target_tmp: Path,
    tables: Iterable[tuple[str, str]],
    *,
    docs: Mapping[str, Mapping] | None = None,
    extra_statements: Iterable[tuple[str, list]] = (),
) -> None:
    """Copy `(schema, table)` pairs from the source connection into a new file at
    `target_tmp`, with COMMENT ON from `docs[table]` = {description, grain, columns}."""
    alias = "publish_" + uuid.uuid4().hex[:8]
    source.execute(f"ATTACH {quote_literal(str(target_tmp))} AS {alias}")
    try:
        schemas = {schema for schema, _ in tables}
        for schema in sorted(schemas):
            source.execute(f"CREATE SCHEMA IF NOT EXISTS {alias}.{quote_ident(schema)}")
        for schema, table in tables:
            qualified = f"{quote_ident(schema)}.{quote_ident(table)}"
            source.execute(f"CREATE TABLE {alias}.{qualified} AS SELECT * FROM {qualified}")
            _comment(source, f"{alias}.{qualified}", (docs or {}).get(table))
        for sql, params in extra_statements:
            source.execute(sql.replace("{db}", alias), params)
    finally:
        source.execute(f"DETACH {alias}")


def _comment(con: duckdb.DuckDBPyConnection, qualified: str, doc: Mapping | None) -> None:
    if not doc:
        return
    text = doc.get("description", "")
    if doc.get("grain"):
        text = f"{text} Grain: {doc['grain']}.".strip()
    con.execute(f"COMMENT ON TABLE {qualified} IS {quote_literal(text)}")
    existing = {
        row[0]
        for row in con.execute(f"SELECT * FROM {qualified} LIMIT 0").description or []
    }
    for column, description in doc.get("columns", {}).items():
        if column in existing:
            con.execute(
                f"COMMENT ON COLUMN {qualified}.{quote_ident(column)} IS "
                f"{quote_literal(description)}"
            )


def seal(tmp: Path) -> None:
    """Flush to disk and make read-only before the swap."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o444)


def swap_into_place(tmp: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, target)
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def publish_files(prepared: list[tuple[Path, Path]]) -> None:
    """Swap several prepared (tmp, target) files, in order; the fault point sits between
    preparing and swapping, where a crash must leave every published file untouched."""
    for tmp, _ in prepared:
        seal(tmp)
    fault_point("publish")
    for tmp, target in prepared:
        swap_into_place(tmp, target)

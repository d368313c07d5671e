"""Search a whole data folder for values: every file's bytes, and every text column of every
table of every DuckDB file (DuckDB compresses strings, so its bytes alone prove nothing)."""

from __future__ import annotations

from pathlib import Path

import duckdb


def _duckdb_hits(path: Path, needles: list[str]) -> list[str]:
    hits = []
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute(
            "SELECT table_catalog, table_schema, table_name, column_name FROM "
            "information_schema.columns WHERE table_catalog = current_database() "
            "AND data_type = 'VARCHAR'").fetchall()
        for catalog, schema, table, column in columns:
            condition = " OR ".join(f'contains("{column}", ${i + 1})' for i in range(len(needles)))
            count = con.execute(f'SELECT count(*) FROM "{catalog}"."{schema}"."{table}" WHERE {condition}',
                                needles).fetchone()[0]
            if count:
                hits.append(f"{path.name}: {schema}.{table}.{column} ({count} rows)")
    return hits


def find_values(home: Path, needles: list[str], skip: tuple[Path, ...] = ()) -> list[str]:
    """Where any needle occurs under `home`, outside `skip` (files or folders)."""
    encoded = [n.encode() for n in needles]
    hits = []
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        if any(path == s or s in path.parents for s in skip):
            continue
        data = path.read_bytes()
        hits += [f"{path.relative_to(home)}: bytes of {n!r}" for n, e in zip(needles, encoded,
                                                                          strict=True) if e in data]
        if path.suffix == ".duckdb":
            hits += _duckdb_hits(path, needles)
    return hits

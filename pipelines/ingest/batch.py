"""A batch folder: its files, its manifest, and every batch defect found while reading it
(docs/data-dictionary.md). The rows wait in an in-memory database attached to a DuckDB
connection (the loader's own, or an in-memory one): nothing is written to any database file."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.contract.dialects import Dialect
from pipelines.contract.tables import KNOWN_CONTRACT_VERSIONS, TABLES, TABLES_BY_NAME, Table
from pipelines.ingest.defects import BatchDefect
from pipelines.ingest.files import (
    MAX_MANIFEST_BYTES,
    FileTooLarge,
    UnsafeFile,
    entry_kind,
    is_plain_file_name,
    open_regular,
)
from pipelines.ingest.identifiers import screen_identifiers
from pipelines.ingest.readers import FORMATS, TableFile, UnreadableFile, read_table_file
from pipelines.settings import duckdb_memory_limit
from pipelines.side_by_side import run_side_by_side
from pipelines.sql_quoting import quote_ident

MANIFEST = "manifest.json"
# Whitespace as Polars' strip_chars removes it (Unicode White_Space).
WHITESPACE = " \t\n\r\x0b\x0c\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\x85\u1680"
# Files a batch folder may hold besides tables: the manifest, and the synthetic generator's
# answer key (`defects.csv`, which lists the defects it injected; never a table).
NON_TABLE_FILES = (MANIFEST, "defects.csv")


@dataclass(frozen=True)
class Manifest:
    contract_version: str | None
    batch_id: str | None
    registry: str | None
    data_cutoff_date: dt.date | None
    files: dict[str, dict]


@dataclass
class Batch:
    batch_dir: Path
    dialect: Dialect
    connection: duckdb.DuckDBPyConnection  # holds every TableFile.source
    manifest: Manifest | None = None
    tables: dict[str, TableFile] = field(default_factory=dict)  # readable tables only
    defects: list[BatchDefect] = field(default_factory=list)
    # The in-memory database (attached to `connection`) holding the rows: every cursor of
    # the connection sees it, and it never reaches a database file.
    scratch: str | None = None

    def release(self) -> None:
        """Detach the in-memory database of the rows (its tables are gone with it)."""
        if self.scratch is not None:
            with contextlib.suppress(duckdb.Error):
                self.connection.execute(f"DETACH {quote_ident(self.scratch)}")
            self.scratch = None

    @property
    def batch_id(self) -> str:
        if self.manifest is not None and self.manifest.batch_id:
            return self.manifest.batch_id
        return self.batch_dir.name

    @property
    def data_cutoff_date(self) -> dt.date | None:
        """The manifest's cut-off; None means the caller derives it (latest last contact)."""
        return self.manifest.data_cutoff_date if self.manifest else None

    @property
    def ok(self) -> bool:
        return not self.defects

    @property
    def has_identifiers(self) -> bool:
        return any(d.rule_id == "direct_identifier" for d in self.defects)


def open_batch(batch_dir: Path, dialect: Dialect,
               con: duckdb.DuckDBPyConnection | None = None) -> Batch:
    """Discover, read and screen every file of the batch; collect its batch defects.

    The rows go into tables of an in-memory database attached to `con` (the connection that
    will load them, so they are never copied through Python, and every cursor of it can read
    them; `Batch.release` detaches it), or of a new in-memory connection, bounded by the
    pipeline's DuckDB memory limit (beyond it DuckDB spills to its temporary folder)."""
    batch_dir = Path(batch_dir)
    if con is None:
        con = duckdb.connect(":memory:", config={"memory_limit": duckdb_memory_limit()})
    scratch = f"oligo_scratch_{uuid.uuid4().hex[:12]}"
    con.execute(f"ATTACH ':memory:' AS {quote_ident(scratch)}")
    batch = Batch(batch_dir, dialect, con, scratch=scratch)
    files = _discover(batch_dir, batch.defects)
    batch.manifest = _read_manifest(batch_dir, batch.defects)
    # Each file read and screened on a cursor of its own, two side by side (largest first);
    # the defects are listed in file order, as one after another would.
    jobs = [(name, functools.partial(_read_and_screen, path=path, table=TABLES_BY_NAME[name],
                                     dialect=dialect, scratch=scratch))
            for name, path in sorted(files.items(), key=lambda item: -_size(item[1]))]
    read = run_side_by_side(con, jobs, what="the reading of ")
    screened: list[BatchDefect] = []
    for table_name in files:
        table_file, defects = read[table_name]
        if table_file is None:
            batch.defects.extend(defects)
        else:
            batch.tables[table_name] = table_file
            screened.extend(defects)
    batch.defects.extend(screened)
    # A table whose header was refused has no rows to offer.
    batch.tables = {n: tf for n, tf in batch.tables.items() if tf.source is not None}
    if batch.manifest is not None:
        _check_manifest_files(batch, files)
        batch.defects.extend(check_cutoff(batch))
    return batch


def _read_and_screen(con: duckdb.DuckDBPyConnection, path: Path, table: Table,
                     dialect: Dialect, scratch: str) -> tuple[TableFile | None, list[BatchDefect]]:
    """One file into `scratch`: its table file and its defects (header, identifiers), or no
    table file and the defect saying why it cannot be read."""
    try:
        table_file = read_table_file(path, table, dialect, con, scratch)
    except FileTooLarge as exc:
        return None, [BatchDefect("file_too_large", path.name, None, str(exc))]
    except UnsafeFile as exc:
        return None, [BatchDefect("unsafe_file", path.name, None, str(exc))]
    except UnreadableFile as exc:
        return None, [BatchDefect("unreadable_file", path.name, None, str(exc))]
    defects = list(table_file.header.defects)
    if table_file.source is not None:
        defects.extend(screen_identifiers(con, table_file, table))
    return table_file, defects


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _discover(batch_dir: Path, defects: list[BatchDefect]) -> dict[str, Path]:
    """Table name -> its one file; defects for missing, doubled and unknown files."""
    if not batch_dir.is_dir():
        defects.append(BatchDefect("missing_required_file", str(batch_dir), None,
                                   "the batch folder does not exist"))
        return {}
    by_table: dict[str, list[Path]] = {}
    for path in sorted(batch_dir.iterdir()):
        if path.name.startswith("."):
            continue
        # Only regular files are ever opened: a link, pipe or device is refused at once,
        # whatever its name (a pipe would block the reader forever).
        kind = entry_kind(path)
        if kind == "a folder" and not _named_like_a_file(path.name):
            continue  # a sub-folder is not part of the delivery
        if kind is not None:
            defects.append(BatchDefect("unsafe_file", path.name, None, f"it is {kind}"))
            continue
        if path.name in NON_TABLE_FILES:
            continue
        if path.suffix.lower() in FORMATS and path.stem in TABLES_BY_NAME:
            by_table.setdefault(path.stem, []).append(path)
        else:
            defects.append(BatchDefect("unknown_file", path.name))
    for table_name, paths in by_table.items():
        if len(paths) > 1:
            defects.append(BatchDefect("duplicate_table_file", ", ".join(p.name for p in paths),
                                       None, f"table {table_name}"))
    for t in TABLES:
        if t.required_file and t.name not in by_table:
            defects.append(BatchDefect("missing_required_file", f"{t.name}.csv", None,
                                       f"table {t.name}"))
    return {name: paths[0] for name, paths in by_table.items() if len(paths) == 1}


def _named_like_a_file(name: str) -> bool:
    return Path(name).suffix.lower() in FORMATS or name in NON_TABLE_FILES


def _read_manifest(batch_dir: Path, defects: list[BatchDefect]) -> Manifest | None:
    path = batch_dir / MANIFEST
    if not os.path.lexists(path) or entry_kind(path) is not None:
        return None  # absent, or refused by _discover as unsafe
    try:
        with open_regular(path, MAX_MANIFEST_BYTES) as handle:
            data = json.loads(handle.read().decode("utf-8-sig"))
        cutoff = data.get("data_cutoff_date")
        manifest = Manifest(
            contract_version=None if data.get("contract_version") is None
            else str(data["contract_version"]),
            batch_id=data.get("batch_id"),
            registry=data.get("registry"),
            data_cutoff_date=dt.date.fromisoformat(cutoff) if cutoff else None,
            files=dict(data.get("files") or {}),
        )
        if not all(isinstance(v, dict) for v in manifest.files.values()):
            raise ValueError("files entries must be objects")
    except FileTooLarge as exc:
        defects.append(BatchDefect("file_too_large", MANIFEST, None, str(exc)))
        return None
    except (ValueError, TypeError, AttributeError, UnsafeFile):
        defects.append(BatchDefect("manifest_invalid", MANIFEST))
        return None
    if manifest.contract_version not in KNOWN_CONTRACT_VERSIONS:
        defects.append(BatchDefect("unknown_contract_version", MANIFEST, None,
                                   f"known: {', '.join(KNOWN_CONTRACT_VERSIONS)}"))
    if manifest.batch_id is not None and manifest.batch_id != batch_dir.name:
        defects.append(BatchDefect("manifest_batch_id", MANIFEST))
    return manifest


def _check_manifest_files(batch: Batch, files: dict[str, Path]) -> None:
    by_name = {tf.file: tf for tf in batch.tables.values()}
    present = {p.name for p in files.values()}
    for name, entry in batch.manifest.files.items():
        if not is_plain_file_name(name):
            batch.defects.append(BatchDefect("unsafe_file", MANIFEST, None,
                                             "the manifest names a file outside the batch "
                                             "folder"))
            continue
        if not os.path.lexists(batch.batch_dir / name):
            batch.defects.append(BatchDefect("manifest_file_missing", name))
            continue
        table_file = by_name.get(name)
        if table_file is None and name not in present:
            continue
        if "sha256" in entry and table_file is not None \
                and str(entry["sha256"]).lower() != table_file.sha256:
            batch.defects.append(BatchDefect("manifest_checksum", name))
        if "rows" in entry and table_file is not None and int(entry["rows"]) != table_file.rows:
            batch.defects.append(BatchDefect("manifest_row_count", name, None,
                                             f"manifest {int(entry['rows'])}, file "
                                             f"{table_file.rows}"))


# A registry export may carry a few rows entered after its cut-off (late data entry): they
# are counted by the `after_cutoff` check and never used (docs/clinical-rules.md section 6).
# A cut-off that many dated values pass is a wrong cut-off (a mistyped year, say): refused.
MAX_SHARE_AFTER_CUTOFF = 0.01
MIN_ROWS_AFTER_CUTOFF_TO_REFUSE = 10  # a tiny batch's one late patient is not a wrong cut-off


def check_cutoff(batch: Batch, today: dt.date | None = None) -> list[BatchDefect]:
    """A manifest cut-off in the future, or before more than MAX_SHARE_AFTER_CUTOFF of the
    batch's complete dates (and at least MIN_ROWS_AFTER_CUTOFF_TO_REFUSE of them), would
    censor wrongly and pin `current` (docs/data-dictionary.md): refused."""
    cutoff = batch.data_cutoff_date
    if cutoff is None:
        return []
    today = today or dt.datetime.now(dt.UTC).date()
    if cutoff > today:
        return [BatchDefect("cutoff_implausible", MANIFEST, "data_cutoff_date",
                            f"{cutoff.isoformat()} is in the future")]
    later, dated = _dates_after(batch, cutoff)
    after = sum(n for _, n in later)
    if after < MIN_ROWS_AFTER_CUTOFF_TO_REFUSE or after <= MAX_SHARE_AFTER_CUTOFF * dated:
        return []
    listed = ", ".join(f"{where}: {n} rows" for where, n in later[:5])
    return [BatchDefect("cutoff_implausible", MANIFEST, "data_cutoff_date",
                        f"{cutoff.isoformat()} is before {after:,} of {dated:,} complete "
                        f"dates ({listed}); at most {MAX_SHARE_AFTER_CUTOFF:.0%} may follow it")]


def _dates_after(batch: Batch, cutoff: dt.date) -> tuple[list[tuple[str, int]], int]:
    """((table.column, rows) with a complete date after the cut-off, most rows first;
    the number of complete dates in the batch). One query per table, side by side."""
    jobs = []
    date_columns: dict[str, list[str]] = {}
    for table_name, table_file in batch.tables.items():
        if table_file.source is None:
            continue
        sources = table_file.column_sources(TABLES_BY_NAME[table_name])
        columns = [(c.name, sources[c.name]) for c in TABLES_BY_NAME[table_name].columns
                   if c.type == "date" and sources[c.name] is not None]
        if not columns:
            continue
        # The dialect's format, on the value stripped of whitespace (as Polars' strip_chars
        # does); the costly strip only where the value as delivered does not parse.
        parsed = [f"CAST(coalesce(try_strptime({quote_ident(src)}, $fmt), try_strptime(trim("
                  f"{quote_ident(src)}, $blanks), $fmt)) AS DATE)" for _, src in columns]
        sql = (f"SELECT {', '.join(f'count(*) FILTER (WHERE {d} > $cutoff)' for d in parsed)}, "
               f"{', '.join(f'count({d})' for d in parsed)} FROM {table_file.source_sql}")
        params = {"blanks": WHITESPACE, "fmt": batch.dialect.date_format, "cutoff": cutoff}
        jobs.append((table_name, functools.partial(_fetch_one, sql=sql, params=params)))
        date_columns[table_name] = [name for name, _ in columns]
    counted = run_side_by_side(batch.connection, jobs, what="the cut-off check of ")
    found = []
    dated = 0
    for table_name, columns in date_columns.items():
        counts = counted[table_name]
        after, total = counts[:len(columns)], counts[len(columns):]
        found += [(f"{table_name}.{name}", int(n)) for name, n in
                  zip(columns, after, strict=True) if n]
        dated += sum(int(n) for n in total)
    return sorted(found, key=lambda item: (-item[1], item[0])), dated


def _fetch_one(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> tuple:
    return con.execute(sql, params).fetchone()


def rows_read_per_table(batch_dir: Path, dialect: Dialect) -> dict[str, int]:
    """Rows of every table file that can be read (for the counts of a refused run)."""
    batch = open_batch(batch_dir, dialect)
    return {name: table_file.rows for name, table_file in batch.tables.items()}

"""A batch folder: its files, its manifest, and every batch defect found while reading it
(registry-export.md sections 1 and 4). Nothing is written anywhere."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.contract.dialects import Dialect
from pipelines.contract.tables import KNOWN_CONTRACT_VERSIONS, TABLES, TABLES_BY_NAME
from pipelines.ingest.defects import BatchDefect
from pipelines.ingest.identifiers import screen_identifiers
from pipelines.ingest.readers import FORMATS, TableFile, UnreadableFile, read_table_file

MANIFEST = "manifest.json"
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
    manifest: Manifest | None = None
    tables: dict[str, TableFile] = field(default_factory=dict)  # readable tables only
    defects: list[BatchDefect] = field(default_factory=list)

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


def open_batch(batch_dir: Path, dialect: Dialect) -> Batch:
    """Discover, read and screen every file of the batch; collect its batch defects."""
    batch_dir = Path(batch_dir)
    batch = Batch(batch_dir, dialect)
    files = _discover(batch_dir, batch.defects)
    batch.manifest = _read_manifest(batch_dir, batch.defects)
    with duckdb.connect(":memory:") as reader:
        for table_name, path in files.items():
            try:
                table_file = read_table_file(path, TABLES_BY_NAME[table_name], dialect, reader)
            except UnreadableFile as exc:
                batch.defects.append(BatchDefect("unreadable_file", path.name, None, str(exc)))
                continue
            batch.tables[table_name] = table_file
    for table_file in batch.tables.values():
        batch.defects.extend(table_file.header.defects)
        if table_file.frame is not None:
            batch.defects.extend(screen_identifiers(table_file.frame, table_file.file))
    # A table whose header was refused has no rows to offer.
    batch.tables = {n: tf for n, tf in batch.tables.items() if tf.frame is not None}
    if batch.manifest is not None:
        _check_manifest_files(batch, files)
    return batch


def _discover(batch_dir: Path, defects: list[BatchDefect]) -> dict[str, Path]:
    """Table name -> its one file; defects for missing, doubled and unknown files."""
    if not batch_dir.is_dir():
        defects.append(BatchDefect("missing_required_file", str(batch_dir), None,
                                   "the batch folder does not exist"))
        return {}
    by_table: dict[str, list[Path]] = {}
    for path in sorted(batch_dir.iterdir()):
        if path.name.startswith(".") or path.name in NON_TABLE_FILES or path.is_dir():
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


def _read_manifest(batch_dir: Path, defects: list[BatchDefect]) -> Manifest | None:
    path = batch_dir / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
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
    except (ValueError, TypeError, AttributeError):
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
        if not (batch.batch_dir / name).is_file():
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
